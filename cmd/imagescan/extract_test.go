package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// provenanceDoc is the provenance JSON as the tests read it.
type provenanceDoc struct {
	ExtractedAt string `json:"extracted_at"`
	Output      string `json:"output"`
	Image       struct {
		Input        string `json:"input"`
		Reference    string `json:"reference"`
		ConfigDigest string `json:"config_digest"`
	} `json:"image"`
	Layer struct {
		Index        int    `json:"index"`
		Digest       string `json:"digest"`
		DiffID       string `json:"diff_id"`
		HistoryIndex *int   `json:"history_index"`
		CreatedBy    string `json:"created_by"`
		Integrity    struct {
			Status string `json:"status"`
		} `json:"integrity"`
	} `json:"layer"`
	File struct {
		Path   string `json:"path"`
		Size   int64  `json:"size"`
		SHA256 string `json:"sha256"`
	} `json:"file"`
}

// layerOfScan is a layer as the scan's JSON report describes it.
type layerOfScan struct {
	Digest       string `json:"digest"`
	DiffID       string `json:"diff_id"`
	HistoryIndex *int   `json:"history_index"`
}

func readProvenance(t *testing.T, data []byte) provenanceDoc {
	t.Helper()
	var p provenanceDoc
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("provenance: %v\n%s", err, data)
	}
	return p
}

