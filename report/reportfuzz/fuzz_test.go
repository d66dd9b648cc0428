package reportfuzz

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
)

// resultWith is a result that leaks secret at a path and in a history
// step, with text from the fuzzer everywhere a report prints image text.
func resultWith(secret, path, text string) *scan.Result {
	s := finding.NewSecret(secret)
	loc := finding.Location{Kind: finding.KindLayer, LayerIndex: 0, HistoryIndex: 0, Path: path, Line: 1, Status: finding.Deleted, RemovedByLayer: 1, CreatedBy: "RUN echo " + secret + " " + text}
	hist := finding.Location{Kind: finding.KindHistory, LayerIndex: 0, HistoryIndex: 0, Field: "history[0].created_by", Variable: text, Status: finding.Visible, RemovedByLayer: -1, CreatedBy: loc.CreatedBy}
	return &scan.Result{
		Input: text, Reference: text, Platform: "linux/amd64",
		Layers:   []scan.Layer{{Index: 0, HistoryIndex: 0, CreatedBy: loc.CreatedBy, Step: "RUN echo " + secret}, {Index: 1, HistoryIndex: -1}},
		History:  []scan.HistoryEntry{{Index: 0, CreatedBy: loc.CreatedBy, Instruction: "RUN", Step: "RUN echo " + secret, BuildArgs: []string{text}}},
		Findings: []finding.Finding{{RuleID: "r", Secret: s, Severity: finding.High, SecretID: s.ID(), Location: loc}, {RuleID: "r", Secret: s, Severity: finding.High, SecretID: s.ID(), Location: hist}},
		Warnings: []string{"warning " + secret}, Errors: []string{"reading " + path + ": broken"},
	}
}

// FuzzReport writes reports of results holding fuzzed secrets and text:
// JSON must stay valid, and without ShowSecrets no format may print the
// secret more often than its template does on its own.
func FuzzReport(f *testing.F) {
	f.Add("npm_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi3", "app/.npmrc", "NPM_TOKEN")
	f.Add("walnut-kettle-8516", "bundle.tgz!package/.npmrc", "\x00\xff<b>")
	f.Add("image", "image", "image")
	f.Fuzz(func(t *testing.T, secret, path, text string) {
		if len(secret) < 6 {
			return
		}
		other := strings.Repeat("\x01", len(secret)) // a stand-in the template cannot contain
		for _, format := range report.Formats {
			rep, _ := report.For(format, report.Options{})
			var got, base bytes.Buffer
			if err := rep.Write(&got, &report.Report{Images: []*scan.Result{resultWith(secret, path, text)}}); err != nil {
				t.Fatal(err)
			}
			if err := rep.Write(&base, &report.Report{Images: []*scan.Result{resultWith(other, path, text)}}); err != nil {
				t.Fatal(err)
			}
			if format == "json" && !json.Valid(got.Bytes()) {
				t.Fatalf("invalid JSON:\n%s", got.String())
			}
			if n, m := strings.Count(got.String(), secret), strings.Count(base.String(), secret); n > m {
				t.Errorf("%s prints the secret %d times, its template %d:\n%s", format, n, m, got.String())
			}
		}
	})
}
