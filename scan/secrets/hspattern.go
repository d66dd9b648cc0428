package secrets

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// hsPattern translates an RE2 pattern into a Vectorscan pattern, for byte
// mode, that matches at least wherever the RE2 pattern matches: a
// prefilter, never a judge. Vectorscan reads bytes, RE2 reads UTF-8 (and
// an invalid byte as U+FFFD), so every part of a pattern that can match a
// non-ASCII character becomes "one or more non-ASCII bytes", which covers
// any number of such characters. Anchors and word boundaries are kept,
// and mean what they mean to RE2 on the text the prefilter reads (the
// text whose windows RE2 then reads): \b and \B between ASCII word
// characters and others, which any non-ASCII byte is, as any non-ASCII
// character is to RE2; \A and \z at the text's ends; ^ and $ of
// multi-line mode at newlines. Dropping them made the pattern loose
// enough to end almost anywhere: generic-api-key's last group ends with
// "or $", and so matched after every identifier of ten characters. Case
// folding is ASCII's: the
// two non-ASCII letters that fold to ASCII ones (the Kelvin sign to k,
// the long s to s) are left out, and the engine does not use the
// prefilter's placement on a text that holds one (see hasFoldingRunes).
func hsPattern(pattern string) (string, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", err
	}
	return hsTranslate(re)
}

// hsTranslate is hsPattern for a parsed regex.
func hsTranslate(re *syntax.Regexp) (string, error) {
	var b strings.Builder
	if err := writeHS(&b, re); err != nil {
		return "", fmt.Errorf("%q: %w", re, err)
	}
	return b.String(), nil
}

const nonASCII = `[\x80-\xff]+`

var errNoMatch = errors.New("the pattern matches nothing")

func writeHS(b *strings.Builder, re *syntax.Regexp) error {
	switch re.Op {
	case syntax.OpNoMatch:
		return errNoMatch
	case syntax.OpEmptyMatch:
		// nothing
	case syntax.OpBeginLine:
		b.WriteString(`(?m:^)`)
	case syntax.OpEndLine:
		b.WriteString(`(?m:$)`)
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpEndText:
		b.WriteString(`\z`)
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			writeRune(b, r, re.Flags&syntax.FoldCase != 0)
		}
	case syntax.OpCharClass:
		return writeClass(b, re.Rune)
	case syntax.OpAnyCharNotNL:
		b.WriteString(`(?:[^\n\x80-\xff]|` + nonASCII + `)`)
	case syntax.OpAnyChar:
		b.WriteString(`(?:[\x00-\x7f]|` + nonASCII + `)`)
	case syntax.OpCapture:
		return writeGroup(b, re.Sub[0], "")
	case syntax.OpStar:
		return writeGroup(b, re.Sub[0], "*")
	case syntax.OpPlus:
		return writeGroup(b, re.Sub[0], "+")
	case syntax.OpQuest:
		return writeGroup(b, re.Sub[0], "?")
	case syntax.OpRepeat:
		rep := fmt.Sprintf("{%d,%d}", re.Min, re.Max)
		if re.Max < 0 {
			rep = fmt.Sprintf("{%d,}", re.Min)
		}
		return writeGroup(b, re.Sub[0], rep)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if err := writeHS(b, sub); err != nil {
				return err
			}
		}
	case syntax.OpAlternate:
		b.WriteString("(?:")
		for i, sub := range re.Sub {
			if i > 0 {
				b.WriteString("|")
			}
			if err := writeHS(b, sub); err != nil {
				return err
			}
		}
		b.WriteString(")")
	default:
		return fmt.Errorf("unsupported regexp operator %v", re.Op)
	}
	return nil
}

func writeGroup(b *strings.Builder, sub *syntax.Regexp, quantifier string) error {
	b.WriteString("(?:")
	if err := writeHS(b, sub); err != nil {
		return err
	}
	b.WriteString(")" + quantifier)
	return nil
}

// writeRune writes one literal character: an ASCII one as itself (both
// cases when folding, and the non-ASCII characters that fold to it, as
// the Kelvin sign does to k), any other as a run of non-ASCII bytes.
func writeRune(b *strings.Builder, r rune, fold bool) {
	switch {
	case r >= utf8.RuneSelf:
		b.WriteString(nonASCII)
	case fold && unicode.IsLetter(r):
		fmt.Fprintf(b, "[%c%c]", unicode.ToLower(r), unicode.ToUpper(r))
	default:
		writeByte(b, byte(r))
	}
}

// onlyFoldingRunes reports whether every character from lo to hi is one
// of the non-ASCII letters that fold to ASCII ones, which a (?i) class
// holds for the sake of texts the prefilter does not place.
func onlyFoldingRunes(lo, hi rune) bool {
	for r := lo; r <= hi; r++ {
		if r != '\u017f' && r != '\u212a' {
			return false
		}
	}
	return true
}

// writeByte writes an ASCII byte: letters and digits as themselves,
// anything else escaped.
func writeByte(b *strings.Builder, c byte) {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' {
		b.WriteByte(c)
		return
	}
	const hexDigits = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&15])
}

// writeClass writes a character class: its ASCII part as a class, and a
// run of non-ASCII bytes when it holds any character beyond ASCII.
func writeClass(b *strings.Builder, ranges []rune) error {
	var ascii strings.Builder
	wide := false
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if hi >= utf8.RuneSelf && !onlyFoldingRunes(max(lo, utf8.RuneSelf), hi) {
			wide = true
		}
		if lo < utf8.RuneSelf {
			writeByte(&ascii, byte(lo))
			if hi := min(hi, utf8.RuneSelf-1); hi > lo {
				ascii.WriteByte('-')
				writeByte(&ascii, byte(hi))
			}
		}
	}
	switch {
	case ascii.Len() > 0 && wide:
		b.WriteString("(?:[" + ascii.String() + "]|" + nonASCII + ")")
	case ascii.Len() > 0:
		b.WriteString("[" + ascii.String() + "]")
	case wide:
		b.WriteString(nonASCII)
	default:
		return errNoMatch
	}
	return nil
}
