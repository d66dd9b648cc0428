package layers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	. "github.com/imagescan/imagescan/scan/layers"
)

// TestResolveIsLinearInHardLinks: a file with three secrets and n hard
// links to it, then 30 layers that each delete one link and make another.
// Ten times the links must cost about ten times as much, not a hundred:
// links an attacker adds cannot make the resolution of a status slow.
func TestResolveIsLinearInHardLinks(t *testing.T) {
	if testing.Short() {
		t.Skip("resolves 100,000 hard links")
	}
	cost := func(n int) time.Duration {
		entries := []fixture.Entry{fixture.File("app/token.txt", "SECRET=a\nSECRET=b\nSECRET=c\n")}
		for i := range n {
			entries = append(entries, fixture.Hardlink(fmt.Sprintf("links/l%d", i), "app/token.txt"))
		}
		results := []*Result{walk(t, 0, fixture.Tar(t, entries...), Options{})}
		for i := 1; i <= 30; i++ {
			results = append(results, walk(t, i, fixture.Tar(t,
				fixture.Whiteout("links", fmt.Sprintf("l%d", i)),
				fixture.Hardlink(fmt.Sprintf("more/m%d", i), "app/token.txt"),
				fixture.File(fmt.Sprintf("x/%d", i), "x"),
			), Options{}))
		}
		results = append(results, walk(t, 31, fixture.Tar(t, fixture.Whiteout("app", "token.txt")), Options{}))
		start := time.Now()
		Resolve(results)
		took := time.Since(start)
		for _, f := range results[0].Findings {
			if l := f.Location; l.Status != finding.Visible || l.RemovedByLayer != 31 || l.VisibleAt == "" {
				t.Fatalf("%d links: %s by %d at %q, want visible through a link, the path removed by 31", n, l.Status, l.RemovedByLayer, l.VisibleAt)
			}
		}
		return took
	}
	cost(1000) // warm up
	small, large := cost(10_000), cost(100_000)
	if ratio := float64(large) / float64(small); ratio > 35 {
		t.Errorf("10x the links cost %.0fx the time (%s against %s): quadratic?", ratio, large, small)
	}
}
