package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/report"

	"github.com/imagescan/imagescan/finding"
)

// Priorities of the rule families, lowest wins (see finding.Match).
const (
	priorityKnownFormat = 0 // a gitleaks rule for one service's token format
	priorityParser      = 1 // imagescan's credential-file parsers
	priorityVariable    = 2 // a secret-named variable: the name says what the value is
	priorityGeneric     = 3 // gitleaks' generic rules
)

// maxDecodeDepth is how many rounds of base64, hex and percent decoding
// gitleaks applies to find encoded secrets; the library default is 0 (none),
// gitleaks' own command line uses 5.
const maxDecodeDepth = 5

// ownRules is the number of rules imagescan adds to gitleaks' rule set.
const ownRules = 4 // npmrc-auth-token, npmrc-auth, npmrc-password, secret-named-variable

// Detector finds secrets with gitleaks' rules and imagescan's parsers. It is
// safe for concurrent use. Build it once with New.
type Detector struct {
	cfg       config.Config // the rule set; gitleaks' own detector on it is the tests' oracle
	engine    *engine
	allowlist []*config.Allowlist
	rules     int
	memo      memo
}

var _ finding.Detector = (*Detector)(nil)

// loadMu serialises rule loading: gitleaks' loader and logger are global.
var loadMu sync.Mutex

// Option configures New.
type Option func(*options) error

type options struct {
	rules    string
	cacheDir string
}

// WithCacheDir names a directory where the fast build keeps its compiled
// Vectorscan database, which takes seconds to build, between runs. A
// cached database that does not load is built again and replaced. By
// default nothing is kept on disk.
func WithCacheDir(dir string) Option {
	return func(o *options) error {
		o.cacheDir = dir
		return nil
	}
}

// WithRules loads the rules from a gitleaks-format TOML file instead of
// gitleaks' defaults: with [extend] useDefault = true it adds to them,
// without it replaces them. imagescan's own parsers run either way. The
// default is gitleaks' default rule set.
func WithRules(path string) Option {
	return func(o *options) error {
		o.rules = path
		return nil
	}
}

// New builds a Detector. Build it once: loading rules compiles a few hundred
// regular expressions.
func New(opts ...Option) (*Detector, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	cfg, err := loadRules(o.rules)
	if err != nil {
		return nil, err
	}
	if len(cfg.Rules) == 0 {
		return nil, errNoRules
	}
	return &Detector{cfg: cfg, engine: newEngine(cfg, o.cacheDir), allowlist: cfg.Allowlists, rules: len(cfg.Rules) + ownRules}, nil
}

// Rules returns the number of rules the Detector runs.
func (d *Detector) Rules() int { return d.rules }

// GitleaksVersion returns the version of the gitleaks module built in.
func GitleaksVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == "github.com/zricethezav/gitleaks/v8" {
			return dep.Version
		}
	}
	return "unknown"
}

// SkipContent implements finding.Detector: files the rule set allowlists by
// path (images, fonts, office documents, …) are not scanned.
func (d *Detector) SkipContent(path string) string {
	for _, a := range d.allowlist {
		if a.PathAllowed(path) {
			return finding.SkipAllowlisted
		}
	}
	return ""
}

// DetectFile implements finding.Detector.
func (d *Detector) DetectFile(ctx context.Context, f finding.File) []finding.Match {
	out := parseCredentialFiles(f.Path, f.Content)
	out = append(out, d.contentMatches(f.Path, f.Content, func() bool { return ctx.Err() != nil }, func() []finding.Match {
		return d.rulesOn(ctx, f.Path, f.Content)
	})...)
	return judge(f.Path, f.Binary, dropCovered(dropExamples(out)))
}

// rulesOn returns what the rules find in content, the file at path:
// gitleaks' rules and the URL passwords.
func (d *Detector) rulesOn(ctx context.Context, path string, content []byte) []finding.Match {
	out := urlCredentials(content, "url-credentials", "")
	for _, gf := range d.engine.detect(ctx, path, content) {
		out = append(out, fromGitleaks(gf))
	}
	return out
}

// DetectVariable implements finding.Detector.
func (d *Detector) DetectVariable(_ context.Context, name, value string) []finding.Match {
	value = unquote(strings.TrimSpace(value))
	if !secretName(name) || notASecret(value) {
		return nil
	}
	return judge("", false, []finding.Match{{
		RuleID:      "secret-named-variable",
		Description: fmt.Sprintf("A value assigned to %s, a name that says it holds a secret.", name),
		Secret:      finding.NewSecret(value),
		Priority:    priorityVariable,
		Severity:    finding.Medium,
	}})
}

