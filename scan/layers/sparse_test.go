package layers_test

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/testenv"
	. "github.com/imagescan/imagescan/scan/layers"
)

// gnuSparseLayer has GNU tar write a layer holding data.bin, 8 MiB long:
// 16 KiB of text with a secret at its start, a hole, and another line
// with a secret at 6 MiB. With --format=gnu, tar writes it as an old-GNU sparse
// entry (type S).
func gnuSparseLayer(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(root, "data.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text := "SECRET=before-the-hole\n" + strings.Repeat("some text before the hole\n", 16<<10/26-1)
	if _, err := f.WriteString(text + strings.Repeat("\n", 16<<10-len(text))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("\nSECRET=after-the-hole\n"), 6<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(8 << 20); err != nil {
		t.Fatal(err)
	}
	layer := filepath.Join(dir, "layer.tar")
	if out, err := exec.Command(testenv.RequireTool(t, "tar", "tar"), "--sparse", "--format=gnu", "-cf", layer, "-C", root, "data.bin").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	data, err := os.ReadFile(layer)
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := tar.NewReader(bytes.NewReader(data)).Next()
	if err != nil || hdr.Typeflag != tar.TypeGNUSparse {
		t.Fatalf("tar did not write a sparse entry (%v, %v): the file system here keeps no holes", hdr, err)
	}
	if len(data) > 1<<20 {
		t.Fatalf("the layer holds %d bytes: tar stored the holes", len(data))
	}
	return data
}

func TestOldGNUSparseFilesAreRead(t *testing.T) {
	layer := gnuSparseLayer(t)
	res, err := Walk(context.Background(), 0, bytes.NewReader(layer), fakeDetector{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, f := range res.Findings {
		secrets = append(secrets, f.Secret.Raw())
	}
	if len(secrets) != 2 || secrets[0] != "before-the-hole" || secrets[1] != "after-the-hole" {
		t.Errorf("found %q, want both secrets", secrets)
	}
	if len(res.Coverage.Skipped) != 0 || res.Coverage.Files != 1 || res.Coverage.Bytes != 8<<20 {
		t.Errorf("coverage %+v, want one file of 8 MiB scanned and nothing skipped", res.Coverage)
	}
}

func TestSparseFilesAreReadToTheLimit(t *testing.T) {
	layer := gnuSparseLayer(t)
	res, err := Walk(context.Background(), 0, bytes.NewReader(layer), fakeDetector{}, Options{MaxArchiveBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Secret.Raw() != "before-the-hole" {
		t.Errorf("found %v, want the secret before the limit only", res.Findings)
	}
	if got := res.Coverage.Skipped[finding.SkipSparseLimit]; got != 1 {
		t.Errorf("coverage %+v, want one %s", res.Coverage, finding.SkipSparseLimit)
	}
}
