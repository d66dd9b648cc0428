package fleet_test

import (
	"fmt"
	"testing"

	"github.com/imagescan/imagescan/fleet"
	"github.com/imagescan/imagescan/report"
)

func TestEveryRepositoryIsInExactlyOneShard(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7} {
		per := make([]int, n)
		for r := range 400 {
			repo := fmt.Sprintf("team-%d/svc-%03d", r%5, r)
			in := 0
			for i := range n {
				if fleet.InShard(repo, report.Shard{Index: i, Count: n}) {
					in++
					per[i]++
				}
			}
			if in != 1 {
				t.Fatalf("%d shards: %s is in %d", n, repo, in)
			}
		}
		for i, c := range per {
			if c < 400/n/2 {
				t.Errorf("%d shards: shard %d has %d of 400 repositories", n, i, c)
			}
		}
	}
}
