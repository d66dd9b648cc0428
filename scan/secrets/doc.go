// Package secrets is imagescan's Detector: gitleaks' default rule set plus
// imagescan's own credential parsers and the secret-named variable rule.
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
