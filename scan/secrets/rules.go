package secrets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/logging"
	glregexp "github.com/zricethezav/gitleaks/v8/regexp"
)

// maxExtendDepth bounds chains of [extend] path = … files.
const maxExtendDepth = 2

// loadRules loads gitleaks' default rule set, or the gitleaks-format TOML
// file at path.
//
// gitleaks' own loader keeps process-wide state: it reads extensions
// through the global viper and counts them in a package variable it never
// resets, so a second extended load in one process silently stops
// extending and skips rule validation. imagescan therefore loads every file
// with a private viper, with its [extend] section taken out, and merges
// the extended rules itself: the file's rules win over the base's by rule
// id, [extend] disabledRules drops base rules, and the base's global
// allowlists are kept.
func loadRules(path string) (config.Config, error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	// gitleaks logs to stderr from library code; imagescan's libraries are
	// silent, so its logger is turned off for the whole process.
	logging.Logger = zerolog.Nop()
	if path == "" {
		return defaultRules()
	}
	return fileRules(path, 0)
}

func defaultRules() (config.Config, error) {
	cfg, _, err := translate("gitleaks' default rules", config.DefaultConfig)
	if err != nil {
		return config.Config{}, err
	}
	cfg.Allowlists = withoutThirdPartyAllowlists(cfg.Allowlists)
	return cfg, nil
}

func fileRules(path string, depth int) (config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return config.Config{}, fmt.Errorf("reading rules: %w", err)
	}
	cfg, ext, err := translate(path, string(data))
	if err != nil {
		return config.Config{}, err
	}
	var base config.Config
	switch {
	case ext.UseDefault && ext.Path != "":
		return config.Config{}, fmt.Errorf("%s: [extend] sets both useDefault and path; choose one", path)
	case ext.UseDefault:
		base, err = defaultRules()
	case ext.Path != "":
		if depth >= maxExtendDepth {
			return config.Config{}, fmt.Errorf("%s: [extend] chains more than %d files", path, maxExtendDepth)
		}
		p := ext.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		base, err = fileRules(p, depth+1)
	default:
		return cfg, nil
	}
	if err != nil {
		return config.Config{}, err
	}
	return merge(base, cfg, ext.DisabledRules), nil
}

// translate parses one TOML rule file without following its [extend],
// which it returns. Every pattern is compiled first, so that a bad one is
// an error naming its rule rather than a panic inside gitleaks.
func translate(name, toml string) (config.Config, config.Extend, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(toml)); err != nil {
		return config.Config{}, config.Extend{}, fmt.Errorf("%s: %s", name, oneLine(err.Error()))
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return config.Config{}, config.Extend{}, fmt.Errorf("%s: %s", name, oneLine(err.Error()))
	}
	ext := vc.Extend
	vc.Extend = config.Extend{}
	if err := checkPatterns(&vc); err != nil {
		return config.Config{}, config.Extend{}, fmt.Errorf("%s: %w", name, err)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return config.Config{}, config.Extend{}, fmt.Errorf("%s: %s", name, oneLine(err.Error()))
	}
	return cfg, ext, nil
}

// checkPatterns compiles every regex and path of the rules and allowlists
// with gitleaks' regexp engine.
func checkPatterns(vc *config.ViperConfig) error {
	for _, r := range vc.Rules {
		if err := compiles("regex", r.Regex); err != nil {
			return fmt.Errorf("rule %q: %w", r.ID, err)
		}
		if err := compiles("path", r.Path); err != nil {
			return fmt.Errorf("rule %q: %w", r.ID, err)
		}
		for _, a := range r.Allowlists {
			if err := allowlistCompiles(a.Regexes, a.Paths); err != nil {
				return fmt.Errorf("rule %q: allowlist: %w", r.ID, err)
			}
		}
		if r.AllowList != nil {
			if err := allowlistCompiles(r.AllowList.Regexes, r.AllowList.Paths); err != nil {
				return fmt.Errorf("rule %q: allowlist: %w", r.ID, err)
			}
		}
	}
	for _, a := range vc.Allowlists {
		if err := allowlistCompiles(a.Regexes, a.Paths); err != nil {
			return fmt.Errorf("global allowlist: %w", err)
		}
	}
	if vc.AllowList != nil {
		if err := allowlistCompiles(vc.AllowList.Regexes, vc.AllowList.Paths); err != nil {
			return fmt.Errorf("global allowlist: %w", err)
		}
	}
	return nil
}

func allowlistCompiles(regexes, paths []string) error {
	for _, p := range regexes {
		if err := compiles("regex", p); err != nil {
			return err
		}
	}
	for _, p := range paths {
		if err := compiles("path", p); err != nil {
			return err
		}
	}
	return nil
}

// compiles reports why pattern does not compile, or nil. The pattern is
// parsed as RE2 syntax in Go first: RE2 itself writes its own lines to the
// process's standard error for a pattern it rejects, which would break
// imagescan's promise of one error line. gitleaks' regexp package only
// offers MustCompile, hence the recover for what the parse lets through.
func compiles(what, pattern string) (err error) {
	if pattern == "" {
		return nil
	}
	if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
		return fmt.Errorf("%s %q does not compile: %s", what, pattern, oneLine(err.Error()))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s %q does not compile: %s", what, pattern, oneLine(fmt.Sprint(r)))
		}
	}()
	glregexp.MustCompile(pattern)
	return nil
}

// merge adds the rules and global allowlists of base to top, except the
// disabled rules and those top redefines.
func merge(base, top config.Config, disabled []string) config.Config {
	out := top
	out.Rules = make(map[string]config.Rule, len(base.Rules)+len(top.Rules))
	out.Keywords = make(map[string]struct{}, len(base.Keywords)+len(top.Keywords))
	out.OrderedRules = slices.Clone(top.OrderedRules)
	for id, r := range top.Rules {
		out.Rules[id] = r
	}
	for k := range top.Keywords {
		out.Keywords[k] = struct{}{}
	}
	for _, id := range base.OrderedRules {
		r, ok := base.Rules[id]
		if _, redefined := out.Rules[id]; !ok || redefined || slices.Contains(disabled, id) {
			continue
		}
		out.Rules[id] = r
		out.OrderedRules = append(out.OrderedRules, id)
		for _, k := range r.Keywords {
			out.Keywords[strings.ToLower(k)] = struct{}{}
		}
	}
	out.Allowlists = append(slices.Clone(top.Allowlists), base.Allowlists...)
	return out
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var errNoRules = errors.New("the rule set has no rules")
