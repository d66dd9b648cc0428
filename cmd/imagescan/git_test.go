package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/internal/fixture"
)

// TestGitHistoryLeaksAreReported: a repository copied into an image whose
// token was committed, then removed and packed away by git gc, is
// reported in the blob that holds it, with the commit, the path and
// "in history only", in the text and the JSON report.
func TestGitHistoryLeaksAreReported(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	const token = "ghp_Hq3mX8vLw2Zt7Rk5Np9Bc4Yd6Fs1Ga0Je2Uq"
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=dev", "-c", "user.email=dev@example.test", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "deploy.sh"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("git clone https://" + token + "@github.com/acme/app\n")
	git("add", "deploy.sh")
	git("commit", "-q", "-m", "deploy script")
	write("git clone https://github.com/acme/app\n")
	git("commit", "-q", "-am", "no token")
	git("gc", "-q")
	var entries []fixture.Entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		entries = append(entries, fixture.File("srv/app/"+filepath.ToSlash(rel), string(data)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "git.tar")
	fixture.DockerArchive(t, archive, "example.test/git:1", fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, entries...), CreatedBy: "COPY . /srv/app # buildkit"}))

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
