package secrets

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A shape bounds where the matches of one rule's regex can lie relative to
// a keyword inside them. It is what lets a rule run on a window around each
// keyword occurrence instead of on the whole text.
//
// A regex is made of bounded parts, which together match at most bounded
// bytes, and of up to runs unbounded repetitions of a single character
// class ([a-z0-9]{11,}, .*), each of which matches only bytes outside stop.
// So a match holding a keyword at [p, q) starts no earlier than what one
// reaches from p by stepping back bounded bytes and then over a run of
// non-stop bytes, runs times, and then bounded bytes more; the end likewise.
//
// keyed says that every match contains one of the rule's keywords; without
// it, or without a bound, the rule runs on the whole text, as in gitleaks.
type shape struct {
	bounded int
	runs    int
	stop    [256]bool
	keyed   bool
	ok      bool
}

// Limits of the analysis; beyond them a rule runs on the whole text.
const (
	maxShapeBytes   = 64 << 10 // bounded bytes
	maxShapeRuns    = 16       // unbounded runs
	maxLiteralSet   = 64       // strings in a literal set
	maxLiteralBytes = 256      // bytes in one of them
	maxRunBytes     = 4 << 10  // bytes a window may step over in one run
)

// shapeOf analyses pattern, the source of a rule's regex, for the rule's
// lowercase keywords.
func shapeOf(pattern string, keywords []string) shape {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return shape{}
	}
	return shapeOfRegexp(re, keywords)
}

// shapeOfRegexp is shapeOf for a parsed regex.
func shapeOfRegexp(re *syntax.Regexp, keywords []string) shape {
	m := measure(re)
	s := shape{bounded: m.bytes, runs: m.runs, ok: m.ok && m.bytes <= maxShapeBytes && m.runs <= maxShapeRuns}
	stops := 0
	for b := range s.stop {
		s.stop[b] = !m.run[b]
		if s.stop[b] {
			stops++
		}
	}
	if s.runs > 0 && stops == 0 {
		s.ok = false // its runs can hold anything: no window can bound them
	}
	s.keyed = len(keywords) > 0 && keyed(re, keywords)
	return s
}

// extent is what measure finds out about a regex node.
type extent struct {
	bytes int       // bytes of bounded parts, at most
	runs  int       // unbounded runs
	run   [256]bool // bytes a run may hold
	ok    bool      // the node could be measured
}

func measure(re *syntax.Regexp) extent {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return extent{ok: true}
	case syntax.OpLiteral, syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return extent{bytes: charBytes(re), ok: true}
	case syntax.OpCapture, syntax.OpQuest:
		return measure(re.Sub[0])
	case syntax.OpConcat:
		return measureAll(re.Sub, func(acc *extent, e extent) { acc.bytes += e.bytes; acc.runs += e.runs })
	case syntax.OpAlternate:
		return measureAll(re.Sub, func(acc *extent, e extent) { acc.bytes = max(acc.bytes, e.bytes); acc.runs = max(acc.runs, e.runs) })
	case syntax.OpStar, syntax.OpPlus:
		return unboundedRun(re.Sub[0])
	case syntax.OpRepeat:
		if re.Max < 0 {
			return unboundedRun(re.Sub[0])
		}
		e := measure(re.Sub[0])
		e.bytes = min(e.bytes*re.Max, maxShapeBytes+1)
		e.runs *= re.Max
		return e
	}
	return extent{}
}

// measureAll measures the nodes of a concatenation or alternation, merging
// their extents with add.
func measureAll(subs []*syntax.Regexp, add func(acc *extent, e extent)) extent {
	acc := extent{ok: true}
	for _, sub := range subs {
		e := measure(sub)
		if !e.ok {
			return extent{}
		}
		add(&acc, e)
		acc.bytes = min(acc.bytes, maxShapeBytes+1)
		for b, in := range e.run {
			acc.run[b] = acc.run[b] || in
		}
	}
	return acc
}

// unboundedRun measures sub repeated without bound. Only a single
// character can be: a run of one class, stopped by any byte outside it.
func unboundedRun(sub *syntax.Regexp) extent {
	var e extent
	switch {
	case sub.Op == syntax.OpLiteral && len(sub.Rune) == 1:
		for _, r := range foldOrbit(sub.Rune[0], sub.Flags&syntax.FoldCase != 0) {
			markRune(&e.run, r, r)
		}
	case sub.Op == syntax.OpCharClass:
		ranges := classRunes(sub.Rune)
		for i := 0; i+1 < len(ranges); i += 2 {
			markRune(&e.run, ranges[i], ranges[i+1])
		}
	case sub.Op == syntax.OpAnyCharNotNL:
		markRune(&e.run, 0, unicode.MaxRune)
		e.run['\n'] = false
	case sub.Op == syntax.OpAnyChar:
		markRune(&e.run, 0, unicode.MaxRune)
	default:
		return extent{}
	}
	e.runs, e.ok = 1, true
	return e
}

// markRune marks the bytes that the UTF-8 encodings of runes lo to hi can
// hold: the ASCII ones themselves, and every byte from 0x80 up for the
// others.
func markRune(run *[256]bool, lo, hi rune) {
	for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
		run[r] = true
	}
	if hi >= utf8.RuneSelf {
		for b := utf8.RuneSelf; b < 256; b++ {
			run[b] = true
		}
	}
}

