package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/internal/fixture"
)

// TestAHardLinkKeepsDeletedContentVisible: layer 0 writes an .npmrc and a
// hard link to it, layer 1 deletes the .npmrc. The token is still in the
// final filesystem through the link, and every format says so and names
// the link.
func TestAHardLinkKeepsDeletedContentVisible(t *testing.T) {
	img := fixture.Image(t,
		fixture.Layer{Tar: fixture.Tar(t,
			fixture.File("app/.npmrc", "//registry.npmjs.org/:_authToken="+deletedToken+"\n"),
			fixture.Hardlink("srv/keep/copy", "app/.npmrc"),
		), CreatedBy: "/bin/sh -c #(nop) COPY dir:app in /"},
		fixture.Layer{Tar: fixture.Tar(t, fixture.Whiteout("app", ".npmrc")), CreatedBy: "/bin/sh -c rm -f /app/.npmrc"},
	)
	archive := filepath.Join(t.TempDir(), "linked.tar")
	fixture.DockerArchive(t, archive, "example.test/linked:1", img)

	got := imagescan(t, "scan", "--no-cache", "-f", "json", archive)
	var rep struct {
		Images []struct {
			Findings []struct {
				Location struct {
					Path      string `json:"path"`
					Status    string `json:"status"`
					Removed   *int   `json:"removed_by_layer"`
					VisibleAt string `json:"visible_at"`
				} `json:"location"`
			} `json:"findings"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, got.stderr)
	}
	var found bool
	for _, f := range rep.Images[0].Findings {
		l := f.Location
		if l.Path != "app/.npmrc" {
			continue
		}
		found = true
		if l.Status != "visible" || l.VisibleAt != "srv/keep/copy" || l.Removed == nil || *l.Removed != 1 {
			t.Errorf("location %+v, want visible at srv/keep/copy, the path removed by layer 1", l)
		}
	}
	if !found {
		t.Fatalf("no finding at app/.npmrc:\n%s", got.stdout)
	}
	text := imagescan(t, "scan", "--no-cache", archive).stdout
	if !strings.Contains(text, "visible in the final filesystem at srv/keep/copy, a hard link to this file, which layer 1") {
		t.Errorf("the text report does not name the link:\n%s", text)
	}
	if strings.Contains(text, "still in the image") {
		t.Errorf("the text report calls visible content deleted:\n%s", text)
	}
}
