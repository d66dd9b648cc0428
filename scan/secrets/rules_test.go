package secrets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/finding"
)

const acmeRule = `
[[rules]]
id = "acme-internal-token"
description = "An ACME internal service token."
regex = '''acme_[a-z0-9]{32}'''
keywords = ["acme_"]
`

func writeRules(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func rulesOf(t *testing.T, d *Detector, path, content string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, m := range finding.Best(d.DetectFile(context.Background(), finding.File{Path: path, Content: []byte(content)}), nil) {
		got[m.Secret.Raw()] = m.RuleID
	}
	return got
}

func TestCustomRules(t *testing.T) {
	acme := "acme_" + strings.Repeat("k3x9", 8)
	npm := fakeToken("npm_", 36, 9)
	content := "TOKEN=" + acme + "\n//registry.npmjs.org/:_authToken=" + npm + "\n"
	def, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		toml  string
		want  map[string]string
		rules func(n int) bool
	}{
		"extending the defaults adds a rule": {
			"[extend]\nuseDefault = true\n" + acmeRule,
			map[string]string{acme: "acme-internal-token", npm: "npm-access-token"},
			func(n int) bool { return n == def.Rules()+1 },
		},
		"disabling a default rule": {
			"[extend]\nuseDefault = true\ndisabledRules = [\"npm-access-token\"]\n" + acmeRule,
			map[string]string{acme: "acme-internal-token", npm: "npmrc-auth-token"},
			func(n int) bool { return n == def.Rules() },
		},
		"replacing the defaults keeps imagescan's parsers": {
			acmeRule,
			map[string]string{acme: "acme-internal-token", npm: "npmrc-auth-token"},
			func(n int) bool { return n == 1+ownRules },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := New(WithRules(writeRules(t, "rules.toml", tc.toml)))
			if err != nil {
				t.Fatal(err)
			}
			got := rulesOf(t, d, ".npmrc", content)
			for secret, rule := range tc.want {
				if got[secret] != rule {
					t.Errorf("%s…: rule %q, want %q (all: %v)", secret[:8], got[secret], rule, got)
				}
			}
			if !tc.rules(d.Rules()) {
				t.Errorf("%d rules", d.Rules())
			}
		})
	}
}

func TestCustomRulesExtendAFileAndLoadRepeatedly(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.toml")
	if err := os.WriteFile(base, []byte("[extend]\nuseDefault = true\n"+acmeRule), 0o600); err != nil {
		t.Fatal(err)
	}
	top := filepath.Join(dir, "top.toml")
	if err := os.WriteFile(top, []byte("[extend]\npath = \"base.toml\"\n[[rules]]\nid = \"beta-key\"\nregex = '''beta-[0-9]{12}'''\nkeywords = [\"beta-\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	def, err := New()
	if err != nil {
		t.Fatal(err)
	}
	// gitleaks' own loader stops extending after two extended loads in one
	// process; each of these must still get every rule.
	for i := range 4 {
		d, err := New(WithRules(top))
		if err != nil {
			t.Fatal(err)
		}
		if d.Rules() != def.Rules()+2 {
			t.Fatalf("load %d: %d rules, want the defaults plus two", i, d.Rules())
		}
		got := rulesOf(t, d, "x.txt", "k = beta-918273645501\nacme_"+strings.Repeat("ab12", 8)+"\n")
		if len(got) != 2 {
			t.Fatalf("load %d: found %v", i, got)
		}
	}
}

func TestBadRules(t *testing.T) {
	tests := map[string]struct {
		toml, want string
	}{
		"not TOML":         {"[[rules]\nid = ", "rules.toml: "},
		"bad regex":        {"[[rules]]\nid = \"broken\"\nregex = '''([a-z'''\n", `rules.toml: rule "broken": regex "([a-z" does not compile`},
		"bad path":         {"[[rules]]\nid = \"broken-path\"\npath = '''(*'''\n", `rules.toml: rule "broken-path": path "(*" does not compile`},
		"bad allowlist":    {"[[rules]]\nid = \"r\"\nregex = '''x[0-9]+'''\n[[rules.allowlists]]\nregexes = ['''[z-a]''']\n", `rule "r": allowlist: regex "[z-a]" does not compile`},
		"rule with no id":  {"[[rules]]\nregex = '''x[0-9]+'''\n", "rules.toml: "},
		"both extends":     {"[extend]\nuseDefault = true\npath = \"x.toml\"\n", "sets both useDefault and path"},
		"no rules at all":  {"title = \"empty\"\n", "the rule set has no rules"},
		"a missing extend": {"[extend]\npath = \"nope.toml\"\n", "reading rules: open "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := New(WithRules(writeRules(t, "rules.toml", tc.toml)))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with %q", err, tc.want)
			}
		})
	}
	if _, err := New(WithRules(filepath.Join(t.TempDir(), "missing.toml"))); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestFingerprintIdentifiesTheRules(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("two loads of the default rules have different fingerprints")
	}
	c, err := New(WithRules(writeRules(t, "rules.toml", "[extend]\nuseDefault = true\n"+acmeRule)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Fingerprint() == a.Fingerprint() {
		t.Error("an extra rule kept the fingerprint")
	}
}

// TestCustomRuleAddsToTheDefaultRuleOfItsID: as in gitleaks, a rule with a
// default rule's id that sets only an allowlist is merged into that rule,
// which keeps its regex and keywords; validation runs after the merge.
func TestCustomRuleAddsToTheDefaultRuleOfItsID(t *testing.T) {
	kept, allowed := fakeToken("npm_", 36, 3), fakeToken("npm_", 36, 4)
	toml := "[extend]\nuseDefault = true\n[[rules]]\nid = \"npm-access-token\"\n[[rules.allowlists]]\nregexes = ['''^" + allowed + "$''']\n"
	d, err := New(WithRules(writeRules(t, "rules.toml", toml)))
	if err != nil {
		t.Fatal(err)
	}
	def, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if d.Rules() != def.Rules() {
		t.Errorf("%d rules, want the %d defaults: the rule was added to, not added", d.Rules(), def.Rules())
	}
	got := rulesOf(t, d, "app/config.js", "a = '"+kept+"';\nb = '"+allowed+"';\n")
	if got[kept] != "npm-access-token" {
		t.Errorf("the default rule's regex is gone: %v", got)
	}
	if _, found := got[allowed]; found {
		t.Errorf("the added allowlist does not apply: %v", got)
	}

	_, err = New(WithRules(writeRules(t, "alone.toml", "[[rules]]\nid = \"npm-access-token\"\n[[rules.allowlists]]\nregexes = ['''x''']\n")))
	if err == nil || !strings.Contains(err.Error(), `rule "npm-access-token": no regex and no path`) {
		t.Errorf("a rule with nothing to add to: err = %v", err)
	}
}
