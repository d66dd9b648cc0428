//go:build vectorscan

package secrets

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lucasjones/reggen"
)

// TestVectorscanPlacesEveryMatch checks the promise the fast build rests
// on: wherever a rule's regex matches, RE2 on the whole text, Vectorscan
// reports that match's end (or cannot place the rule, which then runs as
// in the pure-Go build). Texts mix generated matches of every rule with
// non-ASCII text and invalid
// UTF-8, which RE2 reads as U+FFFD and Vectorscan as bytes.
func TestVectorscanPlacesEveryMatch(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	v, ok := d.engine.pre.(*vectorscan)
	if !ok || !strings.HasPrefix(d.Prefilter(), "Vectorscan ") {
		t.Fatalf("the fast build has no Vectorscan prefilter: %s", d.Prefilter())
	}
	if len(v.ruleOf) < len(d.engine.rules)*9/10 {
		t.Errorf("only %d of %d rules have a pattern in the database", len(v.ruleOf), len(d.engine.rules))
	}
	r := rand.New(rand.NewPCG(1, 2))
	noise := []string{" ", "\n", "é", "日本", "\xff", "\xc3", "=", "\"", "key", "token", "_"}
	checked := 0
	for n, pr := range d.engine.rules {
		if pr.rule.Regex == nil || v.looseSet[n] {
			continue
		}
		g, err := reggen.NewGenerator(pr.rule.Regex.String())
		if err != nil {
			t.Fatalf("%s: %v", pr.rule.RuleID, err)
		}
		var b strings.Builder
		for seed := range 12 {
			g.SetSeed(int64(seed))
			sample := g.Generate(1 + seed%8)
			if seed%3 == 1 { // a non-ASCII or invalid byte inside the match
				i := r.IntN(len(sample) + 1)
				sample = sample[:i] + noise[r.IntN(len(noise))] + sample[i:]
			}
			for range 1 + r.IntN(20) {
				b.WriteString(noise[r.IntN(len(noise))])
			}
			b.WriteString(sample)
		}
		text := []byte(b.String())
		if hasFoldingRunes(text) {
			continue // not placed: see TestVectorscanLeavesFoldingTextsToKeywords
		}
		s := d.engine.scratch.Get().(*scratch)
		v.scan(text, s)
		ends := slices.Clone(s.ends[n])
		d.engine.release(s)
		for _, m := range pr.rule.Regex.FindAllIndex(text, -1) {
			checked++
			if len(ends) == 1 && ends[0] < 0 {
				continue
			}
			if !slices.Contains(ends, m[1]) {
				t.Errorf("%s: RE2 matches %q at %d, Vectorscan reports no end there", pr.rule.RuleID, text[m[0]:m[1]], m[1])
			}
		}
	}
	if checked < len(v.ruleOf) {
		t.Errorf("only %d matches checked", checked)
	}
}

// TestVectorscanLeavesFoldingTextsToKeywords: the prefilter folds ASCII
// letters only, so a text holding a rune that folds to one (the Kelvin
// sign, the long s, the dotted capital I) runs every rule whose keyword it
// holds, and finds what gitleaks finds where only RE2's folding matches.
func TestVectorscanLeavesFoldingTextsToKeywords(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		"api_\u212aey = \"Zx8Qp2Lm9Rt4Vw7Yb3Nc6Hd1Jf5Kg0Ts\"\n",
		"tok = \"Lm9Rt4Vw7\"; api_\u212aey = \"Yb3Nc6Hd1Jf5Kg0TsZx8Qp2Rt4Vw7Yb3\"\n",
	} {
		want, got := GitleaksKeys(d, "app/config.py", []byte(text)), EngineKeys(d, "app/config.py", []byte(text))
		if !slices.Equal(want, got) {
			t.Errorf("%q: gitleaks %q, engine %q", text, want, got)
		}
		if len(want) == 0 {
			t.Errorf("%q: gitleaks finds nothing: the test proves nothing", text)
		}
	}
}