// charBytes is the most bytes a literal or one character of a class can
// take in UTF-8.
func charBytes(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			longest := 0
			for _, f := range foldOrbit(r, re.Flags&syntax.FoldCase != 0) {
				longest = max(longest, utf8.RuneLen(f))
			}
			n += longest
		}
		return n
	case syntax.OpCharClass:
		ranges := classRunes(re.Rune)
		if len(ranges) == 0 {
			return 0
		}
		return utf8.RuneLen(ranges[len(ranges)-1])
	}
	return utf8.UTFMax
}

// foldOrbit returns r and, when folding, the runes that match it
// case-insensitively, except the Kelvin sign and the long s: the engine
// reads texts holding those the slow way (see hasFoldingRunes), so the
// windows need not make room for them.
func foldOrbit(r rune, fold bool) []rune {
	out := []rune{r}
	if !fold {
		return out
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if !foldingRune(f) {
			out = append(out, f)
		}
	}
	return out
}

// foldingRune reports whether r is one of the non-ASCII runes that (?i)
// matches for an ASCII letter.
func foldingRune(r rune) bool { return r == '\u212a' || r == '\u017f' }

// classRunes returns the ranges of a class without the folding runes.
func classRunes(ranges []rune) []rune {
	var out []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		for _, f := range []rune{'\u017f', '\u212a'} {
			if lo <= f && f <= hi {
				if lo < f {
					out = append(out, lo, f-1)
				}
				lo = f + 1
			}
		}
		if lo <= hi {
			out = append(out, lo, hi)
		}
	}
	return out
}

// keyed reports whether every match of re contains one of the lowercase
// keywords, compared case-insensitively.
func keyed(re *syntax.Regexp, keywords []string) bool {
	return keyedAfter([]string{""}, re, keywords)
}

// keyedAfter reports whether every match of re, preceded by any of the
// strings before, contains a keyword. The strings before are what literal
// parts of the regex put ahead of re; they let a keyword span a prefix
// that syntax.Parse factored out of an alternation, as in
// A(?:KIA|SIA|3T[A-Z0-9]) for AKIA, ASIA and A3T.
func keyedAfter(before []string, re *syntax.Regexp, keywords []string) bool {
	if set, ok := literalSet(re); ok {
		if joined, ok := product(before, set); ok {
			return allContain(joined, keywords)
		}
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return keyedAfter(before, re.Sub[0], keywords)
	case syntax.OpRepeat:
		return re.Min > 0 && keyedAfter(before, re.Sub[0], keywords)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !keyedAfter(before, sub, keywords) {
				return false
			}
		}
		return true
	case syntax.OpConcat:
		return keyedConcat(before, re.Sub, keywords)
	}
	return false
}

// keyedConcat reports whether a concatenation, preceded by any of the
// strings before, always holds a keyword: its literal parts are carried
// forward as what precedes the next part, and any part that holds a
// keyword after them settles it.
func keyedConcat(before []string, subs []*syntax.Regexp, keywords []string) bool {
	for _, sub := range subs {
		if keyedAfter(before, sub, keywords) {
			return true
		}
		set, ok := literalSet(sub)
		if ok {
			before, ok = product(before, set)
		}
		if !ok {
			before = []string{""}
		}
	}
	return false
}

// literalSet returns the lowercase strings re matches, when they are few
// and short: literals, small classes, alternations, optional parts and
// short repetitions of those. Zero-width assertions match "".
func literalSet(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}, true
	case syntax.OpCharClass:
		return classSet(re.Rune)
	case syntax.OpCapture:
		return literalSet(re.Sub[0])
	case syntax.OpQuest:
		set, ok := literalSet(re.Sub[0])
		return append([]string{""}, set...), ok && len(set) < maxLiteralSet
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			set, ok := literalSet(sub)
			if !ok || len(out)+len(set) > maxLiteralSet {
				return nil, false
			}
			out = append(out, set...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			set, ok := literalSet(sub)
			if !ok {
				return nil, false
			}
			if out, ok = product(out, set); !ok {
				return nil, false
			}
		}
		return out, true
	case syntax.OpRepeat:
		return repeatSet(re)
	}
	return nil, false
}

// classSet returns the lowercase characters of a small class, such as
// [Aa] or [-_].
func classSet(ranges []rune) ([]string, bool) {
	var out []string
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i+1]-ranges[i] >= 8 {
			return nil, false
		}
		for r := ranges[i]; r <= ranges[i+1]; r++ {
			s := strings.ToLower(string(r))
			if !contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out, len(out) > 0 && len(out) <= 8
}

func repeatSet(re *syntax.Regexp) ([]string, bool) {
	if re.Max < 0 || re.Max > 4 {
		return nil, false
	}
	sub, ok := literalSet(re.Sub[0])
	if !ok {
		return nil, false
	}
	var out []string
	cur := []string{""}
	for n := 0; n <= re.Max; n++ {
		if n >= re.Min {
			out = append(out, cur...)
		}
		if cur, ok = product(cur, sub); !ok || len(out) > maxLiteralSet {
			return nil, false
		}
	}
	return out, true
}

// product returns every string of a followed by one of b, or false when
// there would be too many or too long.
func product(a, b []string) ([]string, bool) {
	if len(a)*len(b) > maxLiteralSet {
		return nil, false
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if len(x)+len(y) > maxLiteralBytes {
				return nil, false
			}
			out = append(out, x+y)
		}
	}
	return out, true
}

// allContain reports whether each string of set contains a keyword.
func allContain(set, keywords []string) bool {
	for _, s := range set {
		found := false
		for _, k := range keywords {
			if strings.Contains(s, k) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return len(set) > 0
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}
