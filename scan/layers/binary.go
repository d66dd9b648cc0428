package layers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/imagescan/imagescan/finding"
)

// notText scans a file whose first window has a NUL byte: as UTF-16 text
// when it is one, else through its printable strings, or, with
// SkipBinaries, by its path alone. head is what was read of it; r holds
// the rest.
func (w *walker) notText(t target, r io.Reader) error {
	head := bytes.Clone(w.unhashed) // w.buf, which the reading reuses
	w.unhashed = nil
	if order := utf16Order(head); order != "" {
		return w.utf16File(t, order, head, r)
	}
	switch {
	case w.opt.SkipBinaries:
		w.res.Coverage.Skip(finding.SkipBinary)
	case packed(head):
		w.res.Coverage.Skip(finding.SkipPacked)
	default:
		return w.binaryStrings(t, head, r)
	}
	w.unhashed = head
	return w.binaryFile(t, r)
}

// packedMagic are the first bytes of compressed streams and archives
// imagescan does not open: their strings are noise, so they are counted
// as not scanned rather than searched.
var packedMagic = [][]byte{
	[]byte("\xfd7zXZ\x00"),           // xz
	[]byte("\x28\xb5\x2f\xfd"),       // zstd
	[]byte("BZh"),                    // bzip2
	[]byte("!<arch>\ndebian-binary"), // a Debian package: an ar archive of compressed tarballs
	[]byte("7z\xbc\xaf\x27\x1c"),     // 7-Zip
	[]byte("Rar!\x1a\x07"),           // RAR
	[]byte("\x04\x22\x4d\x18"),       // LZ4
}

func packed(head []byte) bool {
	for _, m := range packedMagic {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}

// utf16File scans a UTF-16 text, decoded: its lines and columns are those
// of the decoded text, and its digest that of the file's bytes. Unpaired
// surrogates decode as U+FFFD.
func (w *walker) utf16File(t target, order string, head []byte, r io.Reader) error {
	t.content = order
	endian := unicode.LittleEndian
	if order == finding.ContentUTF16BE {
		endian = unicode.BigEndian
	}
	h := sha256.New()
	raw := io.TeeReader(io.MultiReader(bytes.NewReader(head), r), h)
	text := transform.NewReader(raw, unicode.UTF16(endian, unicode.UseBOM).NewDecoder())
	w.hash.Reset()
	ms, _, _, err := w.windows(t.path, text, false)
	if err != nil {
		w.res.Coverage.Skip(finding.SkipUnreadable)
		w.add(t, "", ms)
		return fmt.Errorf("reading %s: %w", t.path, err)
	}
	w.add(t, hex.EncodeToString(h.Sum(nil)), ms)
	return nil
}

// binaryStrings scans a binary file's printable strings (see
// appendStrings), a window of the file at a time: consecutive windows
// overlap as text windows do, so a string across their edge is seen whole
// in one. Its findings are at byte offsets.
func (w *walker) binaryStrings(t target, head []byte, r io.Reader) error {
	t.content = finding.ContentBinary
	h := sha256.New()
	src := io.TeeReader(io.MultiReader(bytes.NewReader(head), r), h)
	ms := finding.Best(w.det.DetectFile(w.ctx, finding.File{Path: t.path}), w.suppressed())
	var (
		buf     = w.buf
		n       int
		base    int64
		scanned int64
	)
	for {
		m, eof, err := fill(src, buf[n:])
		n += m
		if err != nil {
			w.res.Coverage.Skip(finding.SkipUnreadable)
			w.add(t, "", ms)
			return fmt.Errorf("reading %s: %w", t.path, err)
		}
		next := n
		if !eof {
			next = n - w.opt.Overlap
		}
		w.text, w.runs = appendStrings(w.text[:0], w.runs[:0], buf[:n], base)
		cut := binaryCut{runs: w.runs, limit: base + int64(next), eof: eof}
		scanned += int64(len(w.text))
		ms = append(ms, w.detectStrings(t.path, cut)...)
		if eof {
			break
		}
		n = copy(buf, buf[next:n])
		base += int64(next)
	}
	w.res.Coverage.Files++
	w.res.Coverage.Binaries++
	w.res.Coverage.Bytes += scanned
	w.add(t, hex.EncodeToString(h.Sum(nil)), ms)
	return nil
}

// detectStrings detects the strings text of one window of a binary file,
// or queues it for the pipeline's workers; it returns what it found now.
func (w *walker) detectStrings(path string, cut binaryCut) []finding.Match {
	if len(w.text) == 0 {
		return nil
	}
	if w.pipe != nil {
		cut.runs = append([]stringRun(nil), cut.runs...)
		w.queueStrings(path, w.text, cut)
		return nil
	}
	found := w.det.DetectFile(w.ctx, finding.File{Path: path, Content: w.text, Binary: true})
	return finding.Best(cut.place(w.text, found), w.suppressed())
}
