package secrets

import (
	"bytes"
	"sort"
)

// lineIndex maps byte offsets of a text to 1-based lines and columns. It
// finds the text's newlines on first use.
type lineIndex struct {
	text     []byte
	newlines []int
	indexed  bool
}

func (l *lineIndex) index() {
	if l.indexed {
		return
	}
	l.indexed = true
	for i := 0; ; {
		j := bytes.IndexByte(l.text[i:], '\n')
		if j < 0 {
			return
		}
		l.newlines = append(l.newlines, i+j)
		i += j + 1
	}
}

// position returns the 1-based line and column (in bytes) of offset.
func (l *lineIndex) position(offset int) (line, col int) {
	l.index()
	n := sort.SearchInts(l.newlines, offset) // newlines before offset
	return n + 1, offset - l.lineStart(n) + 1
}

// lineStart returns the offset where line n (0-based) starts.
func (l *lineIndex) lineStart(n int) int {
	if n == 0 {
		return 0
	}
	return l.newlines[n-1] + 1
}

// around returns the whole lines that text[start:end] lies on, without
// their final newline.
func (l *lineIndex) around(start, end int) []byte {
	l.index()
	from := l.lineStart(sort.SearchInts(l.newlines, start))
	to := len(l.text)
	if i := sort.SearchInts(l.newlines, end); i < len(l.newlines) {
		to = l.newlines[i]
	}
	return l.text[from:max(to, from)]
}
