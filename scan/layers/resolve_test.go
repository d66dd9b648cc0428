package layers_test

import (
	"testing"

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
