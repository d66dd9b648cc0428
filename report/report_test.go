package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func scanFixture(t *testing.T, archive string) *scan.Result {
	t.Helper()
	targets, err := fixture.Open(t, archive)
	if err != nil {
		t.Fatal(err)
	}
	res, err := scan.Run(context.Background(), targets[0], fixture.Detector(t))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// tool is fixed so that golden files do not change with versions.
var tool = report.Tool{Name: "imagescan", Version: "test", Gitleaks: "test", Rules: 1}

func render(t *testing.T, format string, show bool, results ...*scan.Result) string {
	t.Helper()
	rep, err := report.For(format, report.Options{ShowSecrets: show})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf, &report.Report{Tool: tool, FingerprintKey: finding.PublicKey.ID(), Images: results}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", p, diff)
	}
}

func TestGolden(t *testing.T) {
	for _, name := range []string{"npm-deleted", "npm-same-run", "clean", "binaries"} {
		res := scanFixture(t, "../fixtures/"+name+"/image.tar")
		golden(t, name+".json", render(t, "json", false, res))
		golden(t, name+".txt", render(t, "text", false, res))
	}
}

func TestTextNamesLayerStepPathAndDeletion(t *testing.T) {
	out := render(t, "text", false, scanFixture(t, "../fixtures/npm-deleted/image.tar"))
	want := `layer 3 · RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > … · private-app/.npmrc:1 · deleted by layer 4 (RUN rm -f .npmrc), still in the image`
	if !strings.Contains(out, want) {
		t.Errorf("text report lacks %q:\n%s", want, out)
	}
	if !strings.Contains(out, "summary: 1 secret (1 critical) at 3 locations, 1 in deleted or overwritten files") {
		t.Errorf("text report lacks the summary:\n%s", out)
	}
}

func TestJSONShape(t *testing.T) {
	out := render(t, "json", false, scanFixture(t, "../fixtures/npm-deleted/image.tar"))
	var doc struct {
		SchemaVersion int `json:"schema_version"`
		Images        []struct {
			ConfigDigest string           `json:"config_digest"`
			Layers       []map[string]any `json:"layers"`
			Findings     []struct {
				Secret   string         `json:"secret"`
				Location map[string]any `json:"location"`
			} `json:"findings"`
			Coverage struct {
				Files    int              `json:"files"`
				Binaries int              `json:"binary_files"`
				Skipped  map[string]int64 `json:"skipped"`
			} `json:"coverage"`
			Errors []string `json:"errors"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	img := doc.Images[0]
	if doc.SchemaVersion != report.SchemaVersion || len(img.Layers) != 5 || len(img.Findings) != 3 || img.Errors == nil {
		t.Fatalf("unexpected shape: %s", out)
	}
	loc := img.Findings[0].Location
	if loc["status"] != "deleted" || loc["removed_by_layer"] != 4.0 || loc["history_index"] != 5.0 || loc["path"] != "private-app/.npmrc" {
		t.Errorf("first finding's location = %v", loc)
	}
	hist := img.Findings[1].Location
	if hist["path"] != nil || hist["removed_by_layer"] != nil || hist["field"] != "history[5].created_by" {
		t.Errorf("history location = %v, want no path and a null removed_by_layer", hist)
	}
	if img.Coverage.Binaries != 1 || img.Coverage.Skipped == nil {
		t.Errorf("coverage = %+v", img.Coverage)
	}
}

// secretsOf returns every raw secret in the fixtures' answer keys.
func secretsOf(t *testing.T) map[string]string {
	t.Helper()
	keys, err := filepath.Glob("../fixtures/*/*.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		var key struct {
			Findings []struct{ Secret string } `json:"findings"`
		}
		if err := json.Unmarshal(b, &key); err != nil {
			t.Fatal(err)
		}
		for _, f := range key.Findings {
			out[f.Secret] = strings.TrimSuffix(k, ".expected.json") + ".tar"
		}
	}
	return out
}

func TestNoFormatLeaksASecretUnlessAsked(t *testing.T) {
	raws := secretsOf(t)
	if len(raws) < 5 {
		t.Fatalf("found %d secrets in the answer keys", len(raws))
	}
	for raw, archive := range raws {
		res := scanFixture(t, archive)
		for _, format := range report.Formats {
			// A page holds a secret however its characters are escaped.
			if out := html.UnescapeString(render(t, format, false, res)); strings.Contains(out, raw) {
				t.Errorf("%s report of %s prints the raw secret %s…", format, archive, raw[:6])
			}
			if out := html.UnescapeString(render(t, format, true, res)); !strings.Contains(out, raw) {
				t.Errorf("%s report of %s with ShowSecrets lacks the raw secret", format, archive)
			}
		}
	}
}

func TestForRejectsUnknownFormats(t *testing.T) {
	if _, err := report.For("xml", report.Options{}); err == nil || !strings.Contains(err.Error(), "text, json") {
		t.Errorf("err = %v, want the list of formats", err)
	}
}
