package layers

import (
	"bytes"
	"encoding/binary"
	"unicode"
	"unicode/utf8"

	"github.com/imagescan/imagescan/finding"
)

// A binary file is searched through its printable strings, as strings(1)
// finds them: runs of printable ASCII or UTF-8, and runs of printable
// ASCII in UTF-16, little- or big-endian, of at least minRun characters.
// Each run becomes one line of a text the rules read, and a match is
// placed back at the byte offset in the file where its secret starts. A
// run ends at any other byte, a newline included, so the lines of a PEM
// key stay lines.
const minRun = 8

// stringRun is one printable run of a binary file: where its line starts
// in the strings text, where its first character is in the file, and how
// many bytes of the file each character takes.
type stringRun struct {
	text int
	file int64
	unit int64
}

// printableASCII holds the bytes a run of either kind may hold.
var printableASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// appendStrings appends the printable runs of block, which starts at
// offset base in its file, to text, one per line, and their places to
// runs: the ASCII and UTF-8 runs first, then the UTF-16 ones.
func appendStrings(text []byte, runs []stringRun, block []byte, base int64) ([]byte, []stringRun) {
	text, runs = appendUTF8Runs(text, runs, block, base)
	return appendUTF16Runs(text, runs, block, base)
}

func appendUTF8Runs(text []byte, runs []stringRun, block []byte, base int64) ([]byte, []stringRun) {
	// A run of minRun bytes or more holds one of every minRun-th byte:
	// look at those first, and skip on when one cannot be in a run.
	done := 0 // bytes before it are looked at
	for probe := minRun - 1; probe < len(block); {
		if !mayBeInRun(block, probe, done) {
			probe += minRun
			continue
		}
		start := done // near: read from there rather than walk back
		if probe-done > minRun {
			start = probe
			for start > done && (printableASCII[block[start-1]] || block[start-1] >= utf8.RuneSelf) {
				start--
			}
		}
		text, runs, done = appendRunsFrom(text, runs, block, base, start, probe)
		probe = done + minRun
	}
	return text, runs
}

// mayBeInRun reports whether block[i] is printable ASCII or a byte of a
// printable UTF-8 character that starts at or after done.
func mayBeInRun(block []byte, i, done int) bool {
	c := block[i]
	if printableASCII[c] {
		return true
	}
	if c < utf8.RuneSelf {
		return false
	}
	lead := i
	for lead > max(done, i-utf8.UTFMax+1) && block[lead]&0xc0 == 0x80 {
		lead--
	}
	return lead+utf8Char(block[lead:]) > i
}

// appendRunsFrom appends the runs from block[start] on, up to the first
// byte at or after probe that no run holds, and returns where it stopped.
func appendRunsFrom(text []byte, runs []stringRun, block []byte, base int64, start, probe int) ([]byte, []stringRun, int) {
	i := start
	for i < len(block) {
		from, chars := i, 0
		for i < len(block) {
			if printableASCII[block[i]] {
				i++
				chars++
				continue
			}
			if block[i] < 0xc2 || block[i] > 0xf4 {
				break
			}
			size := utf8Char(block[i:])
			if size == 0 {
				break
			}
			i += size
			chars++
		}
		if chars >= minRun {
			text, runs = appendRun(text, runs, block, base, from, i)
		}
		if i >= probe {
			break
		}
		i++ // a byte no run holds
	}
	return text, runs, i
}

// appendRun appends the run block[from:to], and, when a length before it
// says a shorter string starts it, that string too (see prefixed).
func appendRun(text []byte, runs []stringRun, block []byte, base int64, from, to int) ([]byte, []stringRun) {
	runs = append(runs, stringRun{text: len(text), file: base + int64(from), unit: 1})
	text = append(append(text, block[from:to]...), '\n')
	if s, e, ok := prefixed(block, from, to); ok {
		runs = append(runs, stringRun{text: len(text), file: base + int64(s), unit: 1})
		text = append(append(text, block[s:e]...), '\n')
	}
	return text, runs
}

// prefixed finds a length-prefixed string at the start of the run
// block[from:to]: compiled Python, Java classes and many serialisations
// store a string as its length and then its bytes, and the byte that
// follows (the next value's type, say) may be printable and glue the
// string to what comes after it, where a rule wants a word boundary. The
// length is the byte before the run, or, after a zero, the run's first
// byte (a two-byte big-endian length). The string must be ASCII, at least
// minRun long, and end inside the run, before its end.
func prefixed(block []byte, from, to int) (s, e int, ok bool) {
	if from == 0 {
		return 0, 0, false
	}
	s, n := from, int(block[from-1])
	if block[from-1] == 0 {
		s, n = from+1, int(block[from])
	}
	e = s + n
	if n < minRun || e >= to {
		return 0, 0, false
	}
	for _, c := range block[s:e] {
		if !printableASCII[c] {
			return 0, 0, false
		}
	}
	return s, e, true
}

// utf8Char returns the length of the printable UTF-8 character of two or
// more bytes that b starts with, or 0.
func utf8Char(b []byte) int {
	if b[0] < 0xc2 || b[0] > 0xf4 || len(b) < 2 || b[1]&0xc0 != 0x80 {
		return 0
	}
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError || !unicode.IsPrint(r) {
		return 0
	}
	return size
}

// zeroPage is a page of zeros, to skip zero padding a page at a time.
var zeroPage [4096]byte

