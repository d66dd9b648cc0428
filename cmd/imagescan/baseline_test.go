package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/baseline"
	"github.com/imagescan/imagescan/report"
)

// suppressedReport is the part of the JSON report about suppression.
type suppressedReport struct {
	FingerprintKey string `json:"fingerprint_key"`
	Images         []struct {
		Findings []struct {
			Fingerprint string `json:"fingerprint"`
			Location    struct {
				Kind string `json:"kind"`
			} `json:"location"`
		} `json:"findings"`
		Suppressed []struct {
			Fingerprint  string `json:"fingerprint"`
			SuppressedBy string `json:"suppressed_by"`
		} `json:"suppressed_findings"`
		Coverage struct {
			Suppressed map[string]int `json:"suppressed"`
		} `json:"coverage"`
	} `json:"images"`
}

func scanSuppressed(t *testing.T, args ...string) (outcome, suppressedReport) {
	t.Helper()
	got := imagescan(t, append([]string{"scan", "-q", "-f", "json"}, args...)...)
	var rep suppressedReport
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil {
		t.Fatalf("exit %d, report: %v\n%s%s", got.code, err, got.stdout, got.stderr)
	}
	return got, rep
}

func TestBaselineSuppressesAndCounts(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base.json")
	if got := imagescan(t, "scan", "-q", "-f", "json", "-o", base, deleted); got.code != 1 {
		t.Fatalf("making the baseline: exit %d\n%s", got.code, got.stderr)
	}
	got, rep := scanSuppressed(t, "--baseline", base, deleted)
	if got.code != 0 {
		t.Errorf("every finding is in the baseline, yet exit %d\n%s", got.code, got.stderr)
	}
	img := rep.Images[0]
	if len(img.Findings) != 0 || img.Coverage.Suppressed["baseline"] != 3 {
		t.Errorf("findings %d, suppressed %v; want 0 and 3 by the baseline", len(img.Findings), img.Coverage.Suppressed)
	}
	if len(img.Suppressed) != 0 {
		t.Errorf("suppressed findings listed without --show-suppressed: %v", img.Suppressed)
	}

	_, shown := scanSuppressed(t, "--baseline", base, "--show-suppressed", deleted)
	if s := shown.Images[0].Suppressed; len(s) != 3 || s[0].SuppressedBy != "baseline" {
		t.Errorf("--show-suppressed listed %v", s)
	}
	text := imagescan(t, "scan", "-q", "--baseline", base, "--show-suppressed", deleted).stdout
	if !strings.Contains(text, "suppressed by baseline  critical  npm-access-token") || !strings.Contains(text, "suppressed: 3 findings in the baseline") {
		t.Errorf("the text report does not show the suppressed secret and its count:\n%s", text)
	}

	// The baseline covers npm-deleted; the npm-left token is new.
	if got := imagescan(t, "scan", "-q", "--baseline", base, "../../fixtures/npm-left/image.tar"); got.code != 1 {
		t.Errorf("a new secret was suppressed by another image's baseline: exit %d", got.code)
	}
}

func TestIgnoreFile(t *testing.T) {
	_, rep := scanSuppressed(t, deleted)
	var layerFP, historyFP string
	for _, f := range rep.Images[0].Findings {
		if f.Location.Kind == "layer" {
			layerFP = f.Fingerprint
		} else {
			historyFP = f.Fingerprint
		}
	}
	dir := t.TempDir()
	ignore := filepath.Join(dir, "ignore")
	write(t, ignore, "# the .npmrc in the rm layer: rotated on 2026-11-20\n"+layerFP+"  # INC-42\n\n")
	got, rep := scanSuppressed(t, "--ignore", ignore, deleted)
	if got.code != 1 || len(rep.Images[0].Findings) != 2 || rep.Images[0].Coverage.Suppressed["ignore"] != 1 {
		t.Errorf("exit %d, %d findings, suppressed %v; want 1, the 2 history findings, 1 ignored", got.code, len(rep.Images[0].Findings), rep.Images[0].Coverage.Suppressed)
	}

	write(t, ignore, strings.ToUpper(layerFP)+"\n"+historyFP+"\n")
	if got, _ := scanSuppressed(t, "--ignore", ignore, deleted); got.code != 0 {
		t.Errorf("every fingerprint ignored, yet exit %d", got.code)
	}

	// The default ignore file is read from the working directory.
	image, err := filepath.Abs(deleted)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	write(t, filepath.Join(dir, ".imagescanignore"), layerFP+"\n"+historyFP+"\n")
	got = imagescan(t, "scan", "-q", image)
	if got.code != 0 || !strings.Contains(got.stderr, ".imagescanignore") {
		t.Errorf("the default ignore file: exit %d\n%s", got.code, got.stderr)
	}
}

func TestSuppressionInputErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	write(t, bad, "# fine\n0123456789abcdef\nnot-a-fingerprint\n")
	garbage := filepath.Join(dir, "garbage.json")
	write(t, garbage, "{not json")
	other := filepath.Join(dir, "other-key.json")
	t.Setenv(keyEnv, "another team's key, 32 bytes long")
	if got := imagescan(t, "scan", "-q", "-f", "json", "-o", other, deleted); got.code != 1 {
		t.Fatalf("exit %d", got.code)
	}
	os.Unsetenv(keyEnv)

	tests := map[string]struct {
		args []string
		want string
	}{
		"bad ignore line":  {[]string{"--ignore", bad}, bad + ": line 3: \"not-a-fingerprint\" is not a fingerprint"},
		"missing ignore":   {[]string{"--ignore", filepath.Join(dir, "none")}, "--ignore: open " + filepath.Join(dir, "none")},
		"garbage baseline": {[]string{"--baseline", garbage}, garbage + ": not an imagescan JSON report"},
		"other key":        {[]string{"--baseline", other}, "made with key"},
		"missing baseline": {[]string{"--baseline", filepath.Join(dir, "none.json")}, "--baseline: open " + filepath.Join(dir, "none.json")},
		"a text report":    {[]string{"--baseline", bad}, "not an imagescan JSON report"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := imagescan(t, append(append([]string{"scan", "-q"}, tc.args...), deleted)...)
			if got.code != 2 || !strings.Contains(got.stderr, tc.want) || strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", got.code, got.stderr, tc.want)
			}
		})
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBaselineReadsTheReportItWrites ties the baseline reader to the JSON
// report's schema version, which the two packages cannot share directly.
func TestBaselineReadsTheReportItWrites(t *testing.T) {
	if baseline.ReportSchemaVersion != report.SchemaVersion {
		t.Errorf("baseline reads schema %d, the report writes %d", baseline.ReportSchemaVersion, report.SchemaVersion)
	}
}