func fromGitleaks(gf report.Finding) finding.Match {
	m := finding.Match{
		RuleID:      gf.RuleID,
		Description: gf.Description,
		Line:        gf.StartLine,
		Column:      gf.StartColumn,
		Priority:    priorityKnownFormat,
		Severity:    finding.Critical,
	}
	if !strings.HasPrefix(gf.Match, "file detected: ") {
		m.Secret = finding.NewSecret(gf.Secret)
	}
	if wasDecoded(gf) {
		m.Secret = m.Secret.WithEncoded(gf.Match)
	}
	switch {
	case strings.Contains(gf.RuleID, "generic"), bareHash.MatchString(gf.Secret):
		// A value of hex digits alone is a hash more often than a token:
		// some rules (sourcegraph's, for one) accept any 40-digit hex.
		m.Priority, m.Severity = priorityGeneric, finding.Medium
	case gf.RuleID == "private-key":
		m.Severity = finding.High
		if encryptedKey(gf.Secret) {
			m.Severity = finding.Low
			m.Description = "An encrypted private key: usable by whoever finds its passphrase."
		}
	case m.Secret.IsZero():
		m.Severity = finding.High // a key store flagged by its file name
	}
	return m
}

// wasDecoded reports whether a finding was read out of encoded text, which
// gitleaks' decoder tags "decoded:…"; its Match then holds that text.
func wasDecoded(gf report.Finding) bool {
	return slices.ContainsFunc(gf.Tags, func(t string) bool { return strings.HasPrefix(t, "decoded:") })
}

// bareHash matches a value made of hex digits alone, as long as a hash.
var bareHash = regexp.MustCompile(`^[0-9a-fA-F]{32,128}$`)

// dropExamples removes matches whose value is a documented example key or
// an obvious placeholder: those are never findings.
func dropExamples(ms []finding.Match) []finding.Match {
	out := ms[:0]
	for _, m := range ms {
		if !m.Secret.IsZero() && isPlaceholder(m.Secret.Raw()) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// dropCovered removes the matches of generic rules on lines where a more
// specific rule found a secret: gitleaks' generic rule also fires on the
// base64 "auth" of a docker config or the key of a credential line, whose
// parser reports the decoded secret.
func dropCovered(ms []finding.Match) []finding.Match {
	specific := map[int]bool{}
	for _, m := range ms {
		if m.Priority < priorityGeneric && m.Line > 0 {
			specific[m.Line] = true
		}
	}
	out := ms[:0]
	for _, m := range ms {
		if m.Priority == priorityGeneric && specific[m.Line] {
			continue
		}
		out = append(out, m)
	}
	return out
}

// judge applies the rules that depend on where a match is. In third-party
// trees, and in the binaries OS packages install, context-free matches and
// matches in the packages' own tests, examples and docs are suppressed
// (counted, not reported); so are private keys in those binaries, which
// are libraries' self-test keys. Elsewhere, likely test values are low
// severity. binary says the match is in a binary file's strings.
func judge(path string, binary bool, ms []finding.Match) []finding.Match {
	osBinary := binary && osPackagedBinary(path)
	thirdParty := osBinary || inThirdPartyTree(path)
	for i := range ms {
		m := &ms[i]
		switch {
		case thirdParty && contextFree(*m):
			m.Suppressed = finding.SuppressThirdParty
		case osBinary && m.RuleID == "private-key":
			m.Suppressed = finding.SuppressThirdPartySample
		case thirdParty && isSample(path) && !fromCredentialFile(*m):
			m.Suppressed = finding.SuppressThirdPartySample
		case inTestTree(path) || likelyTestValue(m.Secret.Raw()):
			m.Severity = finding.Low
		}
	}
	return ms
}

// contextFree reports whether a match stands on its pattern alone, with
// nothing around it to say it is a credential: gitleaks' generic rule,
// and passwords in URLs, which documentation is full of.
func contextFree(m finding.Match) bool {
	return m.Priority == priorityGeneric || m.RuleID == "url-credentials"
}

// fromCredentialFile reports whether a match comes from a credential-file
// parser, which reports wherever the file is.
func fromCredentialFile(m finding.Match) bool {
	return m.Priority == priorityParser && m.RuleID != "url-credentials"
}

// Fingerprint identifies the rule set: the same rules, allowlists and
// decoding depth give the same fingerprint. Cached scans are keyed by it.
func (d *Detector) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "imagescan rules|decode %d|own %d\n", maxDecodeDepth, ownRules)
	for _, id := range d.cfg.OrderedRules {
		r := d.cfg.Rules[id]
		fmt.Fprintf(h, "rule %s|%v|%v|%g|%d|%q|%v\n", r.RuleID, r.Regex, r.Path, r.Entropy, r.SecretGroup, r.Keywords, r.SkipReport)
		writeAllowlists(h, r.Allowlists)
	}
	writeAllowlists(h, d.allowlist)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func writeAllowlists(w io.Writer, lists []*config.Allowlist) {
	for _, a := range lists {
		// gitleaks dedupes stop words and commits through a map: sort them.
		stop, commits := slices.Sorted(slices.Values(a.StopWords)), slices.Sorted(slices.Values(a.Commits))
		fmt.Fprintf(w, "allow %d|%s|%v|%v|%q|%q\n", a.MatchCondition, a.RegexTarget, a.Regexes, a.Paths, stop, commits)
	}
}
