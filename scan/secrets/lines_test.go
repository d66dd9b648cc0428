package secrets

import "testing"

func TestLineIndex(t *testing.T) {
	l := &lineIndex{text: []byte("ab\ncd\n\nefg")}
	for _, tc := range []struct{ off, line, col int }{{0, 1, 1}, {1, 1, 2}, {3, 2, 1}, {4, 2, 2}, {6, 3, 1}, {7, 4, 1}, {9, 4, 3}} {
		if line, col := l.position(tc.off); line != tc.line || col != tc.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", tc.off, line, col, tc.line, tc.col)
		}
	}
	if got := string(l.around(4, 5)); got != "cd" {
		t.Errorf("around(4, 5) = %q", got)
	}
	if got := string(l.around(1, 9)); got != "ab\ncd\n\nefg" {
		t.Errorf("around(1, 9) = %q", got)
	}
}
