package layers_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	. "github.com/imagescan/imagescan/scan/layers"
)

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(f, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// where lists what a walk found, by path and secret.
func where(res *Result) []string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, f.Location.Path+" "+f.Secret.Raw())
	}
	return out
}

func TestWalkOpensNestedArchives(t *testing.T) {
	tgz := fixture.Gz(t, fixture.Tar(t, fixture.File("package/.npmrc", "SECRET=in-a-tgz\n"), fixture.File("package/index.js", "ok")))
	jar := zipOf(t, map[string]string{"BOOT-INF/classes/app.properties": "a=1\nb=2 SECRET=in-a-jar\n"})
	inner := fixture.Gz(t, fixture.Tar(t, fixture.File(".env", "SECRET=two-levels-down")))
	outer := fixture.Tar(t, fixture.File("deps/inner.tgz", string(inner)))
	layer := fixture.Tar(t,
		fixture.File("srv/bundle.tgz", string(tgz)),
		fixture.File("srv/app.jar", string(jar)),
		fixture.File("usr/share/doc/x/changelog.gz", string(fixture.Gz(t, []byte("line one\nSECRET=in-a-gz\n")))),
		fixture.File("srv/outer.tar", string(outer)),
	)
	res := walk(t, 0, layer, Options{})
	want := []string{
		"srv/bundle.tgz!package/.npmrc in-a-tgz",
		"srv/app.jar!BOOT-INF/classes/app.properties in-a-jar",
		"usr/share/doc/x/changelog.gz!changelog in-a-gz",
		"srv/outer.tar!deps/inner.tgz!.env two-levels-down",
	}
	if diff := cmp.Diff(want, where(res)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if res.Findings[1].Location.Line != 2 || res.Findings[1].Location.FileSHA256 != sha("a=1\nb=2 SECRET=in-a-jar\n") {
		t.Errorf("jar member: line %d sha %s", res.Findings[1].Location.Line, res.Findings[1].Location.FileSHA256)
	}
	if res.Coverage.Archives != 5 || res.Coverage.Files != 5 {
		t.Errorf("coverage: %d archives, %d files; want 5 archives (tgz, jar, gz, tar, inner tgz) and 5 text files", res.Coverage.Archives, res.Coverage.Files)
	}
}

func TestNestedFindingsTakeTheStatusOfTheirArchive(t *testing.T) {
	tgz := fixture.Gz(t, fixture.Tar(t, fixture.File("package/.npmrc", "SECRET=in-a-tgz\n")))
	results := []*Result{
		walk(t, 0, fixture.Tar(t, fixture.File("srv/bundle.tgz", string(tgz))), Options{}),
		walk(t, 1, fixture.Tar(t, fixture.Whiteout("srv", "bundle.tgz")), Options{}),
	}
	Resolve(results)
	if l := results[0].Findings[0].Location; l.Status != finding.Deleted || l.RemovedByLayer != 1 || l.Path != "srv/bundle.tgz!package/.npmrc" {
		t.Errorf("location %+v, want the member deleted with its archive by layer 1", l)
	}
}

func TestNestedArchiveLimits(t *testing.T) {
	// Four levels: a.tgz holds b.tgz holds c.tgz holds d.tgz holds .npmrc.
	level := fixture.Tar(t, fixture.File(".npmrc", "SECRET=four-levels-down"))
	for _, name := range []string{"d.tgz", "c.tgz", "b.tgz"} {
		level = fixture.Tar(t, fixture.File(name, string(fixture.Gz(t, level))))
	}
	deep := fixture.Gz(t, level)
	// 64 MiB of text lines in about 64 KiB. (A bomb of zeros is binary:
	// it is recognised after 8 KB and never inflated further.)
	bomb := fixture.Gz(t, bytes.Repeat([]byte("all work and no play\n"), 64<<20/21))
	tests := map[string]struct {
		layer   []byte
		opt     Options
		want    []string
		skipped map[string]int64
	}{
		"deeper than the limit": {
			fixture.Tar(t, fixture.File("a.tgz", string(deep)), fixture.File("after", "SECRET=still-scanned")),
			Options{},
			[]string{"after still-scanned"},
			map[string]int64{finding.SkipNestedDepth: 1},
		},
		"within a raised limit": {
			fixture.Tar(t, fixture.File("a.tgz", string(deep))),
			Options{MaxDepth: 4},
			[]string{"a.tgz!b.tgz!c.tgz!d.tgz!.npmrc four-levels-down"},
			nil,
		},
		"a gzip bomb": {
			fixture.Tar(t, fixture.File("zeros.gz", string(bomb)), fixture.File("after", "SECRET=still-scanned")),
			Options{MaxArchiveBytes: 8 << 20},
			[]string{"after still-scanned"},
			map[string]int64{finding.SkipNestedLimit: 1},
		},
		"a corrupt zip": {
			fixture.Tar(t, fixture.File("broken.jar", "PK\x03\x04 this is not a zip at all"), fixture.File("after", "SECRET=still-scanned")),
			Options{},
			[]string{"after still-scanned"},
			map[string]int64{finding.SkipNestedBroken: 1},
		},
		"a truncated tgz": {
			fixture.Tar(t, fixture.File("cut.tgz", string(deep[:len(deep)/2])), fixture.File("after", "SECRET=still-scanned")),
			Options{},
			[]string{"after still-scanned"},
			map[string]int64{finding.SkipNestedBroken: 1},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := walk(t, 0, tc.layer, tc.opt)
			if diff := cmp.Diff(tc.want, where(res)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for reason, n := range tc.skipped {
				if res.Coverage.Skipped[reason] != n {
					t.Errorf("skipped %v, want %d %s", res.Coverage.Skipped, n, reason)
				}
			}
		})
	}
}

func TestALayerBrokenInsideAnArchiveIsALayerError(t *testing.T) {
	noise := make([]byte, 1<<16) // incompressible, so the tgz is large and the cut lands in it
	for i := range noise {
		noise[i] = byte('a' + (i*7919)%26)
		if i%97 == 0 {
			noise[i] = byte(i * 31)
		}
	}
	tgz := fixture.Gz(t, fixture.Tar(t, fixture.File("big.txt", string(noise)+"\nSECRET=late")))
	layer := fixture.Tar(t, fixture.File("first", "SECRET=kept"), fixture.File("srv/bundle.tgz", string(tgz)))
	cut := layer[:len(layer)-1024-len(tgz)/2]
	res, err := Walk(context.Background(), 0, bytes.NewReader(cut), fakeDetector{}, Options{})
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "srv/bundle.tgz") {
		t.Fatalf("err = %v, want the layer's unexpected EOF naming the archive", err)
	}
	if got := where(res); len(got) != 1 || got[0] != "first kept" {
		t.Errorf("findings %v, want the one before the break", got)
	}
}