// TestExtractRecoversTheDeletedNpmrc extracts the .npmrc that layer 4 of
// npm-deleted deletes, and checks the bytes against what the Dockerfile
// wrote and the provenance against the scan's own report.
func TestExtractRecoversTheDeletedNpmrc(t *testing.T) {
	out := filepath.Join(t.TempDir(), "npmrc")
	before := time.Now().Add(-time.Second)
	got := imagescan(t, "extract", deleted, "--layer", "3", "--path", "/private-app/.npmrc", "-o", out)
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "//registry.npmjs.org/:_authToken=" + deletedToken + "\n" // the Dockerfile's echo
	if string(data) != want {
		t.Fatalf("extracted %q, want %q", data, want)
	}
	info, _ := os.Stat(out)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}

	p := readProvenance(t, readFile(t, out+".provenance.json"))
	var rep struct {
		Images []struct {
			ConfigDigest string        `json:"config_digest"`
			Layers       []layerOfScan `json:"layers"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(imagescan(t, "scan", "-q", "-f", "json", deleted).stdout), &rep); err != nil {
		t.Fatal(err)
	}
	layer := rep.Images[0].Layers[3]
	sum := sha256.Sum256(data)
	switch {
	case p.File.Path != "private-app/.npmrc" || p.File.Size != int64(len(want)) || p.File.SHA256 != hex.EncodeToString(sum[:]):
		t.Errorf("file %+v", p.File)
	case p.Layer.Index != 3 || p.Layer.Digest != layer.Digest || p.Layer.DiffID != layer.DiffID || p.Layer.DiffID == "":
		t.Errorf("layer %+v, the scan says %+v", p.Layer, layer)
	case p.Layer.HistoryIndex == nil || *p.Layer.HistoryIndex != 5 || !strings.Contains(p.Layer.CreatedBy, "> .npmrc"):
		t.Errorf("history step %v %q", p.Layer.HistoryIndex, p.Layer.CreatedBy)
	case p.Layer.Integrity.Status != "verified":
		t.Errorf("integrity %s", p.Layer.Integrity.Status)
	case p.Image.ConfigDigest != rep.Images[0].ConfigDigest || p.Image.Reference != "localhost/fixtures/npm-deleted:latest" || p.Output != out:
		t.Errorf("image %+v, output %s", p.Image, p.Output)
	}
	at, err := time.Parse(time.RFC3339, p.ExtractedAt)
	if err != nil || at.Before(before.Truncate(time.Second)) || at.After(time.Now()) {
		t.Errorf("extracted_at %q: %v", p.ExtractedAt, err)
	}
	if strings.Contains(p.Layer.CreatedBy, deletedToken) {
		t.Error("the provenance's history step shows the build arg's token without --show-secrets")
	}

	shown := filepath.Join(t.TempDir(), "npmrc")
	imagescan(t, "extract", deleted, "--layer", "3", "--path", "private-app/.npmrc", "-o", shown, "--show-secrets")
	if p := readProvenance(t, readFile(t, shown+".provenance.json")); !strings.Contains(p.Layer.CreatedBy, deletedToken) {
		t.Errorf("--show-secrets did not show the history step: %q", p.Layer.CreatedBy)
	}
}

func TestExtractToStdout(t *testing.T) {
	got := imagescan(t, "extract", deleted, "--layer", "3", "--path", "private-app/.npmrc")
	if got.code != 0 || got.stdout != "//registry.npmjs.org/:_authToken="+deletedToken+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %s", got.code, got.stdout, got.stderr)
	}
	if p := readProvenance(t, []byte(got.stderr)); p.Output != "-" || p.Layer.Index != 3 {
		t.Errorf("provenance on stderr: %+v", p)
	}
}

func TestExtractRefusesATerminal(t *testing.T) {
	ptmx, tty := openPTY(t)
	defer ptmx.Close()
	defer tty.Close()
	var stderr bytes.Buffer
	code := run(t.Context(), []string{"extract", deleted, "--layer", "3", "--path", "private-app/.npmrc"}, nil, tty, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "-o FILE") {
		t.Errorf("stdout a terminal: exit %d, %q", code, stderr.String())
	}
}

func TestExtractErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	write(t, existing, "evidence from before\n")
	tests := map[string]struct {
		args []string
		want string
	}{
		"a path not in the layer":         {[]string{"--layer", "2", "--path", "private-app/.npmrc"}, "layer 2: no such file in the layer: private-app/.npmrc"},
		"a deleted path":                  {[]string{"--layer", "4", "--path", "private-app/.npmrc"}, "layer 4: this layer deletes private-app/.npmrc (a whiteout)"},
		"a directory":                     {[]string{"--layer", "3", "--path", "private-app/node_modules"}, "is not a regular file in this layer (a directory)"},
		"no such layer":                   {[]string{"--layer", "9", "--path", "x"}, "no layer 9: the image has 5 layers (0 to 4)"},
		"no --layer":                      {[]string{"--path", "x"}, `"layer" not set`},
		"a failure over an existing file": {[]string{"--layer", "2", "--path", "private-app/.npmrc", "-o", existing}, "no such file in the layer"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"extract", deleted}, tc.args...)
			if !strings.Contains(strings.Join(args, " "), " -o ") {
				args = append(args, "-o", out)
			}
			got := imagescan(t, args...)
			if got.code != 2 || !strings.Contains(got.stderr, tc.want) || strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", got.code, got.stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a failed extract left an output file")
			}
		})
	}
	if string(readFile(t, existing)) != "evidence from before\n" {
		t.Error("a failed extract replaced an existing file")
	}
}

// TestExtractFromATamperedLayer writes the bytes and the provenance, marked
// as a mismatch, and exits 2: tampered content is still evidence.
func TestExtractFromATamperedLayer(t *testing.T) {
	p := tamperedNpmrc(t)
	out := filepath.Join(t.TempDir(), "npmrc")
	got := imagescan(t, "extract", p, "--layer", "3", "--path", "private-app/.npmrc", "-o", out)
	if got.code != 2 || !strings.Contains(got.stderr, "layer 3: content does not match diff_id") {
		t.Fatalf("exit %d, %q", got.code, got.stderr)
	}
	if !strings.Contains(string(readFile(t, out)), "registry.npmjs.orG") {
		t.Error("the tampered bytes were not written")
	}
	if prov := readProvenance(t, readFile(t, out+".provenance.json")); prov.Layer.Integrity.Status != "mismatch" {
		t.Errorf("provenance integrity %q, want mismatch", prov.Layer.Integrity.Status)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// recordTerminal opens a pseudo-terminal and records what is written to
// its tty; screen closes both ends and returns what was written.
func recordTerminal(t *testing.T) (tty *os.File, screen func() string) {
	t.Helper()
	ptmx, tty := openPTY(t)
	var buf bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, _ = io.Copy(&buf, ptmx)
	}()
	return tty, func() string {
		tty.Close()
		ptmx.Close()
		<-read
		return buf.String()
	}
}

// openPTY opens a pseudo-terminal pair: what is written to tty reads as
// a terminal.
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(filepath.Join("/dev/pts", strconv.Itoa(n)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptmx, tty
}
