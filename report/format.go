package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// reasonText explains the skip and suppression reasons in the text report.
var reasonText = map[string]string{
	"binary":              "binary (path rules only)",
	"packed":              "xz, zstd, bzip2, 7z, RAR, LZ4 and Debian package files, not opened (path rules only)",
	"allowlisted_path":    "media files the rule set allowlists",
	"unreadable":          "unreadable (the stream broke inside the file)",
	"unknown_type":        "entries of an unknown tar type",
	"nested_too_deep":     "files in archives nested too deep (path rules only)",
	"nested_limit":        "archives past their size or ratio limit",
	"nested_too_large":    "zip archives too large to read",
	"nested_unreadable":   "corrupt or truncated archives",
	"sparse_limit":        "sparse files past 512 MiB (their start was read)",
	"third_party_generic": "generic-rule matches in third-party packages",
	"third_party_sample":  "matches in third-party tests, examples and docs",
	"baseline":            "findings in the baseline",
	"ignore":              "findings in the ignore file",
}

// counts renders reason counts as "3 binary (path rules only), 1 …".
func counts(m map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		text := reasonText[k]
		if text == "" {
			text = k
		}
		parts = append(parts, fmt.Sprintf("%d %s", m[k], text))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "ry") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func orNone(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
