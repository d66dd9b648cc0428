package layers_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	. "github.com/imagescan/imagescan/scan/layers"
)

// streamTar writes a tar archive through a pipe as write produces it, so
// that tests can walk layers far larger than memory.
func streamTar(t *testing.T, write func(tw *tar.Writer) error) io.Reader {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20) // few pipe handoffs
		tw := tar.NewWriter(bw)
		err := write(tw)
		if err == nil {
			err = tw.Close()
		}
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// sizeDetector is fakeDetector that remembers the largest content it was
// handed: the walk's memory bound.
type sizeDetector struct {
	fakeDetector
	mu      sync.Mutex
	largest int
	calls   int
}

func (d *sizeDetector) DetectFile(ctx context.Context, f finding.File) []finding.Match {
	d.mu.Lock()
	d.largest = max(d.largest, len(f.Content))
	d.calls++
	d.mu.Unlock()
	return d.fakeDetector.DetectFile(ctx, f)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func TestAFourGigabyteFileStreamsInBoundedMemory(t *testing.T) {
	zeros := make([]byte, 1<<20)
	size := int64(4 << 30)
	if raceEnabled {
		size = 512 << 20
	}
	r := streamTar(t, func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Name: "var/lib/big.img", Size: size, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		for range size >> 20 {
			if _, err := tw.Write(zeros); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Name: "after", Size: 14, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write([]byte("SECRET=after!\n"))
		return err
	})
	det := &sizeDetector{}
	res, err := Walk(context.Background(), 0, r, det, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := where(res); len(got) != 1 || got[0] != "after after!" {
		t.Errorf("findings %v", got)
	}
	if res.Coverage.Binaries != 1 || len(res.Coverage.Skipped) != 0 || det.largest > DefaultWindow {
		t.Errorf("coverage %+v, largest window %d", res.Coverage, det.largest)
	}
	if h := heapInUse(); h > 64<<20 {
		t.Errorf("heap in use %d MiB after a %d MiB file", h>>20, size>>20)
	}
}

func TestAFiftyMegabyteLineIsScannedInWindows(t *testing.T) {
	const size = 50 << 20
	r := streamTar(t, func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Name: "app/bundle.min.js", Size: size, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		chunk := []byte(strings.Repeat("var a=1;", 1<<17)) // 1 MiB, no newline
		for i := range size / len(chunk) {
			if i == 37 {
				copy(chunk[100:], "SECRET=deep-in-the-line")
			}
			if _, err := tw.Write(chunk); err != nil {
				return err
			}
			copy(chunk[100:], strings.Repeat("var a=1;", 3)[:23])
		}
		return nil
	})
	det := &sizeDetector{}
	res, err := Walk(context.Background(), 0, r, det, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app/bundle.min.js deep-in-the-line"}
	if diff := cmp.Diff(want, where(res)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if l := res.Findings[0].Location; l.Line != 1 || l.Column != 37<<20+100+len("SECRET=")+1 {
		t.Errorf("line %d column %d, want line 1 column %d", l.Line, l.Column, 37<<20+100+len("SECRET=")+1)
	}
	if det.largest > DefaultWindow || res.Coverage.Bytes != size {
		t.Errorf("largest window %d, bytes %d", det.largest, res.Coverage.Bytes)
	}
}

// manyFiles is a layer tarball of n one-byte files, produced block by
// block as it is read: no tar.Writer, no pipe, no memory.
type manyFiles struct {
	n, i int
	buf  []byte
}

func (m *manyFiles) Read(p []byte) (int, error) {
	if len(m.buf) == 0 {
		switch {
		case m.i < m.n:
			m.buf = entryBlocks(fmt.Sprintf("srv/data/%04d/%06d.txt", m.i%1000, m.i))
			m.i++
		case m.i == m.n:
			m.buf = make([]byte, 1024) // end-of-archive
			m.i++
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, m.buf)
	m.buf = m.buf[n:]
	return n, nil
}

// entryBlocks is a ustar header for a one-byte file and its data block.
func entryBlocks(name string) []byte {
	b := make([]byte, 1024)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], "00000000001\x00")
	copy(b[136:], "00000000000\x00")
	copy(b[148:], "        ")
	b[156] = '0'
	copy(b[257:], "ustar\x0000")
	var sum int
	for _, c := range b[:512] {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	b[512] = 'x'
	return b
}

func TestAMillionTinyFiles(t *testing.T) {
	const n = 1_000_000
	before := heapInUse()
	res, err := Walk(context.Background(), 0, &manyFiles{n: n}, fakeDetector{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Coverage.Files != n {
		t.Errorf("%d files scanned, want %d", res.Coverage.Files, n)
	}
	// The walk keeps one hashed path per entry for the overlay status: a
	// few tens of bytes each, not the paths themselves.
	if grew := heapInUse() - before; grew > 150<<20 {
		t.Errorf("heap grew %d MiB for %d files", grew>>20, n)
	}
	runtime.KeepAlive(res)
}

func TestHostileTarNames(t *testing.T) {
	layer := fixture.Tar(t,
		fixture.File("../../etc/cron.d/evil", "SECRET=climbs-out"),
		fixture.File("/abs/.env", "SECRET=absolute"),
		fixture.File("bad-\xff\xfe-utf8.txt", "SECRET=invalid-utf8"),
		fixture.Symlink("loop-a", "loop-b"),
		fixture.Symlink("loop-b", "loop-a"),
		fixture.Hardlink("self", "self"),
	)
	res := walk(t, 0, layer, Options{})
	want := []string{"../../etc/cron.d/evil climbs-out", "abs/.env absolute", "bad-\xff\xfe-utf8.txt invalid-utf8"}
	if diff := cmp.Diff(want, where(res)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if res.Coverage.Links != 3 {
		t.Errorf("%d links recorded, want 3 (never followed)", res.Coverage.Links)
	}
}

func TestANULInATarNameIsAnError(t *testing.T) {
	var hdr [512]byte
	copy(hdr[:], "evil\x00name")
	copy(hdr[100:], "0000644\x00")
	copy(hdr[124:], "00000000000\x00")
	copy(hdr[257:], "ustar\x0000")
	hdr[156] = '0'
	copy(hdr[148:], "        ")
	var sum int
	for _, b := range hdr {
		sum += int(b)
	}
	copy(hdr[148:], fmt.Sprintf("%06o\x00 ", sum))
	data := append(hdr[:], make([]byte, 1024)...)
	res, err := Walk(context.Background(), 0, bytes.NewReader(data), fakeDetector{}, Options{})
	// archive/tar reads the name up to the NUL: "evil". Either way, the name
	// is only ever reported, never used as a host path.
	if err != nil || res.Coverage.Files != 1 {
		t.Errorf("err %v, files %d", err, res.Coverage.Files)
	}
}

func TestPAXHeadersClaimingHugeSizes(t *testing.T) {
	t.Run("a file that claims more than the stream holds", func(t *testing.T) {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "first", Size: 16, Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatPAX})
		tw.Write([]byte("SECRET=kept-one\n"))
		tw.Flush()
		// A PAX header that says the next file is 2^62 bytes.
		hdr := &tar.Header{Name: "huge", Size: 1 << 62, Mode: 0o644, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("SECRET=inside-the-huge-file\n")
		res, err := Walk(context.Background(), 0, bytes.NewReader(buf.Bytes()), fakeDetector{}, Options{})
		if err == nil || !strings.Contains(err.Error(), "reading huge") {
			t.Errorf("err = %v, want the truncated huge file named", err)
		}
		if got := where(res); len(got) < 1 || got[0] != "first kept-one" {
			t.Errorf("findings %v", got)
		}
	})
	t.Run("a PAX record block that claims a huge size", func(t *testing.T) {
		var hdr [512]byte
		copy(hdr[:], "PaxHeader")
		copy(hdr[100:], "0000644\x00")
		copy(hdr[124:], "77777777777\x00") // 8 GiB of PAX records
		copy(hdr[257:], "ustar\x0000")
		hdr[156] = 'x'
		copy(hdr[148:], "        ")
		var sum int
		for _, b := range hdr {
			sum += int(b)
		}
		copy(hdr[148:], fmt.Sprintf("%06o\x00 ", sum))
		data := append(hdr[:], make([]byte, 4096)...)
		_, err := Walk(context.Background(), 0, bytes.NewReader(data), fakeDetector{}, Options{})
		if err == nil {
			t.Error("a PAX header of 8 GiB was accepted")
		}
	})
}

func TestDeeplyNestedAndHighRatioArchives(t *testing.T) {
	level := fixture.Tar(t, fixture.File(".npmrc", "SECRET=twenty-deep"))
	for i := range 19 {
		level = fixture.Tar(t, fixture.File(fmt.Sprintf("l%02d.tgz", i), string(fixture.Gz(t, level))))
	}
	text := strings.Repeat("all work and no play makes jack a dull boy\n", 2_500_000) // about 100 MiB
	highRatio := zipOf(t, map[string]string{"big.txt": text})
	if ratio := len(text) / len(highRatio); ratio < 3*DefaultMaxRatio {
		t.Fatalf("the zip's ratio is only %d:1", ratio)
	}
	layer := fixture.Tar(t,
		fixture.File("deep.tgz", string(fixture.Gz(t, level))),
		fixture.File("ratio.zip", string(highRatio)),
		fixture.File("after", "SECRET=still-scanned"),
	)
	res := walk(t, 0, layer, Options{})
	if got := where(res); len(got) != 1 || got[0] != "after still-scanned" {
		t.Errorf("findings %v", got)
	}
	if res.Coverage.Skipped[finding.SkipNestedDepth] != 1 || res.Coverage.Skipped[finding.SkipNestedLimit] != 1 {
		t.Errorf("skipped %v, want one too deep and one past its ratio", res.Coverage.Skipped)
	}
}

// TestABinaryOfOneLongPrintableRunStreams: a binary whose strings are one
// run as long as the file is searched a window at a time, in bounded
// memory, and a secret at its end is found at its offset.
func TestABinaryOfOneLongPrintableRunStreams(t *testing.T) {
	size := int64(1 << 30)
	if raceEnabled {
		size = 64 << 20
	}
	run := bytes.Repeat([]byte("y"), 1<<20)
	r := streamTar(t, func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Name: "opt/blob.bin", Size: 1 + size + 22, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write([]byte{0}); err != nil {
			return err
		}
		for range size >> 20 {
			if _, err := tw.Write(run); err != nil {
				return err
			}
		}
		_, err := tw.Write([]byte(" SECRET=at-the-very-end"[:22]))
		return err
	})
	det := &sizeDetector{}
	res, err := Walk(context.Background(), 0, r, det, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Location.Offset != 1+size+8 || det.largest > DefaultWindow+DefaultWindow/8 {
		t.Errorf("findings %v, largest text %d: want the secret at its offset, a window at a time", res.Findings, det.largest)
	}
	if h := heapInUse(); h > 64<<20 {
		t.Errorf("heap in use %d MiB after a %d MiB run", h>>20, size>>20)
	}
}
