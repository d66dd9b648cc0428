package layers_test

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	. "github.com/imagescan/imagescan/scan/layers"
)

// place is where a walk put a finding in a file it did not read as text.
type place struct {
	Path, Secret, Content string
	Line, Column          int
	Offset                int64
	SHA                   string
}

func places(res *Result) []place {
	var out []place
	for _, f := range res.Findings {
		l := f.Location
		out = append(out, place{l.Path, f.Secret.Raw(), l.Content, l.Line, l.Column, l.Offset, l.FileSHA256})
	}
	return out
}

func utf16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func utf16BE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.BigEndian.AppendUint16(b, u)
	}
	return b
}

// writeAt returns data with s written at off.
func writeAt(data []byte, off int, s []byte) []byte {
	copy(data[off:], s)
	return data
}

func TestBinariesAreSearchedThroughTheirStrings(t *testing.T) {
	elf := make([]byte, 64<<10)
	copy(elf, "\x7fELF\x02\x01\x01")
	writeAt(elf, 4096, []byte("\x01\x02SECRET=narrow-one\x00\x03"))
	writeAt(elf, 9001, append([]byte{0xff}, utf16LE("SECRET=wide-little-endian")...))
	writeAt(elf, 20000, utf16BE("SECRET=wide-big-endian"))
	writeAt(elf, 30001, []byte("\x00SECRET=café-au-lait\x00"))
	writeAt(elf, 40000, []byte("\x00SECRET=short\x00")) // a short value in a run of 12
	writeAt(elf, 50000, []byte("\x00SECRET\x00"))       // too short for a run
	layer := fixture.Tar(t, fixture.File("usr/local/bin/tool", string(elf)))
	for _, workers := range []int{-1, 2} {
		res := walk(t, 0, layer, Options{Workers: workers})
		sum := sha(string(elf))
		want := []place{
			{"usr/local/bin/tool", "narrow-one", finding.ContentBinary, 0, 0, 4096 + 2 + 7, sum},
			{"usr/local/bin/tool", "café-au-lait", finding.ContentBinary, 0, 0, 30001 + 1 + 7, sum},
			{"usr/local/bin/tool", "short", finding.ContentBinary, 0, 0, 40000 + 1 + 7, sum},
			{"usr/local/bin/tool", "wide-little-endian", finding.ContentBinary, 0, 0, 9001 + 1 + 14, sum},
			{"usr/local/bin/tool", "wide-big-endian", finding.ContentBinary, 0, 0, 20000 + 14, sum},
		}
		if diff := cmp.Diff(want, places(res)); diff != "" {
			t.Errorf("workers %d (-want +got):\n%s", workers, diff)
		}
		if c := res.Coverage; c.Files != 1 || c.Binaries != 1 || len(c.Skipped) != 0 {
			t.Errorf("workers %d: coverage %+v, want one binary file scanned", workers, c)
		}
	}
}

func TestABinaryStringAcrossAWindowEdgeIsFoundOnce(t *testing.T) {
	const window, overlap = 64 << 10, 4 << 10
	data := make([]byte, 3*window)
	data[0] = 0x7f
	across := window - 10                 // cut by the first window's end
	inOverlap := 2*(window-overlap) - 100 // in the second window's overlap with the third
	writeAt(data, across, []byte("SECRET=across-the-edge\x00"))
	writeAt(data, inOverlap, []byte("SECRET=in-the-overlap\x00"))
	long := bytes.Repeat([]byte("y"), 2*window) // one run longer than a window
	writeAt(long, window+100, []byte("SECRET=deep-in-a-long-run "))
	data = append(data, long...)
	layer := fixture.Tar(t, fixture.File("srv/data.bin", string(data)))
	for _, workers := range []int{-1, 2} {
		res := walk(t, 0, layer, Options{Window: window, Overlap: overlap, Workers: workers})
		var got []string
		for _, p := range places(res) {
			got = append(got, p.Secret+"@"+itoa(p.Offset))
		}
		want := []string{
			"across-the-edge@" + itoa(int64(across+7)),
			"in-the-overlap@" + itoa(int64(inOverlap+7)),
			"deep-in-a-long-run@" + itoa(int64(3*window+window+100+7)),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("workers %d (-want +got):\n%s", workers, diff)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestUTF16TextIsDecoded(t *testing.T) {
	text := "first line\nsecond SECRET=utf16-value\n"
	withBOM := append([]byte{0xff, 0xfe}, utf16LE(text)...)
	bigEndian := utf16BE(text)
	// An unpaired surrogate decodes as U+FFFD (3 bytes in UTF-8), before the secret.
	lone := append(utf16LE("x\n"), 0x00, 0xd8)
	lone = append(lone, utf16LE(" SECRET=after-a-lone-surrogate\n")...)
	layer := fixture.Tar(t,
		fixture.File("c/setup.ps1", string(withBOM)),
		fixture.File("c/notes.txt", string(bigEndian)),
		fixture.File("c/odd.reg", string(lone)),
	)
	res := walk(t, 0, layer, Options{})
	want := []place{
		{"c/setup.ps1", "utf16-value", finding.ContentUTF16LE, 2, 15, 0, sha(string(withBOM))},
		{"c/notes.txt", "utf16-value", finding.ContentUTF16BE, 2, 15, 0, sha(string(bigEndian))},
		{"c/odd.reg", "after-a-lone-surrogate", finding.ContentUTF16LE, 2, 12, 0, sha(string(lone))},
	}
	if diff := cmp.Diff(want, places(res)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if c := res.Coverage; c.Files != 3 || c.Binaries != 0 || len(c.Skipped) != 0 {
		t.Errorf("coverage %+v, want three text files", c)
	}
}

func TestSkipBinariesCountsThem(t *testing.T) {
	layer := fixture.Tar(t, fixture.File("bin/tool", "\x7fELF\x00\x00 SECRET=in-a-binary"))
	res := walk(t, 0, layer, Options{SkipBinaries: true})
	if len(res.Findings) != 0 || res.Coverage.Skipped[finding.SkipBinary] != 1 || res.Coverage.Files != 0 {
		t.Errorf("findings %v, coverage %+v: want the binary skipped and counted", places(res), res.Coverage)
	}
	if Options.Key(Options{SkipBinaries: true}) == Options.Key(Options{}) {
		t.Error("skipping binaries does not change the walk's key: cached walks would mix")
	}
}

func TestPackedFilesAreCountedNotSearched(t *testing.T) {
	layer := fixture.Tar(t,
		fixture.File("var/cache/apt/archives/tool.deb", "!<arch>\ndebian-binary   \x00\x00 SECRET=inside-an-ar-member"),
		fixture.File("srv/dump.xz", "\xfd7zXZ\x00\x00 SECRET=looks-like-one"),
		fixture.File("usr/lib/libapp.a", "!<arch>\n/               0           0     0     0       4         `\n\x00\x00\x00\x00 SECRET=in-a-static-library"),
	)
	res := walk(t, 0, layer, Options{})
	if got := places(res); len(got) != 1 || got[0].Secret != "in-a-static-library" ||
		res.Coverage.Skipped[finding.SkipPacked] != 2 || res.Coverage.Binaries != 1 {
		t.Errorf("findings %v, coverage %+v: want the package and the xz counted as packed, the static library searched", got, res.Coverage)
	}
}
