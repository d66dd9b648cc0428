package layers

import (
	"bytes"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// naiveStrings is the definition appendStrings follows, one byte at a
// time: what the fast search must find, run for run.
func naiveStrings(block []byte, base int64) ([]byte, []stringRun) {
	var text []byte
	var runs []stringRun
	for i := 0; i < len(block); {
		from, chars := i, 0
		for i < len(block) {
			r, size := rune(block[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRune(block[i:])
				if r == utf8.RuneError || !unicode.IsPrint(r) {
					break
				}
			} else if !printableASCII[block[i]] {
				break
			}
			i += size
			chars++
		}
		if chars >= minRun {
			runs = append(runs, stringRun{text: len(text), file: base + int64(from), unit: 1})
			text = append(append(text, block[from:i]...), '\n')
			if s, e, ok := prefixed(block, from, i); ok {
				runs = append(runs, stringRun{text: len(text), file: base + int64(s), unit: 1})
				text = append(append(text, block[s:e]...), '\n')
			}
		}
		if i == from {
			i++
		}
	}
	for i := 0; i+1 < len(block); {
		lo := -1
		switch {
		case printableASCII[block[i]] && block[i+1] == 0:
			lo = 0
		case block[i] == 0 && printableASCII[block[i+1]]:
			lo = 1
		}
		if lo < 0 {
			i++
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
		i = max(j, i+1)
	}
	return text, runs
}

func checkStrings(t *testing.T, block []byte) {
	t.Helper()
	wantText, wantRuns := naiveStrings(block, 100)
	text, runs := appendStrings(nil, nil, block, 100)
	if !bytes.Equal(text, wantText) || !cmp.Equal(runs, wantRuns, cmp.AllowUnexported(stringRun{})) {
		t.Fatalf("strings of %q:\n got %q %v\nwant %q %v", block, text, runs, wantText, wantRuns)
	}
}

func TestStringsFollowTheirDefinition(t *testing.T) {
	page := make([]byte, 9000)
	copy(page[4200:], "\x00k\x00e\x00y\x00=\x00v\x00a\x00l\x00u\x00e")
	copy(page[8100:], "plain ascii run here\xc3\xa9\xff\xfe tail-of-it")
	for _, block := range [][]byte{
		nil, []byte("short"), []byte("exactly8"), page,
		[]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00a\x00b\x00c\x00d\x00e\x00f\x00g\x00h"),
		[]byte("a\x00b\x00c\x00d\x00e\x00f\x00g\x00h\x00\x00\x00"),
		[]byte("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"),
		[]byte("abc\xe2\x82defghijkl\x01mnopqrstu"),
	} {
		checkStrings(t, block)
	}
}

func FuzzStrings(f *testing.F) {
	f.Add([]byte("\x7fELF\x00\x00SECRET=value\x00k\x00e\x00y\x00=\x00v\x00a\x00l\x00u\x00e\x00"))
	f.Add([]byte("caf\xc3\xa9-au-lait\xed\xa0\x80 more text"))
	f.Fuzz(func(t *testing.T, block []byte) {
		checkStrings(t, block)
	})
}

func TestLengthPrefixedStringsStandAlone(t *testing.T) {
	for _, c := range []struct {
		block string
		want  string // the string found apart from its run, or ""
	}{
		{"\xda\x14AKIA4A7UNZQWWYEVFSS5z\teu-west-1N)", "AKIA4A7UNZQWWYEVFSS5"}, // Python's marshal
		{"\x01\x00\x0cclient_tokenA\x00\x01", "client_token"},                  // a Java constant, its length a printable byte
		{"\x14AKIA4A7UNZQWWYEVFSS5", ""},                                       // the run is the string: nothing more
		{"\x05abcdefghijk", ""},                                                // too short to stand alone
		{"\x0babc\xc3\xa9defghijk", ""},                                        // not ASCII
	} {
		block := []byte(c.block)
		text, _ := appendStrings(nil, nil, block, 0)
		lines := bytes.Split(bytes.TrimSuffix(text, []byte("\n")), []byte("\n"))
		got := ""
		if len(lines) > 1 {
			got = string(lines[1])
		}
		if got != c.want {
			t.Errorf("%q: strings %q, want %q apart", c.block, lines, c.want)
		}
	}
}
