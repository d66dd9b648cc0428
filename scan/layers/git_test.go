package layers_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/internal/testenv"
	. "github.com/imagescan/imagescan/scan/layers"
)

// gitRepo has git make a repository in which config.txt held a secret in
// its first commit and lost it in the second (or, with keep, kept it while
// README changed), as a `COPY . .` without a .dockerignore brings one
// into an image; gc packs its objects.
func gitRepo(t *testing.T, gc bool, keep ...bool) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Git(t, dir, "init", "-q")
	write("config.txt", "name = app\nSECRET=committed-then-removed\n")
	testenv.Git(t, dir, "add", "config.txt")
	testenv.Git(t, dir, "commit", "-q", "-m", "add config")
	if len(keep) > 0 && keep[0] {
		write("README", "app\n")
		testenv.Git(t, dir, "add", "README")
		testenv.Git(t, dir, "commit", "-q", "-m", "add a README")
	} else {
		write("config.txt", "name = app\n")
		testenv.Git(t, dir, "commit", "-q", "-am", "remove the secret")
	}
	if gc {
		testenv.Git(t, dir, "gc", "-q", "--aggressive")
	}
	return dir
}

// layerOf returns a layer holding dir's files under prefix.
func layerOf(t *testing.T, dir, prefix string) []byte {
	t.Helper()
	return fixture.Tar(t, fixture.Files(t, dir, prefix)...)
}

func TestGitLooseObjectsAreRead(t *testing.T) {
	res := walk(t, 0, layerOf(t, gitRepo(t, false), "srv/app"), Options{})
	var found []string
	for _, p := range places(res) {
		found = append(found, p.Path+" "+p.Secret)
	}
	if len(found) != 1 || !strings.HasPrefix(found[0], "srv/app/.git/objects/") || !strings.HasSuffix(found[0], "!blob committed-then-removed") {
		t.Errorf("found %q, want the removed secret in its blob object", found)
	}
}

func TestGitPackfilesAreRead(t *testing.T) {
	res := walk(t, 0, layerOf(t, gitRepo(t, true), "srv/app"), Options{})
	var found []string
	for _, p := range places(res) {
		found = append(found, p.Path+" "+p.Secret)
	}
	if len(found) != 1 || !strings.Contains(found[0], "srv/app/.git/objects/pack/pack-") || !strings.Contains(found[0], ".pack!blob/") ||
		!strings.HasSuffix(found[0], " committed-then-removed") {
		t.Errorf("found %q, want the removed secret in its blob, in the pack", found)
	}
}

// FuzzGitObjects feeds the pack and loose-object readers arbitrary data
// behind their magic bytes: a corrupt pack (deltas that loop or point past
// its end, lies in its header) or zlib stream is counted, never an error
// of the layer, a panic or a hang.
func FuzzGitObjects(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x01\x95\x0ex\x9c+I\xad(\x01\x00\x04]\x01\xc1"), []byte("blob 4\x00text"))
	f.Add([]byte("\x00\x00\x00\x02\x7f\x05abc\xff\xff"), []byte("commit 999999999999\x00"))
	f.Fuzz(func(t *testing.T, pack, loose []byte) {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(loose)
		zw.Close()
		layer := fixture.Tar(t,
			fixture.File("repo/.git/objects/pack/pack-1.pack", "PACK\x00\x00\x00\x02"+string(pack)),
			fixture.File("repo/.git/objects/ab/cdef", string(z.Bytes())),
		)
		res, err := Walk(context.Background(), 0, bytes.NewReader(layer), fakeDetector{}, Options{})
		if err != nil {
			t.Fatalf("a corrupt object broke the layer: %v", err)
		}
		if res.Coverage.Archives != 2 {
			t.Errorf("%d archives opened, want the pack and the loose object", res.Coverage.Archives)
		}
	})
}

