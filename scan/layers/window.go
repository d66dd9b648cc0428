package layers

import (
	"bytes"
	"errors"
	"io"

	"github.com/imagescan/imagescan/finding"
)

// windows hands the file's content to the detector one window at a time
// and returns its matches with lines and columns made relative to the
// whole file. With sniff, binary is true, and nothing is scanned, when
// the first window has a NUL byte in its first 8000 bytes; the caller
// then owns the rest of r, and w.unhashed holds what was read of it. With a pipeline,
// the windows are queued for its workers instead, and their matches
// recorded when the caller ends the file (endFile).
//
// The file's digest, evidence for its findings, is taken only where it
// may be needed: a file longer than a window is hashed as it is read
// into w.hash; one read in a single window (most files) only when it has
// findings, here or, with a pipeline, when they are recorded (lazySum is
// then true and w.hash holds nothing).
func (w *walker) windows(p string, r io.Reader, sniff bool) (ms []finding.Match, lazySum, binary bool, err error) {
	var (
		buf      = w.buf
		n        int // bytes in buf
		lineBase int // lines of the file before buf[0]
		colBase  int // bytes of buf[0]'s line that came before buf[0]
		scanned  int64
	)
	for first := true; ; first = false {
		read := n // bytes before it are hashed already
		if first {
			read = 0
		}
		m, eof, rerr := fill(r, buf[n:])
		n += m
		if rerr != nil {
			return ms, false, false, rerr
		}
		if sniff && first && bytes.IndexByte(buf[:min(n, sniffLen)], 0) >= 0 {
			w.unhashed = buf[:n]
			return nil, false, true, nil
		}
		whole := first && eof
		if !whole {
			w.hash.Write(buf[read:n])
		}
		next := n
		if !eof {
			next = w.nextStart(buf[:n])
		}
		cut := windowCut{eof: eof, lineBase: lineBase, colBase: colBase}
		cut.nextLine, cut.nextCol = position(buf[:next])
		if w.pipe != nil {
			w.queueWindow(p, buf[:n], cut, whole)
			lazySum = whole
		} else {
			found := cut.place(w.det.DetectFile(w.ctx, finding.File{Path: p, Content: buf[:n]}))
			if whole && len(found) > 0 {
				w.hash.Write(buf[:n])
			}
			ms = append(ms, found...)
		}
		scanned += int64(next)
		if eof {
			break
		}
		lineBase, colBase = advance(buf[:next], lineBase, colBase)
		n = copy(buf, buf[next:n])
	}
	w.res.Coverage.Files++
	w.res.Coverage.Bytes += scanned
	if w.pipe != nil {
		return nil, lazySum, false, nil
	}
	return finding.Best(ms, w.suppressed()), false, false, nil
}

// windowCut says where a window lies in its file, to place its matches.
type windowCut struct {
	eof               bool // the window ends the file
	nextLine, nextCol int  // where the next window starts, in this one
	lineBase          int  // lines of the file before the window
	colBase           int  // bytes of the window's first line that came before it
}

// place drops the matches that the next window finds whole, and makes the
// others' lines and columns relative to the file.
func (c windowCut) place(ms []finding.Match) []finding.Match {
	var out []finding.Match
	for _, m := range ms {
		// A match that starts in the overlap is found again, whole, by the
		// next window; here it may be cut off at the window's end.
		if !c.eof && (m.Line > c.nextLine || m.Line == c.nextLine && m.Column >= c.nextCol) {
			continue
		}
		if m.Line == 1 {
			m.Column += c.colBase
		}
		m.Line += c.lineBase
		out = append(out, m)
	}
	return out
}

// nextStart returns where the next window begins in a full window: at the
// start of the first line inside the last Overlap bytes, or, for a line
// longer than that, Overlap bytes before the end.
func (w *walker) nextStart(window []byte) int {
	cut := len(window) - w.opt.Overlap
	if i := bytes.IndexByte(window[cut:], '\n'); i >= 0 {
		return cut + i + 1
	}
	return cut
}

// fill reads into buf until it is full or the file ends. eof is true when
// the file ended; an error is any other failure, including a stream that
// ends inside the file (io.ErrUnexpectedEOF from the tar reader).
func fill(r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

// position returns the 1-based line and column at which the byte after
// consumed would be, relative to the start of consumed.
func position(consumed []byte) (line, col int) {
	line = 1 + bytes.Count(consumed, []byte("\n"))
	return line, len(consumed) - (bytes.LastIndexByte(consumed, '\n') + 1) + 1
}

// advance moves the line and column bases past the consumed bytes.
func advance(consumed []byte, lineBase, colBase int) (int, int) {
	nl := bytes.Count(consumed, []byte("\n"))
	if nl == 0 {
		return lineBase, colBase + len(consumed)
	}
	last := bytes.LastIndexByte(consumed, '\n')
	return lineBase + nl, len(consumed) - last - 1
}
