// Package report writes scan results as text for people, and as JSON and
// SARIF 2.1.0 for machines. Every format redacts secrets, in values and in every text taken
// from the image (history steps, fields, paths), unless Options.ShowSecrets
// is set.
package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

// Tool describes the scanner that made a report.
type Tool struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Gitleaks string `json:"gitleaks_version"`
	Rules    int    `json:"rules"`
}

// Report is what a Reporter writes: the tool and every image scanned.
type Report struct {
	Tool Tool
	// FingerprintKey is the ID of the key that made the secret ids and
	// fingerprints (finding.Key.ID).
	FingerprintKey string
	Images         []*scan.Result
}

// Options are the reporter settings shared by all formats.
type Options struct {
	// ShowSecrets writes raw secret values. Off by default: every output is
	// redacted.
	ShowSecrets bool
	// ShowSuppressed lists the findings a baseline or an ignore file
	// suppresses. They are always counted.
	ShowSuppressed bool
}

// Reporter writes a Report in one format.
type Reporter interface {
	Write(w io.Writer, r *Report) error
}

// Formats lists the format names For accepts.
var Formats = []string{"text", "json", "sarif"}

// For returns the Reporter for a format name.
func For(format string, o Options) (Reporter, error) {
	switch format {
	case "text":
		return &Text{opts: o}, nil
	case "json":
		return &JSON{opts: o}, nil
	case "sarif":
		return &SARIF{opts: o}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// Errors returns res.Errors as the reports print them: with the image's
// secrets redacted unless o.ShowSecrets. Callers that print errors
// elsewhere (on stderr) use it to keep the same promise.
func Errors(res *scan.Result, o Options) []string {
	return newRedactor(res, o.ShowSecrets).texts(res.Errors)
}

// redactor hides an image's secrets inside texts taken from the image.
type redactor struct {
	r    *strings.Replacer
	show bool
}

// newRedactor replaces every secret found in res with its redacted form,
// longest first so that a secret inside another is not half-replaced.
func newRedactor(res *scan.Result, show bool) *redactor {
	if show {
		return &redactor{show: true}
	}
	seen := map[string]finding.Secret{}
	for _, f := range slices.Concat(res.Findings, res.Suppressed) {
		if raw := f.Secret.Raw(); raw != "" { // a withheld secret has no value to hide
			seen[raw] = f.Secret
		}
	}
	raws := make([]string, 0, len(seen))
	for raw := range seen {
		raws = append(raws, raw)
	}
	slices.SortFunc(raws, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, raw := range raws {
		pairs = append(pairs, raw, seen[raw].Redacted())
	}
	return &redactor{r: strings.NewReplacer(pairs...)}
}

// text redacts a text taken from the image.
func (r *redactor) text(s string) string {
	if r.show || r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// secret renders a secret value.
func (r *redactor) secret(s finding.Secret) string {
	if r.show {
		return s.Raw()
	}
	return s.Redacted()
}

func (r *redactor) texts(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.text(s)
	}
	return out
}
