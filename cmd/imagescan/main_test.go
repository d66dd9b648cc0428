package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/scan/layers"
)

const (
	deleted = "../../fixtures/npm-deleted/image.tar"
	clean   = "../../fixtures/clean/image.tar"
	// the fake token planted in the npm-deleted fixture
	deletedToken = "npm_4zWH8xMS9BMoXOJrLo8F2nXMzqQdgCWwDllJ"
)

type outcome struct {
	code           int
	stdout, stderr string
}

func imagescan(t *testing.T, args ...string) outcome {
	t.Helper()
	return imagescanCtx(t, context.Background(), args...)
}

func imagescanCtx(t *testing.T, ctx context.Context, args ...string) outcome {
	t.Helper()
	return imagescanIn(t, ctx, nil, args...)
}

func imagescanIn(t *testing.T, ctx context.Context, stdin io.Reader, args ...string) outcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, stdin, &stdout, &stderr)
	return outcome{code, stdout.String(), stderr.String()}
}

func TestScanExitCodes(t *testing.T) {
	tests := map[string]struct {
		args []string
		code int
	}{
		"leaks":                        {[]string{"scan", deleted}, 1},
		"clean":                        {[]string{"scan", clean}, 0},
		"custom exit code":             {[]string{"scan", "--exit-code", "3", deleted}, 3},
		"exit code 0 never fails":      {[]string{"scan", "--exit-code", "0", deleted}, 0},
		"exit code 2 means an error":   {[]string{"scan", "--exit-code", "2", deleted}, 2},
		"exit code out of range":       {[]string{"scan", "--exit-code", "256", deleted}, 2},
		"custom exit code, clean":      {[]string{"scan", "--exit-code", "3", clean}, 0},
		"one input fails":              {[]string{"scan", clean, "missing.tar"}, 2},
		"an error beats findings":      {[]string{"scan", deleted, "missing.tar"}, 2},
		"no image":                     {[]string{"scan"}, 2},
		"unknown flag":                 {[]string{"scan", "--nope", clean}, 2},
		"unknown format":               {[]string{"scan", "-f", "xml", clean}, 2},
		"bad jobs":                     {[]string{"scan", "-j", "-1", clean}, 2},
		"bad ratio":                    {[]string{"scan", "--max-ratio", "0", clean}, 2},
		"bad depth":                    {[]string{"scan", "--max-depth", "-1", clean}, 2},
		"no archives opened":           {[]string{"scan", "--max-depth", "0", clean}, 0},
		"unknown command":              {[]string{"frobnicate"}, 2},
		"several images, one leaking":  {[]string{"scan", clean, deleted}, 1},
		"docker-archive: prefix works": {[]string{"scan", "docker-archive:" + deleted}, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := imagescan(t, tc.args...); got.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got.code, tc.code, got.stdout, got.stderr)
			}
		})
	}
}

func TestScanTextReport(t *testing.T) {
	got := imagescan(t, "scan", deleted)
	for _, want := range []string{
		"name      localhost/fixtures/npm-deleted:latest",
		"private-app/.npmrc:1 · deleted by layer 4 (RUN rm -f .npmrc), still in the image",
		"history 5 · RUN echo",
		"build arg NPM_TOKEN",
		"summary: 1 secret (1 critical) at 3 locations",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, got.stdout)
		}
	}
	if strings.Contains(got.stdout, deletedToken) {
		t.Error("the report prints the raw secret without --show-secrets")
	}
	if got.stderr != "" {
		t.Errorf("stderr = %q, want nothing (no progress bar off a terminal)", got.stderr)
	}
}

func TestScanShowSecrets(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		if got := imagescan(t, "scan", "-f", format, "--show-secrets", deleted); !strings.Contains(got.stdout, deletedToken) {
			t.Errorf("%s with --show-secrets lacks the raw secret", format)
		}
		if got := imagescan(t, "scan", "-f", format, deleted); strings.Contains(got.stdout, deletedToken) {
			t.Errorf("%s without --show-secrets prints the raw secret", format)
		}
	}
}

func TestScanJSONToAFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.json")
	got := imagescan(t, "scan", "-f", "json", "-o", out, deleted, clean)
	if got.code != 1 || got.stdout != "" {
		t.Fatalf("exit %d stdout %q, want 1 and nothing on stdout", got.code, got.stdout)
	}
	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, want 0600", info.Mode().Perm())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tool struct {
			Name, Version string
			Rules         int
		} `json:"tool"`
		Images []struct {
			Input    string            `json:"input"`
			Findings []json.RawMessage `json:"findings"`
		} `json:"images"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Images) != 2 || len(doc.Images[0].Findings) != 3 || len(doc.Images[1].Findings) != 0 || doc.Tool.Rules < 100 {
		t.Errorf("report = %s", data)
	}
}

func TestScanBadInputIsOneLineAndStillReported(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.tar")
	got := imagescan(t, "scan", "-f", "json", deleted, missing)
	if got.code != 2 {
		t.Fatalf("exit %d, want 2", got.code)
	}
	lines := strings.Split(strings.TrimSpace(got.stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], missing+": no such file or directory") {
		t.Errorf("stderr = %q, want one line naming the input", got.stderr)
	}
	var doc struct {
		Images []struct {
			Input    string            `json:"input"`
			Findings []json.RawMessage `json:"findings"`
			Errors   []string          `json:"errors"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Images) != 2 || len(doc.Images[0].Findings) != 3 || doc.Images[1].Input != missing || len(doc.Images[1].Errors) != 1 {
		t.Errorf("report = %s, want the scanned image and the failed input", got.stdout)
	}
}

