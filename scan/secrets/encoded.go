package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect/codec"
	"github.com/zricethezav/gitleaks/v8/report"
)

// decodedFindings finds what gitleaks finds only after decoding: secrets
// that are base64, hex, percent or unicode-escaped, to a depth of
// maxDecodeDepth. gitleaks decodes the whole text and runs every rule over
// it again, at each depth, keeping the matches that overlap a decoded
// segment. The engine first looks for the stretches that gitleaks'
// decoder would decode to ASCII (see encodedStretches), and runs the
// decoding passes on a window around each that holds the windows of the
// bounded rules that can apply to the text (see decodeReach and
// windowsAround). That holds every such match of a bounded rule. A match
// of an unbounded rule (curl-auth-user, private-key: their matches can
// run on without limit) is found when it lies within that reach of the
// stretch, as a decoded secret does; gitleaks would also find one that
// runs on further into plain text. Reading the whole text again for that
// cost a third of the scan time. A text with folding runes is decoded
// whole. present tells which tracked keywords occur in text.
func (e *engine) decodedFindings(ctx context.Context, path string, text []byte, folding bool, present []bool, lines *lineIndex) []report.Finding {
	stretches := encodedStretches(text)
	if len(stretches) == 0 {
		return nil
	}
	whole := []span{{0, len(text)}}
	if folding {
		out, _ := e.decodeWindows(ctx, path, text, whole, nil, lines)
		return out
	}
	windows := e.windowsAround(text, stretches, e.decodeReach(present))
	out, fresh := e.decodeWindows(ctx, path, text, windows, present, lines)
	if fresh && windows[0] != whole[0] {
		// Decoding brought in a keyword the text lacked: a rule left out
		// of the reach may apply, so the text is decoded whole.
		out, _ = e.decodeWindows(ctx, path, text, whole, nil, lines)
	}
	return out
}

// decodeReach returns the shapes of the bounded rules that can apply to a
// text whose tracked keywords are present: a wide rule (one whose runs
// may cross spaces) applies when it has no keywords, or keywords the index
// cannot hold, or one in the text; the others always do. A rule whose
// keyword is only in decoded text is caught by decodeWindows, which
// reports the new keyword. Leaving out the wide rules that cannot apply
// keeps windows small: curl-auth-header, whose runs may hold any byte but
// a newline, would otherwise widen every window of a minified script to
// the whole text.
func (e *engine) decodeReach(present []bool) []*shape {
	var out []*shape
	for n := range e.rules {
		pr := &e.rules[n]
		if pr.shape.ok && (!pr.wide || len(pr.kwNums) == 0 || slices.ContainsFunc(pr.kwNums, func(kw int) bool { return present[kw] })) {
			out = append(out, &pr.shape)
		}
	}
	return out
}

// windowsAround returns the merged windows around the stretches: each
// holds the window of every shape around the stretch (see shape.around),
// with room for a keyword on either side, so that a keyword that decoding
// completes lies inside it.
func (e *engine) windowsAround(text []byte, stretches []span, shapes []*shape) []span {
	var windows []span
	for _, st := range stretches {
		w := span{max(0, st.start-e.longestKw), min(len(text), st.end+e.longestKw)}
		for _, sh := range shapes {
			r, ok := sh.around(text, st.start, st.end)
			if !ok {
				return []span{{0, len(text)}}
			}
			w = span{min(w.start, r.start), max(w.end, r.end)}
		}
		if n := len(windows); n > 0 && w.start <= windows[n-1].end {
			windows[n-1].end = max(windows[n-1].end, w.end)
			continue
		}
		windows = append(windows, w)
	}
	return windows
}

// decodeWindows runs the decoding passes on each window. With present, it
// also reports whether a decoded window holds a tracked keyword the text
// does not.
func (e *engine) decodeWindows(ctx context.Context, path string, text []byte, windows []span, present []bool, lines *lineIndex) (out []report.Finding, fresh bool) {
	for _, w := range windows {
		if ctx.Err() != nil {
			return out, fresh
		}
		fs, f := e.decodeWindow(path, text, w, present, lines)
		out, fresh = append(out, fs...), fresh || f
	}
	return out, fresh
}

