package secrets

import "testing"

// TestHSPattern pins how RE2 syntax becomes a looser byte-mode Vectorscan
// pattern: anything that can match a non-ASCII character becomes a run of
// non-ASCII bytes, letters fold in ASCII only, and anchors and word
// boundaries stay.
func TestHSPattern(t *testing.T) {
	for pattern, want := range map[string]string{
		`abc`:           `abc`,
		`(?i)ab`:        `[aA][bB]`,
		`(?i)k`:         `[kK]`,
		`(?i)[a-z]`:     `[A-Za-z]`,
		`\bghp_[0-9]+$`: `\bghp_(?:[0-9])+\z`,
		`(?m)^a\B$`:     `(?m:^)a\B(?m:$)`,
		`\Aab`:          `\Aab`,
		`a.b`:           `a(?:[^\n\x80-\xff]|[\x80-\xff]+)b`,
		`[^a]`:          `(?:[\x00-\x60b-\x7f]|[\x80-\xff]+)`,
		`é`:             `[\x80-\xff]+`,
		`x{2,5}`:        `(?:x){2,5}`,
		`(a|bc)d`:       `(?:(?:a|bc))d`,
	} {
		got, err := hsPattern(pattern)
		if err != nil || got != want {
			t.Errorf("hsPattern(%q) = %q, %v; want %q", pattern, got, err, want)
		}
	}
	if _, err := hsPattern(`[^\x00-\x{10FFFF}]`); err == nil {
		t.Error("a pattern that matches nothing was translated")
	}
}
