package layers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	. "github.com/imagescan/imagescan/scan/layers"
)

// status is the final state of the secret in a path of layer 0.
type status struct {
	Status    finding.Status
	RemovedBy int
}

func TestResolve(t *testing.T) {
	base := []fixture.Entry{
		fixture.Dir("app"),
		fixture.File("app/.npmrc", "SECRET=npmrc-token"),
		fixture.File("app/config/.env", "SECRET=env-token"),
		fixture.File("root/.netrc", "SECRET=netrc-token"),
	}
	tests := map[string]struct {
		later [][]fixture.Entry // layers 1, 2, …
		want  map[string]status // path in layer 0 → status
	}{
		"nothing above": {
			nil,
			map[string]status{"app/.npmrc": {finding.Visible, -1}, "app/config/.env": {finding.Visible, -1}, "root/.netrc": {finding.Visible, -1}},
		},
		"a whiteout deletes one file": {
			[][]fixture.Entry{{fixture.Whiteout("app", ".npmrc")}},
			map[string]status{"app/.npmrc": {finding.Deleted, 1}, "app/config/.env": {finding.Visible, -1}, "root/.netrc": {finding.Visible, -1}},
		},
		"a whiteout of a directory deletes what is under it": {
			[][]fixture.Entry{{fixture.Whiteout("", "app")}},
			map[string]status{"app/.npmrc": {finding.Deleted, 1}, "app/config/.env": {finding.Deleted, 1}, "root/.netrc": {finding.Visible, -1}},
		},
		"an opaque directory hides lower content but not its own": {
			[][]fixture.Entry{{fixture.Opaque("app"), fixture.File("app/.npmrc", "clean")}},
			map[string]status{"app/.npmrc": {finding.Overwritten, 1}, "app/config/.env": {finding.Deleted, 1}, "root/.netrc": {finding.Visible, -1}},
		},
		"an opaque root hides everything below": {
			[][]fixture.Entry{{fixture.Opaque("")}},
			map[string]status{"app/.npmrc": {finding.Deleted, 1}, "app/config/.env": {finding.Deleted, 1}, "root/.netrc": {finding.Deleted, 1}},
		},
		"rewriting a path overwrites it": {
			[][]fixture.Entry{{fixture.File("./root/.netrc", "machine x")}},
			map[string]status{"app/.npmrc": {finding.Visible, -1}, "app/config/.env": {finding.Visible, -1}, "root/.netrc": {finding.Overwritten, 1}},
		},
		"a symlink at the path replaces the file": {
			[][]fixture.Entry{{fixture.Symlink("app/.npmrc", "/run/secrets/npmrc")}},
			map[string]status{"app/.npmrc": {finding.Overwritten, 1}, "app/config/.env": {finding.Visible, -1}, "root/.netrc": {finding.Visible, -1}},
		},
		"a file in place of a parent directory deletes what was under it": {
			[][]fixture.Entry{{fixture.Whiteout("app", "config"), fixture.File("app/config", "now a file")}},
			map[string]status{"app/.npmrc": {finding.Visible, -1}, "app/config/.env": {finding.Deleted, 1}, "root/.netrc": {finding.Visible, -1}},
		},
		"a non-directory entry at a parent hides what was under it": {
			[][]fixture.Entry{{fixture.Symlink("app/config", "/etc/app")}},
			map[string]status{"app/.npmrc": {finding.Visible, -1}, "app/config/.env": {finding.Deleted, 1}, "root/.netrc": {finding.Visible, -1}},
		},
		"re-creating a parent directory hides nothing": {
			[][]fixture.Entry{{fixture.Dir("app"), fixture.Dir("app/config"), fixture.File("app/other", "x")}},
			map[string]status{"app/.npmrc": {finding.Visible, -1}, "app/config/.env": {finding.Visible, -1}, "root/.netrc": {finding.Visible, -1}},
		},
		"the first layer that hides a file is the one recorded": {
			[][]fixture.Entry{{fixture.File("tmp/x", "x")}, {fixture.Whiteout("app", ".npmrc")}, {fixture.File("app/.npmrc", "again")}},
			map[string]status{"app/.npmrc": {finding.Deleted, 2}, "app/config/.env": {finding.Visible, -1}, "root/.netrc": {finding.Visible, -1}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			results := []*Result{walk(t, 0, fixture.Tar(t, base...), Options{})}
			for i, entries := range tc.later {
				results = append(results, walk(t, i+1, fixture.Tar(t, entries...), Options{}))
			}
			Resolve(results)
			got := map[string]status{}
			for _, f := range results[0].Findings {
				got[f.Location.Path] = status{f.Location.Status, f.Location.RemovedByLayer}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveWhiteoutInTheSameLayerDoesNotHideItsOwnFiles(t *testing.T) {
	results := []*Result{walk(t, 0, fixture.Tar(t,
		fixture.File("app/.npmrc", "SECRET=kept"),
		fixture.Whiteout("app", ".npmrc"),
	), Options{})}
	Resolve(results)
	if got := results[0].Findings[0].Location.Status; got != finding.Visible {
		t.Errorf("status = %s, want visible: a whiteout only applies to lower layers", got)
	}
}

func TestResolveSkipsUnreadableLayers(t *testing.T) {
	results := []*Result{
		walk(t, 0, fixture.Tar(t, fixture.File("app/.npmrc", "SECRET=x")), Options{}),
		nil,
		walk(t, 2, fixture.Tar(t, fixture.Whiteout("app", ".npmrc")), Options{}),
	}
	Resolve(results)
	if l := results[0].Findings[0].Location; l.Status != finding.Deleted || l.RemovedByLayer != 2 {
		t.Errorf("status %s by %d, want deleted by 2", l.Status, l.RemovedByLayer)
	}
}

// linkStatus is a finding's final status with the hard link that still
// reaches it, if any.
type linkStatus struct {
	Status    finding.Status
	RemovedBy int
	VisibleAt string
}

// TestResolveFollowsTheContentThroughHardLinks: a file whose path is
// deleted or overwritten is still visible while a hard link in the final
// filesystem reaches its content, and the report names that link.
func TestResolveFollowsTheContentThroughHardLinks(t *testing.T) {
	token := fixture.File("app/token.txt", "SECRET=linked-token")
	tests := map[string]struct {
		layers [][]fixture.Entry
		want   linkStatus
	}{
		"a link in the same layer outlives a whiteout": {
			[][]fixture.Entry{{token, fixture.Hardlink("keep/copy", "app/token.txt")}, {fixture.Whiteout("app", "token.txt")}},
			linkStatus{finding.Visible, 1, "keep/copy"},
		},
		"a link in a later layer outlives a whiteout": {
			[][]fixture.Entry{{token}, {fixture.Hardlink("keep/copy", "app/token.txt")}, {fixture.Whiteout("app", "token.txt")}},
			linkStatus{finding.Visible, 2, "keep/copy"},
		},
		"a link outlives its directory's whiteout": {
			[][]fixture.Entry{{token, fixture.Hardlink("keep/copy", "app/token.txt")}, {fixture.Whiteout("", "app")}},
			linkStatus{finding.Visible, 1, "keep/copy"},
		},
		"a chain of links": {
			[][]fixture.Entry{{token, fixture.Hardlink("b", "app/token.txt")}, {fixture.Hardlink("c", "b")}, {fixture.Whiteout("app", "token.txt"), fixture.Whiteout("", "b")}},
			linkStatus{finding.Visible, 2, "c"},
		},
		"deleting every link deletes the content": {
			[][]fixture.Entry{{token, fixture.Hardlink("keep/copy", "app/token.txt")}, {fixture.Whiteout("app", "token.txt")}, {fixture.Whiteout("keep", "copy")}},
			linkStatus{finding.Deleted, 1, ""},
		},
		"overwriting the link loses the content too": {
			[][]fixture.Entry{{token, fixture.Hardlink("keep/copy", "app/token.txt")}, {fixture.Whiteout("app", "token.txt"), fixture.File("keep/copy", "clean")}},
			linkStatus{finding.Deleted, 1, ""},
		},
		"a link made before the path is rewritten in its layer keeps the old content": {
			[][]fixture.Entry{{token, fixture.Hardlink("keep/copy", "app/token.txt"), fixture.File("app/token.txt", "clean")}},
			linkStatus{finding.Visible, 0, "keep/copy"},
		},
		"a link made after the path is rewritten in its layer does not": {
			[][]fixture.Entry{{token, fixture.File("app/token.txt", "clean"), fixture.Hardlink("keep/copy", "app/token.txt")}},
			linkStatus{finding.Overwritten, 0, ""},
		},
		"a later layer's link to its own rewrite does not": {
			[][]fixture.Entry{{token}, {fixture.File("app/token.txt", "clean"), fixture.Hardlink("keep/copy", "app/token.txt")}},
			linkStatus{finding.Overwritten, 1, ""},
		},
		"a symlink is not a copy": {
			[][]fixture.Entry{{token, fixture.Symlink("keep/copy", "/app/token.txt")}, {fixture.Whiteout("app", "token.txt")}},
			linkStatus{finding.Deleted, 1, ""},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var results []*Result
			for i, entries := range tc.layers {
				results = append(results, walk(t, i, fixture.Tar(t, entries...), Options{}))
			}
			Resolve(results)
			var got []linkStatus
			for _, f := range results[0].Findings {
				if f.Location.Path == "app/token.txt" {
					got = append(got, linkStatus{f.Location.Status, f.Location.RemovedByLayer, f.Location.VisibleAt})
				}
			}
			if diff := cmp.Diff([]linkStatus{tc.want}, got); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveIsLinearInPathDepth: a file at the bottom of a very deep
// path, whose parent directory a later layer whites out. Resolving ten times
// the depth must cost about ten times as much, not a hundred.
func TestResolveIsLinearInPathDepth(t *testing.T) {
	if testing.Short() {
		t.Skip("resolves paths of 100,000 components")
	}
	cost := func(depth int) time.Duration {
		deep := strings.Repeat("a/", depth) + "token.txt"
		results := []*Result{
			walk(t, 0, fixture.Tar(t, fixture.File(deep, "SECRET=deep-token")), Options{}),
			walk(t, 1, fixture.Tar(t, fixture.Whiteout(strings.Repeat("a/", depth-1), "a")), Options{}),
		}
		start := time.Now()
		for range 5 {
			for _, f := range results[0].Findings {
				f.Location.Status, f.Location.RemovedByLayer = finding.Visible, -1
			}
			Resolve(results)
		}
		took := time.Since(start)
		if l := results[0].Findings[0].Location; l.Status != finding.Deleted || l.RemovedByLayer != 1 {
			t.Fatalf("depth %d: %s by %d, want deleted by 1", depth, l.Status, l.RemovedByLayer)
		}
		return took
	}
	cost(1000) // warm up
	small, large := cost(10_000), cost(100_000)
	if ratio := float64(large) / float64(small); ratio > 35 {
		t.Errorf("10x the depth cost %.0fx the time (%s against %s): quadratic?", ratio, large, small)
	}
}
