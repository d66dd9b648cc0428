// Package report writes scan results as text for people, and as JSON and
// SARIF 2.1.0 for machines. Every format redacts secrets, in values and in every text taken
// from the image (history steps, fields, paths), unless Options.ShowSecrets
// is set.
package report

import (
	"cmp"
	"fmt"
	"io"
	"maps"
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
var Formats = []string{"text", "json", "sarif", "html"}

// For returns the Reporter for a format name.
func For(format string, o Options) (Reporter, error) {
	switch format {
	case "text":
		return &Text{opts: o}, nil
	case "json":
		return &JSON{opts: o}, nil
	case "sarif":
		return &SARIF{opts: o}, nil
	case "html":
		return &HTML{opts: o}, nil
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

// newRedactor hides every secret found in res, reported or suppressed.
func newRedactor(res *scan.Result, show bool) *redactor {
	if show {
		return &redactor{show: true}
	}
	var secrets []finding.Secret
	for _, f := range slices.Concat(res.Findings, res.Suppressed) {
		secrets = append(secrets, f.Secret)
	}
	return redactorOf(secrets)
}

// redactorOf replaces every form of each secret (its value, and the
// encoded text it was decoded from) with the secret's redacted form,
// longest first so that a form inside another is not half-replaced. A
// withheld secret has no value to hide.
func redactorOf(secrets []finding.Secret) *redactor {
	redacted := map[string]string{}
	for _, s := range secrets {
		for _, form := range s.Forms() {
			redacted[form] = s.Redacted()
		}
	}
	forms := slices.Collect(maps.Keys(redacted))
	slices.SortFunc(forms, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	var pairs []string
	for _, form := range forms {
		pairs = append(pairs, form, redacted[form])
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