// decodeWindow runs gitleaks' decoding passes on text[w.start:w.end].
func (e *engine) decodeWindow(path string, text []byte, w span, present []bool, lines *lineIndex) (out []report.Finding, fresh bool) {
	decoder := codec.NewDecoder()
	current := string(text[w.start:w.end])
	var segments []*codec.EncodedSegment
	for range maxDecodeDepth {
		current, segments = decoder.Decode(current, segments)
		if len(segments) == 0 {
			break
		}
		fs, f := e.decodedPass(path, text, w, current, segments, present, lines)
		out, fresh = append(out, fs...), fresh || f
	}
	return out, fresh
}

// decodedPass runs the rules on one decoding of a window, and reports
// whether the decoding holds a tracked keyword that present lacks.
func (e *engine) decodedPass(path string, text []byte, w span, current string, segments []*codec.EncodedSegment, present []bool, lines *lineIndex) (out []report.Finding, fresh bool) {
	s := e.scratch.Get().(*scratch)
	defer e.release(s)
	decoded := []byte(current)
	e.plan(s, decoded, hasFoldingRunes(decoded))
	if present != nil {
		fresh = slices.ContainsFunc(e.tracked, func(kw int) bool { return s.present[kw] && !present[kw] })
	}
	for _, n := range s.touched {
		r := &e.rules[n].rule
		if r.Regex == nil || pathAllowed(r.Allowlists, path) || r.Path != nil && !r.Path.MatchString(path) {
			continue
		}
		for _, m := range e.matches(r, decoded, s.windows[n]) {
			overlap := codec.SegmentsWithDecodedOverlap(segments, m.start, m.end)
			if len(overlap) == 0 {
				continue
			}
			if f, ok := e.judgeDecoded(r, path, text, w, current, m, overlap, lines); ok {
				out = append(out, f)
			}
		}
	}
	return out, fresh
}

// judgeDecoded judges a match in decoded text, placed where its encoded
// form lies in the original text.
func (e *engine) judgeDecoded(r *config.Rule, path string, text []byte, w span, current string, m span, overlap []*codec.EncodedSegment, lines *lineIndex) (report.Finding, bool) {
	secret := strings.Trim(current[m.start:m.end], "\n")
	orig := codec.AdjustMatchIndex(overlap, []int{m.start, m.end})
	start, end := w.start+orig[0], w.start+orig[1]
	for start < end && text[start] == '\n' {
		start++ // as the match loses its newlines, so does its place
	}
	c := candidate{
		secret: secret, start: start, end: end, decoded: true,
		context: codec.CurrentLine(overlap, current),
		tags:    append(append([]string(nil), r.Tags...), codec.Tags(overlap)...),
	}
	f, ok := e.judge(r, path, c, lines)
	if ok {
		// The encoded text reveals the secret as surely as the secret
		// itself: it travels as the finding's Match, for redaction.
		f.Match = string(text[w.start+orig[0] : w.start+orig[1]])
	}
	return f, ok
}

// encodedStretches returns the stretches of text that gitleaks' decoder
// would decode, in order: runs of base64 that decode to printable ASCII,
// runs of 32 or more hex digits that do, percent-encoded stretches of a
// line that do, and unicode escapes.
func encodedStretches(text []byte) []span {
	var out []span
	out = appendRuns(text, out)
	out = appendPercent(text, out)
	out = appendUnicode(text, out)
	slices.SortFunc(out, func(a, b span) int { return a.start - b.start })
	return out
}

// base64Class is gitleaks' [\w/+-]: the bytes of base64 and hex runs.
var base64Class = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/+-" {
		t[c] = true
	}
	return t
}()

