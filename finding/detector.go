package finding

import "context"

// File is one file, or one window of a large file, handed to a Detector.
type File struct {
	// Path is the file's path inside the layer without a leading slash, or ""
	// for text that is not a file (a history entry, a config field).
	Path string
	// Content is the text to scan. It is nil when only the path is to be
	// judged, as for a symlink or a binary file not read.
	Content []byte
	// Binary says Content is the printable strings of a binary file.
	Binary bool
}

// Match is one secret a Detector found in one File or variable.
type Match struct {
	RuleID      string
	Description string
	Secret      Secret // the zero Secret for path-only rules that flag a whole file

	// Line and Column are 1-based within File.Content, 0 when not applicable.
	Line, Column int
	// Offset is the byte offset of the secret in a binary file, whose
	// matches have no line; 0 otherwise.
	Offset int64

	// Severity says how bad the leak is.
	Severity Severity

	// Priority ranks rules that report the same secret at the same place:
	// the lowest wins, so a known token format beats a generic pattern.
	Priority int

	// Suppressed, when not empty, is why this match is not reported. Callers
	// count suppressed matches in coverage instead of dropping them silently.
	Suppressed string
}

// Detector finds secrets. Implementations must be safe for concurrent use:
// layers are scanned in parallel against one Detector.
type Detector interface {
	// SkipContent returns why the content of the file at path is not to be
	// scanned (say, a font or an image that the rule set allowlists), or ""
	// when it is to be scanned.
	SkipContent(path string) string

	// DetectFile returns the secrets in f.
	DetectFile(ctx context.Context, f File) []Match

	// DetectVariable judges one name=value assignment from a build arg, an
	// ENV entry or a LABEL, for secrets that only the name gives away.
	DetectVariable(ctx context.Context, name, value string) []Match
}

// Best keeps, of the matches that report the same secret at the same line
// (or, in a binary file, offset),
// the one with the lowest Priority, and drops suppressed matches after
// counting them into suppressed (which may be nil when the caller does not
// count). The order of the survivors follows their first appearance.
func Best(matches []Match, suppressed map[string]int64) []Match {
	type key struct {
		raw    string
		line   int
		offset int64
	}
	best := make(map[key]int, len(matches))
	var out []Match
	for _, m := range matches {
		if m.Suppressed != "" {
			if suppressed != nil {
				suppressed[m.Suppressed]++
			}
			continue
		}
		k := key{m.Secret.Raw(), m.Line, m.Offset}
		if i, ok := best[k]; ok {
			if m.Priority < out[i].Priority {
				out[i] = m
			}
			continue
		}
		best[k] = len(out)
		out = append(out, m)
	}
	return out
}