// TestVectorscanDatabaseIsCachedOnDisk: a second build of the same rules
// loads the compiled database instead of compiling it, and a corrupt file
// is compiled again and replaced.
func TestVectorscanDatabaseIsCachedOnDisk(t *testing.T) {
	dir := t.TempDir()
	clearDatabases()
	if _, err := New(WithCacheDir(dir)); err != nil {
		t.Fatal(err)
	}
	files, _ := filepathGlob(dir + "/vectorscan-*.db")
	if len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}
	clearDatabases()
	d, err := New(WithCacheDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.engine.pre.(*vectorscan); !ok {
		t.Fatal("the cached database did not load")
	}
	writeFile(t, files[0], "garbage")
	clearDatabases()
	if d, err = New(WithCacheDir(dir)); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.engine.pre.(*vectorscan); !ok {
		t.Fatal("a corrupt cache file was not replaced by a fresh database")
	}
	if data := readFile(t, files[0]); string(data) == "garbage" {
		t.Error("the corrupt cache file was kept")
	}
}

func clearDatabases() {
	databasesMu.Lock()
	defer databasesMu.Unlock()
	clear(databases)
}

func filepathGlob(p string) ([]string, error) { return filepath.Glob(p) }

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzPrefilter compares the fast build's engine, placed by Vectorscan,
// with the same engine run by the pure-Go build's keyword index: the
// prefilter may only save work, never change a finding.
func FuzzPrefilter(f *testing.F) {
	d, err := New()
	if err != nil {
		f.Fatal(err)
	}
	keywordsOnly := newEngine(d.cfg, "")
	keywordsOnly.pre = keywordsOnly.index
	f.Add("const key = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"; // api token\n")
	f.Add("api_\u212aey = \"Zx8Qp2Lm9Rt4Vw7Yb3Nc6Hd1Jf5Kg0Ts\" é \xff ghp_Rk3mZq8WvT2pLx9sNc4YbH7dJf1aGe6uQo0i\n")
	f.Add("token=Z2hwXzFhMkIzYzRENWU2RjdnOGg5aTBKMWsyTDNtNE41bzZQN3E=\n%74oken=%61%62%63%64%65%66%67%68%69%6a%6b%6c\n")
	f.Add("AKIAZ7QWERTYUIOPASDF aws_secret_access_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCY3ExAmpLeKe\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		got := keysOf(d.engine.detect(context.Background(), "fuzz.js", []byte(text)))
		want := keysOf(keywordsOnly.detect(context.Background(), "fuzz.js", []byte(text)))
		if !slices.Equal(want, got) {
			t.Errorf("the prefilter changes the findings of %q\n keyword index: %q\n Vectorscan:    %q", text, want, got)
		}
	})
}

// TestLooseRulesRunAroundTheirKeywords: a rule with no pattern in the
// database (here one whose pattern holds a class that matches nothing,
// which hsPattern refuses) runs around its keywords, which the keyword
// index finds for it, as in the pure-Go build.
func TestLooseRulesRunAroundTheirKeywords(t *testing.T) {
	toml := "[extend]\nuseDefault = true\n[[rules]]\nid = \"widget-key\"\nkeywords = [\"widgetkey\"]\n" +
		"regex = '''widgetkey=(?:([a-z0-9]{16})|[^\\x00-\\x{10FFFF}])'''\n"
	d, err := New(WithRules(writeRules(t, "rules.toml", toml)))
	if err != nil {
		t.Fatal(err)
	}
	v := d.engine.pre.(*vectorscan)
	if !v.keywords || !slices.ContainsFunc(v.loose, func(n int) bool { return d.engine.rules[n].rule.RuleID == "widget-key" }) {
		t.Fatal("the rule has a pattern in the database: the test does not test what it should")
	}
	got := rulesOf(t, d, "app/config.js", "x = 1;\nconst k = \"widgetkey=q8w7e6r5t4y3u2i1\";\n")
	if got["q8w7e6r5t4y3u2i1"] != "widget-key" {
		t.Errorf("found %v, want the loose rule's secret", got)
	}
}
