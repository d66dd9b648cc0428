// Package secrets is imagescan's Detector: gitleaks' default rule set plus
// imagescan's own credential parsers and the secret-named variable rule.
//
// Detection: gitleaks' rules run in imagescan's own engine (engine.go),
// which finds what gitleaks' detector finds but reads less. A prefilter
// makes one pass over a file (prefilter.go): in the pure-Go build the
// keyword index finds every rule's keywords; in the fast build one
// Vectorscan database runs every rule's pattern, loosened by hsPattern so
// that it matches wherever RE2 would, and reports where those matches can
// end. Each rule's regex then runs only on windows around those ends or
// keywords, sized from the regex itself (shape.go) so that no match can
// fall outside; encoded secrets are decoded only where a stretch looks
// like base64, hex, percent or unicode escapes (encoded.go). Rules it
// cannot bound run on the whole file. Every match is judged as gitleaks
// judges it. Tests and fuzz targets compare the engine with gitleaks' own
// detector on generated samples of every rule, in both builds. A content
// met again is not scanned again (memo.go): the rules' matches are kept by
// its SHA-256 for the run, and, with a ContentStore, the keys of clean
// contents between runs.
//
// It is the only package that imports gitleaks. gitleaks keeps process-wide
// state (a zerolog logger that writes to stderr, viper-driven config
// loading), so New silences that logger once and loads the rule set under a
// lock with a private viper instance.
//
// Third-party code policy: every file's content is scanned, including
// node_modules, vendor and site-packages, because a private package there
// can hold a real token. gitleaks' default allowlist skips those trees; New
// removes those path entries and keeps the ones for media files and
// wrappers. To keep third-party noise down, matches of the context-free
// generic rules (gitleaks' generic-api-key) inside third-party trees are
// marked suppressed and counted in coverage as "third_party_generic". Known
// token formats and imagescan's credential parsers report everywhere.
package secrets
