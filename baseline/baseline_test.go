package baseline

import (
	"strings"
	"testing"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

func TestIgnoreFileSyntax(t *testing.T) {
	s := NewSet()
	err := s.addIgnore(strings.NewReader("# revoked tokens\n\n  0123456789ABCDEF  # INC-7\nfedcba9876543210\n"))
	if err != nil || s.Len() != 2 || s.reasons["0123456789abcdef"] != finding.SuppressIgnore {
		t.Fatalf("err %v, set %v", err, s.reasons)
	}
	for _, bad := range []string{"0123456789abcde\n", "0123456789abcdefg\n", "0123456789abcdeg\n", "npm_4zWH8xMS9BMo\n"} {
		if err := NewSet().addIgnore(strings.NewReader("# ok\n" + bad)); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: %v, want an error naming line 2", bad, err)
		}
	}
}

func TestApplyCountsByReason(t *testing.T) {
	res := &scan.Result{Findings: []finding.Finding{{Fingerprint: "aaaaaaaaaaaaaaaa"}, {Fingerprint: "bbbbbbbbbbbbbbbb"}, {Fingerprint: "cccccccccccccccc"}}}
	s := NewSet()
	s.add("aaaaaaaaaaaaaaaa", finding.SuppressBaseline)
	s.add("bbbbbbbbbbbbbbbb", finding.SuppressIgnore)
	s.add("aaaaaaaaaaaaaaaa", finding.SuppressIgnore) // the baseline, read first, keeps it
	s.Apply(res)
	if len(res.Findings) != 1 || res.Findings[0].Fingerprint != "cccccccccccccccc" || len(res.Suppressed) != 2 {
		t.Fatalf("findings %v, suppressed %v", res.Findings, res.Suppressed)
	}
	if c := res.Coverage.Suppressed; c[finding.SuppressBaseline] != 1 || c[finding.SuppressIgnore] != 1 {
		t.Errorf("counts %v", c)
	}
	if res.Suppressed[0].SuppressedBy != finding.SuppressBaseline {
		t.Errorf("reason %q", res.Suppressed[0].SuppressedBy)
	}
}

func TestCompareMovesSharedFingerprintsTogether(t *testing.T) {
	f := func(fp string) finding.Finding { return finding.Finding{Fingerprint: fp} }
	old := []*scan.Result{{Findings: []finding.Finding{f("token-file"), f("build-arg"), f("build-arg"), f("password")}}}
	new := []*scan.Result{{Findings: []finding.Finding{f("build-arg"), f("new-key")}}}
	c := Compare(old, new)
	if len(c.Fixed) != 2 || len(c.Present) != 1 || len(c.New) != 1 {
		t.Fatalf("fixed %d, present %d, new %d; want 2, 1, 1", len(c.Fixed), len(c.Present), len(c.New))
	}
	if c.Present[0].Image != new[0] || c.New[0].Finding.Fingerprint != "new-key" {
		t.Errorf("present %+v, new %+v", c.Present[0], c.New[0])
	}
}