// skipZeros returns the first index from i, a zero byte, whose 8-byte word
// is not all zeros.
func skipZeros(block []byte, i int) int {
	if i+8 > len(block) || binary.LittleEndian.Uint64(block[i:]) != 0 {
		return i
	}
	for i+len(zeroPage) <= len(block) && bytes.Equal(block[i:i+len(zeroPage)], zeroPage[:]) {
		i += len(zeroPage)
	}
	for i+8 <= len(block) && binary.LittleEndian.Uint64(block[i:]) == 0 {
		i += 8
	}
	return i
}

func appendUTF16Runs(text []byte, runs []stringRun, block []byte, base int64) ([]byte, []stringRun) {
	// A run of minRun characters holds one of every 2*minRun-th byte, a
	// zero or a printable byte beside the other: look at those first, and
	// skip on when one cannot be in a run.
	const span = 2 * minRun
	done := 0 // the scan is past bytes before it, and in no run at it
	for probe := span - 1; probe < len(block); {
		if !mayBeInUTF16(block, probe) {
			probe += span
			continue
		}
		start := probe
		for start > done && (block[start-1] == 0 || printableASCII[block[start-1]]) {
			start--
		}
		text, runs, done = appendUTF16From(text, runs, block, base, start, probe)
		probe = done + span - 1
	}
	return text, runs
}

// mayBeInUTF16 reports whether block[i] and a byte beside it could be a
// UTF-16 character: a zero and a printable ASCII byte.
func mayBeInUTF16(block []byte, i int) bool {
	c := block[i]
	switch {
	case c == 0:
		return i > 0 && printableASCII[block[i-1]] || i+1 < len(block) && printableASCII[block[i+1]]
	case printableASCII[c]:
		return i > 0 && block[i-1] == 0 || i+1 < len(block) && block[i+1] == 0
	}
	return false
}

// appendUTF16From appends the UTF-16 runs from block[start] on, as a scan
// from the start of the block would find them, up to the first byte at or
// after probe where none starts, and returns the byte after it.
func appendUTF16From(text []byte, runs []stringRun, block []byte, base int64, start, probe int) ([]byte, []stringRun, int) {
	i := start
	for i+1 < len(block) {
		lo := -1 // the byte of each pair that holds the character
		switch {
		case printableASCII[block[i]] && block[i+1] == 0:
			lo = 0
		case block[i] == 0 && printableASCII[block[i+1]]:
			lo = 1
		}
		if lo < 0 {
			i++
			if i > probe {
				return text, runs, i
			}
			continue
		}
		j := i
		for j+1 < len(block) && printableASCII[block[j+lo]] && block[j+1-lo] == 0 {
			j += 2
		}
		if (j-i)/2 >= minRun {
			runs = append(runs, stringRun{text: len(text), file: base + int64(i), unit: 2})
			for k := i; k < j; k += 2 {
				text = append(text, block[k+lo])
			}
			text = append(text, '\n')
		}
		i = j
	}
	return text, runs, len(block)
}

// binaryCut says where a block of a binary file lies, to place the
// matches in its strings text.
type binaryCut struct {
	runs  []stringRun
	limit int64 // where the next block starts in the file; its matches from there are the next block's
	eof   bool  // the block ends the file
}

// place turns matches in the strings text into matches at byte offsets of
// the file. A match that starts where the next block starts or after it
// is left to that block, which sees it whole; matches by path alone were
// made once for the file, and are dropped here.
func (c binaryCut) place(text []byte, ms []finding.Match) []finding.Match {
	var out []finding.Match
	for _, m := range ms {
		if m.Line < 1 || m.Line > len(c.runs) {
			continue
		}
		off := c.offset(text, m)
		if !c.eof && off >= c.limit {
			continue
		}
		m.Line, m.Column, m.Offset = 0, 0, off
		out = append(out, m)
	}
	return out
}

// offset returns where m's secret starts in the file: found in its line,
// from where the match starts, or, for a secret read out of encoded text,
// where the match starts.
func (c binaryCut) offset(text []byte, m finding.Match) int64 {
	r := c.runs[m.Line-1]
	from := min(r.text+max(m.Column-1, 0), len(text))
	at := from - r.text
	if raw := m.Secret.Raw(); raw != "" {
		if i := bytes.Index(text[from:], []byte(raw)); i >= 0 && bytes.IndexByte(text[from:from+i], '\n') < 0 {
			at += i
		}
	}
	return r.file + int64(at)*r.unit
}

// utf16Order tells a UTF-16 text by its first bytes: a byte-order mark, or
// a NUL in nearly every other byte, on the same side, and in almost no
// byte between.
func utf16Order(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}) && !bytes.HasPrefix(head, []byte{0xff, 0xfe, 0, 0}):
		return finding.ContentUTF16LE
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return finding.ContentUTF16BE
	}
	pairs := min(len(head), sniffLen) / 2
	if pairs < minRun {
		return ""
	}
	var zeros [2]int
	for i := range pairs {
		for side := range 2 {
			if head[2*i+side] == 0 {
				zeros[side]++
			}
		}
	}
	// Nearly all ASCII on one side, with room for a few other characters,
	// and a NUL on the other side only for a rare one (U+D800, say).
	switch {
	case zeros[0] <= pairs/20 && zeros[1] >= pairs*9/10:
		return finding.ContentUTF16LE
	case zeros[1] <= pairs/20 && zeros[0] >= pairs*9/10:
		return finding.ContentUTF16BE
	}
	return ""
}
