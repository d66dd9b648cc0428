package secrets

import (
	"bytes"
	"slices"
	"strings"
)

// keywordIndex finds every occurrence of the rules' keywords in a text,
// case-insensitively, in one pass. At each byte it looks the next two and
// three lowercase bytes up in two bit sets of 8 KiB each, small enough
// for the L1 cache: one of the two-byte keywords, one of hashed three-byte
// prefixes of the longer ones. Only where a prefix is set does it compare
// the keywords that start with it. Every keyword is at least two bytes
// long (gitleaks' rules have none shorter; a shorter one would make every
// byte a candidate).
//
// Only ASCII letters fold. gitleaks lowercases the text with
// strings.ToLower, which also turns the Kelvin sign into k and the dotted
// capital I into i, and the rules' (?i) regexes match the long s for s; a
// text holding any of those three runes is left to the slow path (see
// hasFoldingRunes). Offsets are byte offsets in the original text.
type keywordIndex struct {
	words  []string            // lowercase keywords, indexed by keyword number
	two    bitSet              // the two-byte keywords
	twoNum map[uint16]int      // … and their numbers
	three  bitSet              // hashes of the longer keywords' first three bytes
	longer map[uint32][]uint16 // first three bytes → keyword numbers
}

// keywordHit is one occurrence of keyword number kw at text[pos:].
type keywordHit struct {
	pos int
	kw  int
}

// bitSet is a set of 16-bit values.
type bitSet [1 << 10]uint64

func (b *bitSet) add(v uint16)      { b[v>>6] |= 1 << (v & 63) }
func (b *bitSet) has(v uint16) bool { return b[v>>6]&(1<<(v&63)) != 0 }

// hash3 folds three bytes, packed into a uint32, into 16 bits.
func hash3(v uint32) uint16 { return uint16((v * 0x9E3779B1) >> 16) }

// lowerASCII maps a byte to its ASCII lowercase.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

// newKeywordIndex indexes words, which must be lowercase, ASCII and at
// least two bytes long.
func newKeywordIndex(words []string) *keywordIndex {
	k := &keywordIndex{words: words, twoNum: map[uint16]int{}, longer: map[uint32][]uint16{}}
	for i, w := range words {
		if len(w) == 2 {
			key := uint16(w[0])<<8 | uint16(w[1])
			k.two.add(key)
			k.twoNum[key] = i
			continue
		}
		key := uint32(w[0])<<16 | uint32(w[1])<<8 | uint32(w[2])
		k.three.add(hash3(key))
		k.longer[key] = append(k.longer[key], uint16(i))
	}
	return k
}

// find appends to hits every occurrence of every keyword in text, in order
// of position, and returns the extended slice.
func (k *keywordIndex) find(text []byte, hits []keywordHit) []keywordHit {
	if len(text) < 2 {
		return hits
	}
	v := uint32(lowerASCII[text[0]])
	for i := 1; i <= len(text); i++ {
		var c uint32
		if i < len(text) {
			c = uint32(lowerASCII[text[i]])
		}
		v = (v<<8 | c) & 0xffffff // the bytes at i-2, i-1 and i
		if i >= 2 {
			// the two-byte keyword ending at i-1 starts at i-2
			if key := uint16(v >> 8); k.two.has(key) {
				hits = append(hits, keywordHit{pos: i - 2, kw: k.twoNum[key]})
			}
			if i < len(text) && k.three.has(hash3(v)) {
				hits = k.longer3(text, i-2, v, hits)
			}
		}
	}
	return hits
}

// longer3 appends the keywords of three bytes or more, starting with the
// three bytes v, that occur at text[pos:].
func (k *keywordIndex) longer3(text []byte, pos int, v uint32, hits []keywordHit) []keywordHit {
	for _, kw := range k.longer[v] {
		if hasFoldedPrefix(text[pos:], k.words[kw]) {
			hits = append(hits, keywordHit{pos: pos, kw: int(kw)})
		}
	}
	return hits
}

// hasFoldedPrefix reports whether text starts with the lowercase word w,
// ignoring ASCII case. Its first three bytes are known to match.
func hasFoldedPrefix(text []byte, w string) bool {
	if len(text) < len(w) {
		return false
	}
	for j := 3; j < len(w); j++ {
		if lowerASCII[text[j]] != w[j] {
			return false
		}
	}
	return true
}

// hasFoldingRunes reports whether text holds one of the non-ASCII runes
// that case folding ties to ASCII letters: U+212A KELVIN SIGN and U+0130
// LATIN CAPITAL LETTER I WITH DOT ABOVE, which strings.ToLower turns into
// k and i, and U+017F LATIN SMALL LETTER LONG S, which (?i) matches for s.
// They are the only ones. find does not fold them, so a text holding them
// is searched the slow way, as gitleaks does (see keywordsOf).
func hasFoldingRunes(text []byte) bool {
	for _, r := range foldingRunes {
		if bytes.Contains(text, r) {
			return true
		}
	}
	return false
}

var foldingRunes = [][]byte{[]byte("\u212a"), []byte("\u0130"), []byte("\u017f")}

// keywordsOf returns the numbers of the keywords that occur in text after
// strings.ToLower, as gitleaks' keyword filter sees them.
func (k *keywordIndex) keywordsOf(text []byte) []int {
	lower := []byte(strings.ToLower(string(text)))
	var found []int
	for _, h := range k.find(lower, nil) {
		if !slices.Contains(found, h.kw) {
			found = append(found, h.kw)
		}
	}
	return found
}