// appendRuns appends the runs of base64 characters, 16 or more, with up
// to two = after them, that decode as base64, or hold a decodable run of
// hex digits. A run of 16 must cover every 16th byte, so the scan looks
// at those first and skips ahead when one is not a base64 character.
func appendRuns(text []byte, out []span) []span {
	for probe := 15; probe < len(text); {
		if !base64Class[text[probe]] {
			probe += 16
			continue
		}
		i, j := probe, probe+1
		for i > 0 && base64Class[text[i-1]] {
			i--
		}
		for j < len(text) && base64Class[text[j]] {
			j++
		}
		end := j
		for end < len(text) && end-j < 2 && text[end] == '=' {
			end++
		}
		if j-i >= 16 && (decodesAsBase64(text[i:end]) || j-i >= 32 && holdsHex(text[i:j])) {
			out = append(out, span{i, end})
		}
		probe = j + 16
	}
	return out
}

// decodesAsBase64 reports whether run, base64 characters and padding,
// decodes to printable ASCII in standard or URL-safe base64, as gitleaks'
// decoder requires. Like it, it first wants a digit or one of +/-_.
func decodesAsBase64(run []byte) bool {
	// The first four characters decode to the first three bytes: when
	// they are not printable in either alphabet, neither is the run.
	if !printableQuad(&stdAlphabet, run) && !printableQuad(&urlAlphabet, run) {
		return false
	}
	if !slices.ContainsFunc(run, func(c byte) bool { return likelyBase64[c] }) {
		return false
	}
	var small [128]byte
	buf := small[:]
	if len(run) > len(small) {
		buf = make([]byte, len(run))
	}
	if n, err := base64.StdEncoding.Decode(buf, run); err == nil && printable(buf[:n]) {
		return true
	}
	n, err := base64.RawURLEncoding.Decode(buf, run)
	return err == nil && printable(buf[:n])
}

// printableQuad reports whether the first four characters of run, of 16
// or more, decode in the alphabet to three printable bytes.
func printableQuad(alphabet *[256]int8, run []byte) bool {
	a, b, c, d := alphabet[run[0]], alphabet[run[1]], alphabet[run[2]], alphabet[run[3]]
	if a|b|c|d < 0 {
		return false
	}
	v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
	return printableByte(byte(v>>16)) && printableByte(byte(v>>8)) && printableByte(byte(v))
}

// The values of the characters of standard and URL-safe base64, -1 for
// the others; likelyBase64 holds what gitleaks' decoder wants in a run
// before it tries one.
var (
	stdAlphabet  = alphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
	urlAlphabet  = alphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
	likelyBase64 = func() (t [256]bool) {
		for _, c := range "0123456789+/-_" {
			t[c] = true
		}
		return t
	}()
)

func alphabet(chars string) (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = int8(i)
	}
	return t
}

// holdsHex reports whether run holds 32 or more hex digits in a row, with
// a decimal digit among them, of which an even-length stretch decodes to
// printable ASCII.
func holdsHex(run []byte) bool {
	for i := 0; i < len(run); {
		if hexValue(run[i]) < 0 {
			i++
			continue
		}
		j := i
		for j < len(run) && hexValue(run[j]) >= 0 {
			j++
		}
		if j-i >= 32 && bytes.IndexAny(run[i:j], "0123456789") >= 0 &&
			(printableHex(run[i:j]) || printableHex(run[i+1:j])) {
			return true
		}
		i = j
	}
	return false
}

// printableHex reports whether the longest even-length prefix of hex
// digits decodes to printable ASCII.
func printableHex(h []byte) bool {
	for i := 0; i+1 < len(h); i += 2 {
		if !printableByte(byte(hexValue(h[i])<<4 | hexValue(h[i+1]))) {
			return false
		}
	}
	return true
}

