package layersfuzz

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"testing"
	"time"

	"github.com/imagescan/imagescan/finding"
	. "github.com/imagescan/imagescan/scan/layers"
)

// FuzzWalk walks arbitrary bytes as a layer: the walk must end without
// failing, and every finding must be consistent.
func FuzzWalk(f *testing.F) {
	seed, _ := tarOf("app/.npmrc", "SECRET=seed\n")
	f.Add(seed)
	nested, _ := tarOf(".env", "SECRET=nested")
	tgz, _ := tarOf("a.tgz", string(gz(nested)))
	f.Add(tgz)
	f.Add(gz([]byte("not a tar")))
	f.Add([]byte("PK\x03\x04"))
	// The readers of content that is not plain text: UTF-16 (with an
	// unpaired surrogate), a binary's strings, a zlib stream holding a git
	// object, a pack's header.
	utf16, _ := tarOf("c/setup.ps1", "\xff\xfeS\x00E\x00C\x00R\x00E\x00T\x00=\x00\x00\xd8v\x00\n\x00")
	f.Add(utf16)
	binary, _ := tarOf("usr/bin/tool", "\x7fELF\x00\x00\x14SECRET=in-a-binaryz\tS\x00E\x00C\x00R\x00E\x00T\x00=\x00w\x00")
	f.Add(binary)
	loose, _ := tarOf("r/.git/objects/ab/cdef0123456789abcdef0123456789abcdef01", "x\x01K\xca\xc9OR0c(N-\x02\x00\x15\x9b\x03\xa2")
	f.Add(loose)
	pack, _ := tarOf("r/.git/objects/pack/pack-1.pack", "PACK\x00\x00\x00\x02\x00\x00\x00\x01\x31x\x9cK\x04\x00\x00b\x00b")
	f.Add(pack)
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan *Result, 1)
		go func() {
			res, _ := Walk(context.Background(), 0, bytes.NewReader(data), fakeDetector{}, Options{Window: 4096, MaxArchiveBytes: 1 << 20})
			done <- res
		}()
		var res *Result
		select {
		case res = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("the walk of %d bytes did not end in 5 s", len(data))
		}
		Resolve([]*Result{res})
		for _, f := range res.Findings {
			checkLocation(t, f.Location)
		}
	})
}

// FuzzResolve walks two layers whose entry names come from the fuzzer
// and checks that every status agrees with its removing layer.
func FuzzResolve(f *testing.F) {
	f.Add("app/.npmrc", "app/.wh..npmrc")
	f.Add("app/.npmrc", "app/.wh..wh..opq")
	f.Add("app/config/.env", "app/config")
	f.Add("a", ".wh..wh..opq")
	f.Fuzz(func(t *testing.T, lower, upper string) {
		if lower == "" || upper == "" || len(lower) > 200 || len(upper) > 200 {
			return
		}
		lowerTar, ok0 := tarOf(lower, "SECRET=value")
		upperTar, ok1 := tarOf(upper, "")
		if !ok0 || !ok1 {
			return // a name archive/tar cannot write
		}
		l0, err0 := Walk(context.Background(), 0, bytes.NewReader(lowerTar), fakeDetector{}, Options{})
		l1, err1 := Walk(context.Background(), 1, bytes.NewReader(upperTar), fakeDetector{}, Options{})
		if err0 != nil || err1 != nil {
			return
		}
		Resolve([]*Result{l0, l1})
		for _, f := range l0.Findings {
			checkLocation(t, f.Location)
		}
	})
}

// tarOf is a one-file tarball, or false when archive/tar refuses the name.
func tarOf(name, content string) ([]byte, bool) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(content)), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
		return nil, false
	}
	tw.Write([]byte(content))
	return buf.Bytes(), tw.Close() == nil
}

func checkLocation(t *testing.T, l finding.Location) {
	t.Helper()
	switch l.Status {
	case finding.Visible:
		if l.RemovedByLayer != -1 {
			t.Errorf("%q visible but removed by layer %d", l.Path, l.RemovedByLayer)
		}
	case finding.Deleted, finding.Overwritten:
		if l.RemovedByLayer < l.LayerIndex {
			t.Errorf("%q %s by layer %d, below its own layer %d", l.Path, l.Status, l.RemovedByLayer, l.LayerIndex)
		}
	default:
		t.Errorf("%q has status %q", l.Path, l.Status)
	}
	if l.Line < 0 || l.Column < 0 {
		t.Errorf("%q at line %d column %d", l.Path, l.Line, l.Column)
	}
}

func gz(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// fakeDetector reports every "SECRET=value".
type fakeDetector struct{}

func (fakeDetector) SkipContent(string) string { return "" }
func (fakeDetector) DetectFile(_ context.Context, f finding.File) []finding.Match {
	var ms []finding.Match
	for i, line := range bytes.Split(f.Content, []byte("\n")) {
		if j := bytes.Index(line, []byte("SECRET=")); j >= 0 {
			ms = append(ms, finding.Match{RuleID: "fake", Secret: finding.NewSecret(string(line[j+7:])), Line: i + 1, Column: j + 8})
		}
	}
	return ms
}
func (fakeDetector) DetectVariable(context.Context, string, string) []finding.Match { return nil }
