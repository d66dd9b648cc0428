package secrets

import (
	"bytes"
	"context"
	"encoding/base64"
	"slices"
	"strings"

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
// decoding passes on a window around each, as wide as the widest bounded
// rule reaches. That holds every such match of a bounded rule. A match of
// an unbounded rule (curl-auth-user, private-key: their matches can run
// on without limit) is found when it lies within that reach of the
// stretch, as a decoded secret does; gitleaks would also find one that
// runs on further into plain text. Reading the whole text again for that
// cost a third of the scan time. A text with folding runes is decoded
// whole.
func (e *engine) decodedFindings(ctx context.Context, path string, text []byte, folding bool, lines *lineIndex) []report.Finding {
	stretches := encodedStretches(text)
	windows := e.decodeWindows(text, stretches)
	if folding && len(stretches) > 0 {
		windows = []span{{0, len(text)}}
	}
	var out []report.Finding
	for _, w := range windows {
		if ctx.Err() != nil {
			return out
		}
		out = append(out, e.decodeWindow(path, text, w, lines)...)
	}
	return out
}

// decodeWindows returns the merged windows around the stretches.
func (e *engine) decodeWindows(text []byte, stretches []span) []span {
	var windows []span
	for _, st := range stretches {
		w, ok := e.reach.around(text, st.start, st.end)
		if !ok {
			return []span{{0, len(text)}}
		}
		if n := len(windows); n > 0 && w.start <= windows[n-1].end {
			windows[n-1].end = max(windows[n-1].end, w.end)
			continue
		}
		windows = append(windows, w)
	}
	return windows
}

// decodeWindow runs gitleaks' decoding passes on text[w.start:w.end].
func (e *engine) decodeWindow(path string, text []byte, w span, lines *lineIndex) []report.Finding {
	decoder := codec.NewDecoder()
	current := string(text[w.start:w.end])
	var segments []*codec.EncodedSegment
	var out []report.Finding
	for range maxDecodeDepth {
		current, segments = decoder.Decode(current, segments)
		if len(segments) == 0 {
			break
		}
		out = append(out, e.decodedPass(path, text, w, current, segments, lines)...)
	}
	return out
}

// decodedPass runs the rules on one decoding of a window.
func (e *engine) decodedPass(path string, text []byte, w span, current string, segments []*codec.EncodedSegment, lines *lineIndex) []report.Finding {
	s := e.scratch.Get().(*scratch)
	defer e.release(s)
	decoded := []byte(current)
	e.plan(s, decoded, hasFoldingRunes(decoded))
	var out []report.Finding
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
	return out
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
		secret: secret, start: start,
		line:    string(lines.around(start, max(start, end))),
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
		if j-i >= 16 && (decodesAsBase64(text[i:end]) || holdsHex(text[i:j])) {
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
	if bytes.IndexAny(run, "0123456789+/-_") < 0 {
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
// decodes to printable ASCII.
func appendPercent(text []byte, out []span) []span {
	for start := 0; start < len(text); {
		end := bytes.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		if st, ok := percentStretch(text[start:end]); ok {
			out = append(out, span{start + st.start, start + st.end})
		}
		start = end + 1
	}
	return out
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

func hexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

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