// appendPercent appends, for each line holding percent escapes (%XX), the
// stretch from its first to its last escape, when every escape in it
// decodes to printable ASCII. Only the lines with a % are looked at.
func appendPercent(text []byte, out []span) []span {
	for from := 0; ; {
		pct := bytes.IndexByte(text[from:], '%')
		if pct < 0 {
			return out
		}
		start := bytes.LastIndexByte(text[from:from+pct], '\n') + 1 + from
		end := bytes.IndexByte(text[from+pct:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += from + pct
		}
		out = appendLinePercent(text, start, end, out)
		if end == len(text) {
			return out
		}
		from = end + 1
	}
}

// appendLinePercent appends the percent stretch of text[start:end], a
// line. gitleaks finds the stretches with RE2, whose . matches no invalid
// UTF-8: a stretch ends before an invalid byte, and the escapes after it
// make a stretch of their own.
func appendLinePercent(text []byte, start, end int, out []span) []span {
	for from := start; from < end; {
		to := from + validPrefix(text[from:end])
		if st, ok := percentStretch(text[from:to]); ok {
			out = append(out, span{from + st.start, from + st.end})
		}
		from = to + 1 // past the invalid byte
	}
	return out
}

// validPrefix is the length of the longest prefix of b that is valid
// UTF-8.
func validPrefix(b []byte) int {
	if utf8.Valid(b) {
		return len(b)
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func percentStretch(line []byte) (span, bool) {
	first, last := -1, -1
	for i := bytes.IndexByte(line, '%'); i >= 0 && i+2 < len(line); {
		if hexValue(line[i+1]) >= 0 && hexValue(line[i+2]) >= 0 {
			if !printableByte(byte(hexValue(line[i+1])<<4 | hexValue(line[i+2]))) {
				return span{}, false
			}
			if first < 0 {
				first = i
			}
			last = i + 3
		}
		next := bytes.IndexByte(line[i+1:], '%')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return span{first, last}, first >= 0
}

// appendUnicode appends the unicode escapes of ASCII characters: \u00XX
// (one or two backslashes, either case of u), and U+00XX before a space
// or the end. Escapes of other characters are left out: no secret is
// made of them, and minified JavaScript is full of them.
func appendUnicode(text []byte, out []span) []span {
	for i := 0; ; i++ {
		next := bytes.IndexByte(text[i:], '\\')
		if next < 0 {
			break
		}
		i += next
		if i+5 < len(text) && (text[i+1] == 'u' || text[i+1] == 'U') && asciiEscape(text[i+2:]) {
			out = append(out, span{i, i + 6})
		}
	}
	for i := 0; ; i++ {
		next := bytes.Index(text[i:], []byte("U+"))
		if next < 0 {
			break
		}
		i += next
		if asciiEscape(text[i+2:]) && (i+6 == len(text) || asciiSpace[text[i+6]]) {
			out = append(out, span{i, i + 6})
		}
	}
	return out
}

// asciiSpace is RE2's \s: tab, newline, form feed, carriage return, space.
var asciiSpace = [256]bool{'\t': true, '\n': true, '\f': true, '\r': true, ' ': true}

// asciiEscape reports whether b starts with four hex digits that name an
// ASCII character: 00 and then a digit below 8 and any digit.
func asciiEscape(b []byte) bool {
	return len(b) >= 4 && b[0] == '0' && b[1] == '0' && '0' <= b[2] && b[2] <= '7' && hexValue(b[3]) >= 0
}

func hexValue(c byte) int { return int(hexValues[c]) }

// hexValues holds the value of each hex digit, -1 for other bytes.
var hexValues = func() [256]int8 {
	t := alphabet("0123456789abcdef")
	for c := 'A'; c <= 'F'; c++ {
		t[c] = int8(c - 'A' + 10)
	}
	return t
}()

// printable reports whether b is printable ASCII as gitleaks' decoder
// counts it: tab through tilde.
func printable(b []byte) bool {
	for _, c := range b {
		if !printableByte(c) {
			return false
		}
	}
	return true
}

func printableByte(c byte) bool { return '\t' <= c && c < 0x7f }
