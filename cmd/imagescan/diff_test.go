package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/internal/fixture"
)

type diffDoc struct {
	Fixed        []diffDocEntry `json:"fixed"`
	StillPresent []diffDocEntry `json:"still_present"`
	NewFindings  []diffDocEntry `json:"new_findings"`
}

type diffDocEntry struct {
	Image       string `json:"image"`
	RuleID      string `json:"rule_id"`
	Secret      string `json:"secret"`
	Fingerprint string `json:"fingerprint"`
	Location    struct {
		Kind string `json:"kind"`
		Path string `json:"path"`
	} `json:"location"`
}

func diffJSON(t *testing.T, args ...string) (outcome, diffDoc) {
	t.Helper()
	got := imagescan(t, append([]string{"diff", "-q", "-f", "json"}, args...)...)
	var d diffDoc
	if err := json.Unmarshal([]byte(got.stdout), &d); err != nil {
		t.Fatalf("exit %d: %v\n%s%s", got.code, err, got.stdout, got.stderr)
	}
	return got, d
}

// TestDiffMultiStageRebuildFixesTheToken is the article's check: the
// insecure image against its multi-stage rebuild reports the token fixed.
func TestDiffMultiStageRebuildFixesTheToken(t *testing.T) {
	got, d := diffJSON(t, deleted, "../../fixtures/npm-multistage/image.tar")
	if got.code != 0 {
		t.Errorf("exit %d, want 0: nothing is left\n%s", got.code, got.stderr)
	}
	if len(d.StillPresent)+len(d.NewFindings) != 0 || len(d.Fixed) != 3 {
		t.Fatalf("fixed %d, still present %d, new %d; want 3, 0, 0", len(d.Fixed), len(d.StillPresent), len(d.NewFindings))
	}
	var file bool
	for _, e := range d.Fixed {
		if e.RuleID != "npm-access-token" || e.Secret != "npm_4zWH…" || e.Image != deleted {
			t.Errorf("fixed %+v", e)
		}
		file = file || e.Location.Path == "private-app/.npmrc"
	}
	if !file {
		t.Error("the deleted .npmrc is not among the fixed")
	}
	text := imagescan(t, "diff", "-q", deleted, "../../fixtures/npm-multistage/image.tar")
	if !strings.Contains(text.stdout, "fixed  critical  npm-access-token  npm_4zWH…") || !strings.Contains(text.stdout, "summary: 3 fixed, 0 still present, 0 new") {
		t.Errorf("text diff:\n%s", text.stdout)
	}
}

func TestDiffOutcomes(t *testing.T) {
	left := "../../fixtures/npm-left/image.tar"
	// An image whose only leak is a medium one: a secret-named ENV value.
	img := fixture.WithConfig(t, fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("app/main.js", "ok"))}),
		func(cf *v1.ConfigFile) { cf.Config.Env = []string{"API_TOKEN=plain-value-7731"} })
	medium := filepath.Join(t.TempDir(), "medium.tar")
	fixture.DockerArchive(t, medium, "example.test/medium:1", img)
	tests := map[string]struct {
		args                []string
		code                int
		fixed, present, new int
	}{
		"a rebuild that kept the leak": {[]string{deleted, "../../fixtures/npm-rebuilt/image.tar"}, 1, 0, 3, 0},
		"another token":                {[]string{deleted, left}, 1, 3, 0, 2},
		"the same image":               {[]string{deleted, deleted}, 1, 0, 3, 0},
		"--exit-code 0":                {[]string{"--exit-code", "0", deleted, left}, 0, 3, 0, 2},
		"a new medium leak":            {[]string{clean, medium}, 1, 0, 0, 1},
		"--fail-on above the new leak": {[]string{"--fail-on", "high", clean, medium}, 0, 0, 0, 1},
		"clean to clean":               {[]string{clean, clean}, 0, 0, 0, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, d := diffJSON(t, tc.args...)
			if got.code != tc.code || len(d.Fixed) != tc.fixed || len(d.StillPresent) != tc.present || len(d.NewFindings) != tc.new {
				t.Errorf("exit %d, fixed %d, still present %d, new %d; want %d, %d, %d, %d",
					got.code, len(d.Fixed), len(d.StillPresent), len(d.NewFindings), tc.code, tc.fixed, tc.present, tc.new)
			}
			if strings.Contains(got.stdout+got.stderr, deletedToken) {
				t.Error("the diff printed a raw token")
			}
		})
	}
}

func TestDiffErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"a missing input": {deleted, "missing.tar"},
		"one argument":    {deleted},
		"bad format":      {"-f", "sarif", deleted, clean},
	} {
		t.Run(name, func(t *testing.T) {
			if got := imagescan(t, append([]string{"diff", "-q"}, args...)...); got.code != 2 {
				t.Errorf("exit %d, want 2\n%s", got.code, got.stderr)
			}
		})
	}
}