func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := imagescanCtx(t, ctx, "scan", deleted)
	if got.code != 2 || got.stderr != "imagescan: interrupted; the report covers only what was read before\n" {
		t.Errorf("exit %d stderr %q, want 2 and one line saying so", got.code, got.stderr)
	}
	if !strings.Contains(got.stdout, "the scan is incomplete") {
		t.Errorf("a cancelled scan's report does not say it is incomplete:\n%s", got.stdout)
	}
}

func TestVersion(t *testing.T) {
	got := imagescan(t, "version")
	if got.code != 0 || !strings.HasPrefix(got.stdout, "imagescan ") || !strings.Contains(got.stdout, "gitleaks v8.") || !strings.Contains(got.stdout, " rules)") ||
		!strings.Contains(got.stdout, "\nprefilter: ") {
		t.Errorf("version: exit %d output %q", got.code, got.stdout)
	}
}

// TestScanErrorsAreRedactedOnStderr breaks a layer inside a file whose name
// holds a token that the history also leaks: the error line naming that
// file must not print the token.
func TestScanErrorsAreRedactedOnStderr(t *testing.T) {
	token := "npm_" + strings.Repeat("Ab3dE9", 6)
	img := fixture.Image(t,
		fixture.Layer{Tar: fixture.Tar(t, fixture.File("app/"+token+".log", strings.Repeat("log line\n", 20000))),
			CreatedBy: "|1 NPM_TOKEN=" + token + " /bin/sh -c make"},
	)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.tar")
	fixture.DockerArchive(t, whole, "example.test/app:1", img)
	cut := filepath.Join(dir, "cut.tar")
	fixture.Rewrite(t, whole, cut, func(ms []fixture.Member) []fixture.Member {
		for i, m := range ms {
			if strings.HasSuffix(m.Header.Name, ".tar.gz") {
				ms[i].Data = m.Data[:len(m.Data)/2] // a gzip stream cut inside the file
			}
		}
		return ms
	})
	for _, show := range []bool{false, true} {
		args := []string{"scan", cut}
		if show {
			args = append(args, "--show-secrets")
		}
		got := imagescan(t, args...)
		if got.code != 2 || !strings.Contains(got.stderr, "layer 0") || !strings.Contains(got.stderr, ".log: unexpected EOF") {
			t.Fatalf("exit %d stderr %q, want 2 and the broken file named", got.code, got.stderr)
		}
		if strings.Contains(got.stderr, token) != show || strings.Contains(got.stdout, token) != show {
			t.Errorf("show-secrets %v: the token appears on stderr %v, stdout %v", show, strings.Contains(got.stderr, token), strings.Contains(got.stdout, token))
		}
	}
}

// TestFixtureExitCodes runs every fixture through the command line and
// checks the exit code its answer key states: the leaking images fail a
// CI gate, the clean ones pass it.
func TestFixtureExitCodes(t *testing.T) {
	keys, err := filepath.Glob("../../fixtures/*/*.expected.json")
	if err != nil || len(keys) < 6 {
		t.Fatalf("answer keys: %v, %v", keys, err)
	}
	for _, k := range keys {
		data, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		var key struct {
			ExitCode int `json:"exit_code"`
		}
		if err := json.Unmarshal(data, &key); err != nil {
			t.Fatal(err)
		}
		archive := strings.TrimSuffix(k, ".expected.json") + ".tar"
		if got := imagescan(t, "scan", archive); got.code != key.ExitCode {
			t.Errorf("%s: exit %d, want %d\n%s%s", archive, got.code, key.ExitCode, got.stdout, got.stderr)
		}
	}
}

