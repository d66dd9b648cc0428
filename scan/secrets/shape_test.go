package secrets

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lucasjones/reggen"
)

func TestShapeBoundsAndKeys(t *testing.T) {
	for _, tc := range []struct {
		pattern  string
		keywords []string
		ok       bool
		keyed    bool
		bounded  int
		runs     int
	}{
		{`abc`, []string{"abc"}, true, true, 3, 0},
		{`(?i)token[=:]([a-z0-9]{10,40})`, []string{"token"}, true, true, 46, 0},
		{`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b`, []string{"a3t", "akia", "asia", "abia", "acca"}, true, true, 20, 0},
		{`passw(?:or)?d=(\S{8,})`, []string{"passwd", "password"}, true, true, 9, 1},
		{`\b(pat[[:alnum:]]{14}\.[a-f0-9]{64})\b`, []string{"airtable"}, true, false, 82, 0},
		{`gems.contribsys.com/x`, []string{"gems.contribsys.com"}, true, false, 27, 0}, // . may be 4 bytes
		{`curl.*-u (\S+)`, []string{"curl"}, true, true, 7, 2},
		{`(?i)[k]ey[^\x00-\x7f]`, []string{"key"}, true, true, 7, 0}, // no room for the Kelvin sign; 4 bytes for any rune
		{`-----BEGIN[\s\S]{64,}?KEY-----`, []string{"-----begin"}, false, true, 0, 0},
		{`(?:ab)+`, []string{"ab"}, false, true, 0, 0},
		{`x(`, []string{"x"}, false, false, 0, 0},
	} {
		s := shapeOf(tc.pattern, tc.keywords)
		if s.ok != tc.ok || s.keyed != tc.keyed {
			t.Errorf("%s: ok %v keyed %v, want %v %v", tc.pattern, s.ok, s.keyed, tc.ok, tc.keyed)
			continue
		}
		if tc.ok && (s.bounded != tc.bounded || s.runs != tc.runs) {
			t.Errorf("%s: bounded %d runs %d, want %d %d", tc.pattern, s.bounded, s.runs, tc.bounded, tc.runs)
		}
	}
}

// TestAroundHoldsEveryMatch checks the promise the windows rest on: for
// each keyword inside a match of a rule, the window around it holds the
// match, with a byte to spare on each side. Every windowed default rule
// is tried on random strings its regex generates, set in random filler.
func TestAroundHoldsEveryMatch(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	e := d.engine
	r := rand.New(rand.NewPCG(7, 11))
	checked := map[string]int{}
	for i := range e.rules {
		pr := &e.rules[i]
		if !pr.windowed {
			continue
		}
		g, err := reggen.NewGenerator(pr.rule.Regex.String())
		if err != nil {
			t.Fatalf("%s: %v", pr.rule.RuleID, err)
		}
		for seed := range 40 {
			g.SetSeed(int64(seed))
			text := []byte(asciiFolds.Replace(filler(r) + g.Generate(1+seed%12) + filler(r) + g.Generate(2) + filler(r)))
			checked[pr.rule.RuleID] += checkWindows(t, e, pr, text)
		}
	}
	for i := range e.rules {
		if id := e.rules[i].rule.RuleID; e.rules[i].windowed && checked[id] == 0 {
			t.Errorf("%s: no generated match was checked", id)
		}
	}
}

// asciiFolds replaces the runes that fold to ASCII letters: the engine
// reads texts holding them whole, without windows.
var asciiFolds = strings.NewReplacer("\u017f", "s", "\u212a", "k", "\u0130", "I")

// checkWindows checks every match of the rule in text against the windows
// around the keywords in it, and returns how many it checked.
func checkWindows(t *testing.T, e *engine, pr *plannedRule, text []byte) int {
	t.Helper()
	n := 0
	hits := e.index.find(text, nil)
	for _, m := range pr.rule.Regex.FindAllIndex(text, -1) {
		for _, h := range hits {
			word := e.index.words[h.kw]
			end := h.pos + len(word)
			if h.pos < m[0] || end > m[1] || !contains(pr.keywords, word) {
				continue
			}
			w, ok := pr.shape.around(text, h.pos, end)
			if !ok {
				continue
			}
			n++
			if w.start >= m[0] && m[0] > 0 || w.end <= m[1] && m[1] < len(text) {
				t.Errorf("%s: the window %v around %q at %d does not hold the match %v in %q", pr.rule.RuleID, w, word, h.pos, m, text)
			}
		}
	}
	return n
}

// filler is random text of the bytes code is made of.
func filler(r *rand.Rand) string {
	const alphabet = "abcxyzABCXYZ0189_-./+=:; \t\n\"'`(){}[]<>,@#$%"
	b := make([]byte, r.IntN(300))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func TestMatchesFallsBackToTheWholeTextAtACut(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	r := d.engine.cfg.Rules["npm-access-token"]
	tok := "npm_" + strings.Repeat("aB3dE1", 6)
	// \b holds at a window's start, and $ at its end: matches there are
	// made by the cut, and the whole text has none.
	for _, tc := range []struct {
		text string
		w    span
	}{
		{"x" + tok + " ", span{1, len(tok) + 2}},
		{" " + tok + "x ", span{0, len(tok) + 1}},
	} {
		if got := d.engine.matches(&r, []byte(tc.text), []span{tc.w}); len(got) != 0 {
			t.Errorf("%q in %v: a match made by the cut was kept: %v", tc.text, tc.w, got)
		}
	}
	text := []byte("a = '" + tok + "';")
	if got := d.engine.matches(&r, text, []span{{2, len(text) - 1}}); len(got) != 1 || got[0] != (span{5, 5 + len(tok) + 1}) {
		t.Errorf("a match inside the window gives %v", got)
	}
}