// TestAGitDeltaBombIsRefused: a pack of two objects whose delta claims a
// 4 GiB target (a few bytes of copy instructions can make one) is counted
// as past its limit before the pack reader inflates anything.
func TestAGitDeltaBombIsRefused(t *testing.T) {
	zl := func(b []byte) []byte {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		return z.Bytes()
	}
	pack := []byte("PACK\x00\x00\x00\x02\x00\x00\x00\x02")
	base := len(pack)
	pack = append(pack, 0x31) // a blob of 1 byte
	pack = append(pack, zl([]byte("a"))...)
	delta := binary.AppendUvarint(binary.AppendUvarint(nil, 1), 4<<30)
	delta = append(delta, 0x90, 0x01) // copy 1 byte from the base
	deltaAt := len(pack)
	pack = append(pack, 0x60|byte(len(delta)), byte(deltaAt-base)) // an offset delta, its base that far back
	pack = append(pack, zl(delta)...)
	pack = append(pack, make([]byte, 20)...) // the checksum's place
	res := walk(t, 0, fixture.Tar(t, fixture.File("repo/.git/objects/pack/pack-bomb.pack", string(pack))), Options{})
	if res.Coverage.Skipped[finding.SkipNestedLimit] != 1 {
		t.Errorf("coverage %+v, want the pack counted as past its limit", res.Coverage)
	}
}

func TestGitFindingsArePlacedInHistory(t *testing.T) {
	for _, gc := range []bool{false, true} {
		res := walk(t, 0, layerOf(t, gitRepo(t, gc), "srv/app"), Options{})
		if len(res.Findings) != 1 {
			t.Fatalf("gc %v: %d findings, want 1", gc, len(res.Findings))
		}
		g := res.Findings[0].Location.Git
		if g == nil || g.Repository != "srv/app/.git" || len(g.Object) != 40 {
			t.Fatalf("gc %v: git place %+v, want the repository and the blob's id", gc, g)
		}
		if len(g.Commits) != 1 || g.Commits[0].Path != "config.txt" || len(g.Commits[0].ID) != 40 || g.MoreCommits != 0 {
			t.Errorf("gc %v: commits %+v, want the first commit only, at config.txt", gc, g.Commits)
		}
		if !g.HeadKnown || g.CheckedOut {
			t.Errorf("gc %v: head known %v, checked out %v; want the blob in history only", gc, g.HeadKnown, g.CheckedOut)
		}
	}
}

func TestAGitBlobStillCheckedOutSaysSo(t *testing.T) {
	res := walk(t, 0, layerOf(t, gitRepo(t, true, true), "srv/app"), Options{})
	var placed []string
	for _, f := range res.Findings {
		if g := f.Location.Git; g != nil {
			placed = append(placed, fmt.Sprintf("%d commits, checked out %v", len(g.Commits), g.CheckedOut))
		}
	}
	// The working tree's config.txt is found too, as a file.
	if len(res.Findings) != 2 || len(placed) != 1 || placed[0] != "2 commits, checked out true" {
		t.Errorf("%d findings, git places %q: want the blob in both commits, checked out", len(res.Findings), placed)
	}
}

// TestASecretInACommittedPathIsNotStored: a blob's place in history names
// its path in each commit, and a file named after its secret would carry
// the secret into the layer cache.
func TestASecretInACommittedPathIsNotStored(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "SECRET=in-a-committed-name"), []byte("SECRET=in-a-committed-name\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Git(t, dir, "init", "-q")
	testenv.Git(t, dir, "add", ".")
	testenv.Git(t, dir, "commit", "-q", "-m", "keys")
	testenv.Git(t, dir, "rm", "-q", "-r", "keys")
	testenv.Git(t, dir, "commit", "-q", "-m", "no keys")
	res := walk(t, 0, layerOf(t, dir, "srv/app"), Options{})
	placed := false
	for _, f := range res.Findings {
		if g := f.Location.Git; g != nil && len(g.Commits) > 0 && strings.Contains(g.Commits[0].Path, "in-a-committed-name") {
			placed = true
		}
	}
	if !placed {
		t.Fatalf("no finding placed at the committed name, so this test proves nothing: %v", places(res))
	}
	if _, ok, err := res.Snapshot(false); ok || err != nil {
		t.Errorf("a layer whose git history names a secret was stored without the secret: ok %v err %v", ok, err)
	}
}
