package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/internal/testenv"
)

// TestGitHistoryLeaksAreReported: a repository copied into an image whose
// token was committed, then removed and packed away by git gc, is
// reported in the blob that holds it, with the commit, the path and
// "in history only", in the text and the JSON report.
func TestGitHistoryLeaksAreReported(t *testing.T) {
	const token = "ghp_Hq3mX8vLw2Zt7Rk5Np9Bc4Yd6Fs1Ga0Je2Uq"
	dir := t.TempDir()
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "deploy.sh"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Git(t, dir, "init", "-q")
	write("git clone https://" + token + "@github.com/acme/app\n")
	testenv.Git(t, dir, "add", "deploy.sh")
	testenv.Git(t, dir, "commit", "-q", "-m", "deploy script")
	write("git clone https://github.com/acme/app\n")
	testenv.Git(t, dir, "commit", "-q", "-am", "no token")
	testenv.Git(t, dir, "gc", "-q")
	layer := fixture.Tar(t, fixture.Files(t, dir, "srv/app")...)
	archive := filepath.Join(t.TempDir(), "git.tar")
	fixture.DockerArchive(t, archive, "example.test/git:1", fixture.Image(t, fixture.Layer{Tar: layer, CreatedBy: "COPY . /srv/app # buildkit"}))

	text := imagescan(t, "scan", "--no-cache", archive)
	if text.code != 1 || !strings.Contains(text.stdout, "as deploy.sh, in history only") || strings.Contains(text.stdout, token) {
		t.Errorf("text report, exit %d:\n%s", text.code, text.stdout)
	}
	out := imagescan(t, "scan", "--no-cache", "-f", "json", archive)
	var doc struct {
		Images []struct {
			Findings []struct {
				Location struct {
					Path string `json:"path"`
					Git  *struct {
						Repository string `json:"repository"`
						Object     string `json:"object"`
						Commits    []struct{ ID, Path string }
						CheckedOut *bool `json:"checked_out"`
					} `json:"git"`
				} `json:"location"`
			} `json:"findings"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(out.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	fs := doc.Images[0].Findings
	if len(fs) != 1 {
		t.Fatalf("%d findings, want the blob's:\n%s", len(fs), out.stdout)
	}
	g := fs[0].Location.Git
	if g == nil || g.Repository != "srv/app/.git" || !strings.HasSuffix(fs[0].Location.Path, "!blob/"+g.Object) ||
		len(g.Commits) != 1 || g.Commits[0].Path != "deploy.sh" || g.CheckedOut == nil || *g.CheckedOut {
		t.Errorf("location %+v, git %+v", fs[0].Location, g)
	}
}
