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
// the extended rules itself, as gitleaks' extend does: a rule of the file
// with a base rule's id is merged into it field by field (description,
// entropy, secret group, regex and path replace the base's when set;
// tags, keywords and allowlists are added), so a rule that only adds an
// allowlist is allowed; [extend] disabledRules drops base rules; the
// base's global allowlists are kept. Every rule is validated after the
// merge.
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
	cfg, _, _, err := translate("gitleaks' default rules", config.DefaultConfig, false)
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
	cfg, ext, patches, err := translate(path, string(data), true)
	if err != nil {
		return config.Config{}, err
	}
	if !ext.UseDefault && ext.Path == "" && len(patches) > 0 {
		return config.Config{}, fmt.Errorf("%s: rule %q: no regex and no path, and no extended rule of that id to add to", path, patches[0])
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
	out := merge(base, cfg, ext.DisabledRules)
	for _, id := range out.OrderedRules {
		if r := out.Rules[id]; r.Regex == nil && r.Path == nil {
			return config.Config{}, fmt.Errorf("%s: rule %q: no regex and no path, and no extended rule of that id to add to", path, id)
		}
	}
	return out, nil
}

// placeholderRegex stands in, while gitleaks translates a file, for the
// regex of a rule that has neither regex nor path: one that only adds to
// the extended rule of its id. gitleaks would otherwise refuse it before
// the merge. It is taken out again before the merge.
const placeholderRegex = `imagescan-placeholder-[^\x00-\x{10FFFF}]`

// translate parses one TOML rule file without following its [extend],
// which it returns, with the ids of the rules that only add to an
// extended rule (patches: no regex, no path). With check, every pattern is
// compiled first, so that a bad one is an error naming its rule rather
// than a panic inside gitleaks; gitleaks' own default rules need no check.
func translate(name, toml string, check bool) (config.Config, config.Extend, []string, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(toml)); err != nil {
		return config.Config{}, config.Extend{}, nil, fmt.Errorf("%s: %s", name, oneLine(err.Error()))
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return config.Config{}, config.Extend{}, nil, fmt.Errorf("%s: %s", name, oneLine(err.Error()))
	}
	ext := vc.Extend
	vc.Extend = config.Extend{}
	if check {
		if err := checkPatterns(&vc); err != nil {
			return config.Config{}, config.Extend{}, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	var patches []string
	for i, r := range vc.Rules {
		if r.Regex == "" && r.Path == "" && strings.TrimSpace(r.ID) != "" {
			vc.Rules[i].Regex = placeholderRegex
			patches = append(patches, r.ID)
		}
	}
	cfg, err := vc.Translate()
	if err != nil {
		return config.Config{}, config.Extend{}, nil, fmt.Errorf("%s: %s", name, oneLine(err.Error()))
	}
	for _, id := range patches {
		r := cfg.Rules[id]
		r.Regex = nil
		cfg.Rules[id] = r
	}
	return cfg, ext, patches, nil
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
// disabled rules. A rule of top with a base rule's id is merged into it as
// gitleaks does (see loadRules).
func merge(base, top config.Config, disabled []string) config.Config {
	out := top
	out.Rules = make(map[string]config.Rule, len(base.Rules)+len(top.Rules))
	out.Keywords = make(map[string]struct{}, len(base.Keywords)+len(top.Keywords))
	out.OrderedRules = slices.Clone(top.OrderedRules)
	for id, r := range top.Rules {
		if b, ok := base.Rules[id]; ok && !slices.Contains(disabled, id) {
			r = mergeRule(b, r)
		}
		out.Rules[id] = r
	}
	for _, id := range base.OrderedRules {
		r, ok := base.Rules[id]
		if _, mine := out.Rules[id]; !ok || mine || slices.Contains(disabled, id) {
			continue
		}
		out.Rules[id] = r
		out.OrderedRules = append(out.OrderedRules, id)
	}
	for _, r := range out.Rules {
		for _, k := range r.Keywords {
			out.Keywords[strings.ToLower(k)] = struct{}{}
		}
	}
	out.Allowlists = append(slices.Clone(top.Allowlists), base.Allowlists...)
	return out
}

// mergeRule adds the fields top sets to the rule base, as gitleaks'
// extend does.
func mergeRule(base, top config.Rule) config.Rule {
	if top.Description != "" {
		base.Description = top.Description
	}
	if top.Entropy != 0 {
		base.Entropy = top.Entropy
	}
	if top.SecretGroup != 0 {
		base.SecretGroup = top.SecretGroup
	}
	if top.Regex != nil {
		base.Regex = top.Regex
	}
	if top.Path != nil {
		base.Path = top.Path
	}
	base.Tags = append(slices.Clone(base.Tags), top.Tags...)
	base.Keywords = append(slices.Clone(base.Keywords), top.Keywords...)
	base.Allowlists = append(slices.Clone(base.Allowlists), top.Allowlists...)
	return base
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var errNoRules = errors.New("the rule set has no rules")
