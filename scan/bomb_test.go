package scan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/finding"
)

// noDetector finds nothing; these tests are about reading, not rules.
type noDetector struct{}

func (noDetector) SkipContent(string) string { return "" }
func (noDetector) DetectFile(context.Context, finding.File) []finding.Match {
	return nil
}
func (noDetector) DetectVariable(context.Context, string, string) []finding.Match { return nil }

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bomb is a gzip layer of one file of size zeros: a tar header member
// followed by the same compressed megabyte of zeros again and again
// (gzip allows concatenated members), so it costs nothing to build.
func bomb(t *testing.T, size int64) []byte {
	t.Helper()
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros", Size: size, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	out := gzipped(t, hdr.Bytes())
	mb := gzipped(t, make([]byte, 1<<20))
	for range size >> 20 {
		out = append(out, mb...)
	}
	return out
}

func target(name string, blob []byte) *Target {
	return &Target{
		Input:  name,
		Config: []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}`),
		Layers: []Blob{{Descriptor: v1.Descriptor{Size: int64(len(blob))}, Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(blob)), nil
		}}},
	}
}

func lowFloor(o *options) error { o.ratioFloor = 1 << 20; return nil }

func TestALayerBombIsStopped(t *testing.T) {
	blob := bomb(t, 2<<30) // 2 GiB of zeros in about 2 MiB
	start := time.Now()
	res, err := Run(context.Background(), target("bomb.tar", blob), noDetector{}, lowFloor)
	if err == nil || !strings.Contains(err.Error(), "bomb.tar: layer 0: reading zeros: the layer inflates to more than 100 times its compressed size") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("took %v: the bomb was not stopped early", time.Since(start))
	}
	if res.Layers[0].Integrity.Status != Unverified {
		t.Errorf("integrity %v, want unverified", res.Layers[0].Integrity)
	}
}

func TestTrailingDataAfterTheArchiveIsNotRead(t *testing.T) {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	if err := tw.WriteHeader(&tar.Header{Name: "a", Size: 1, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("x"))
	tw.Close()
	layer.Write(bytes.Repeat([]byte("junk"), 1<<20)) // 4 MiB after the end-of-archive marker
	_, err := Run(context.Background(), target("trailing.tar", layer.Bytes()), noDetector{})
	if err == nil || !strings.Contains(err.Error(), "trailing.tar: layer 0: more than 1048576 bytes follow the end of the layer's tar archive") {
		t.Errorf("err = %v", err)
	}
}