func TestScanPlatform(t *testing.T) {
	const index = "../../fixtures/forms/multi-platform.oci.tar"
	got := imagescan(t, "scan", "-f", "json", "--platform", "linux/arm64", index)
	var doc struct {
		Images []struct {
			Platform string `json:"platform"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if got.code != 1 || len(doc.Images) != 1 || doc.Images[0].Platform != "linux/arm64" {
		t.Errorf("exit %d, images %+v, want only linux/arm64", got.code, doc.Images)
	}
	got = imagescan(t, "scan", "--platform", "windows/amd64", index)
	if got.code != 2 || !strings.Contains(got.stderr, "no image for platform windows/amd64; there is linux/amd64, linux/arm64") {
		t.Errorf("unknown platform: exit %d stderr %q", got.code, got.stderr)
	}
}

func TestScanStandardInput(t *testing.T) {
	data, err := os.ReadFile(deleted)
	if err != nil {
		t.Fatal(err)
	}
	got := imagescanIn(t, context.Background(), bytes.NewReader(data), "scan", "-")
	if got.code != 1 || !strings.Contains(got.stdout, "private-app/.npmrc:1 · deleted by layer 4") {
		t.Errorf("exit %d, report:\n%s%s", got.code, got.stdout, got.stderr)
	}
}

func TestScanFailOn(t *testing.T) {
	// An image whose only leak is a medium one: a secret-named ENV value.
	img := fixture.WithConfig(t, fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("app/main.js", "ok"))}),
		func(cf *v1.ConfigFile) { cf.Config.Env = []string{"API_TOKEN=plain-value-7731"} })
	medium := filepath.Join(t.TempDir(), "medium.tar")
	fixture.DockerArchive(t, medium, "example.test/medium:1", img)
	same := "../../fixtures/npm-same-run/image.tar" // a critical npm token and a medium password

	tests := map[string]struct {
		args []string
		code int
	}{
		"medium leak, default":          {[]string{"scan", medium}, 1},
		"medium leak, --fail-on medium": {[]string{"scan", "--fail-on", "medium", medium}, 1},
		"medium leak, --fail-on high":   {[]string{"scan", "--fail-on", "high", medium}, 0},
		"critical leak, --fail-on high": {[]string{"scan", "--fail-on", "HIGH", same}, 1},
		"critical, --fail-on critical":  {[]string{"scan", "--fail-on", "critical", "--exit-code", "4", same}, 4},
		"unknown severity":              {[]string{"scan", "--fail-on", "severe", same}, 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := imagescan(t, tc.args...)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", got.code, tc.code, got.stdout, got.stderr)
			}
		})
	}
	if got := imagescan(t, "scan", "--fail-on", "high", medium); !strings.Contains(got.stdout, "secret 1  medium  secret-named-variable") {
		t.Errorf("a finding below --fail-on must still be reported:\n%s", got.stdout)
	}
}

func TestScanCustomRules(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.toml")
	if err := os.WriteFile(rules, []byte("[extend]\nuseDefault = true\n[[rules]]\nid = \"acme-internal-token\"\nregex = '''acme_[a-z0-9]{32}'''\nkeywords = [\"acme_\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	img := fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("app/config.yml", "token: acme_"+strings.Repeat("z9", 16)+"\n"))})
	archive := filepath.Join(dir, "acme.tar")
	fixture.DockerArchive(t, archive, "example.test/acme:1", img)

	if got := imagescan(t, "scan", archive); got.code != 0 {
		t.Errorf("default rules: exit %d, want 0 (the ACME format is unknown to them)\n%s", got.code, got.stdout)
	}
	got := imagescan(t, "scan", "--config", rules, archive)
	if got.code != 1 || !strings.Contains(got.stdout, "acme-internal-token") {
		t.Errorf("custom rules: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[[rules]]\nid = \"broken\"\nregex = '''([a-z'''\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got = imagescan(t, "scan", "--config", bad, archive)
	if got.code != 2 || !strings.Contains(got.stderr, `--config: `+bad+`: rule "broken": regex "([a-z" does not compile`) || strings.Count(got.stderr, "\n") != 1 {
		t.Errorf("bad rules: exit %d stderr %q", got.code, got.stderr)
	}
}

// TestShippedBuildHasNoNoDetect: a report made without detection would
// look like a clean scan, so only the benchmark's build can make one.
func TestShippedBuildHasNoNoDetect(t *testing.T) {
	if benchBuild {
		t.Skip("this is the benchmark's build")
	}
	got := imagescan(t, "scan", "--no-detect", deleted)
	if got.code != 2 || !strings.Contains(got.stderr, "unknown flag: --no-detect") {
		t.Errorf("exit %d, stderr %q; want --no-detect refused", got.code, got.stderr)
	}
}

// TestScanNoDetectReadsEverything runs the benchmark's floor, as its
// build's --no-detect does.
func TestScanNoDetectReadsEverything(t *testing.T) {
	var stdout, stderr bytes.Buffer
	f := scanFlags{format: "json", noDetect: true, exitCode: exitLeaks, failOn: "low", noProgress: true,
		maxRatio: scan.DefaultMaxRatio, maxDepth: layers.DefaultMaxDepth}
	err := runScan(t.Context(), f, []string{deleted}, nil, &stdout, &stderr)
	got := outcome{code: exitClean, stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		got.code = exitError
	}
	var doc struct {
		Images []struct {
			Findings []json.RawMessage `json:"findings"`
			Coverage struct {
				Files, Layers int
			} `json:"coverage"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	img := doc.Images[0]
	if got.code != 0 || len(img.Findings) != 0 || img.Coverage.Files != 7 || img.Coverage.Layers != 5 {
		t.Errorf("exit %d, %d findings, coverage %+v: want every file read and nothing detected", got.code, len(img.Findings), img.Coverage)
	}
}
