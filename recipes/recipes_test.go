package recipes_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/imagescan/imagescan/internal/testenv"
)

const (
	leaking     = "../fixtures/npm-deleted/image.tar"
	leakingName = "localhost/fixtures/npm-deleted:latest"
	clean       = "../fixtures/clean/image.tar"
	cleanName   = "localhost/fixtures/clean:latest"
)

// bin is a directory holding an imagescan built from this tree, first on
// the PATH of every recipe the tests run.
var bin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "imagescan-recipes-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-tags", "gore2regex", "-o", filepath.Join(bin, "imagescan"), "../cmd/imagescan")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building imagescan: %v\n%s", err, out)
		return 1
	}
	// The recipes' imagescan gets a key and a cache of its own.
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	os.Unsetenv("IMAGESCAN_FINGERPRINT_KEY")
	return m.Run()
}

// shell runs script with bash in dir, with the built imagescan first on
// the PATH and env added, and returns its exit code and output.
func shell(t *testing.T, dir, script string, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append(env, "PATH="+bin+":"+os.Getenv("PATH"))...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("running %q: %v", script, err)
	return 0, ""
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func abs(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDocsShowTheRecipes keeps docs/recipes.md's copies of the recipes
// true.
func TestDocsShowTheRecipes(t *testing.T) {
	readme, err := os.ReadFile("../docs/recipes.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"github-actions.yml", "gitlab-ci.yml", "push-if-clean.sh", "handoff-audit.sh"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readme, data) {
			t.Errorf("docs/recipes.md does not show recipes/%s as it is", name)
		}
	}
}

type githubWorkflow struct {
	Jobs map[string]struct {
		Permissions map[string]string `yaml:"permissions"`
		Env         map[string]string `yaml:"env"`
		Steps       []struct {
			Name string            `yaml:"name"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			If   string            `yaml:"if"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// TestGitHubActionsRecipe checks the job's shape and runs its scan step
// against images in a real Docker daemon. Installing from the module
// proxy, docker build and the upload need GitHub; they are checked, not
// run.
func TestGitHubActionsRecipe(t *testing.T) {
	var wf githubWorkflow
	readYAML(t, "github-actions.yml", &wf)
	job := wf.Jobs["imagescan"]
	if job.Permissions["security-events"] != "write" {
		t.Error("the job cannot upload SARIF without security-events: write")
	}
	if !strings.Contains(job.Env["IMAGESCAN_FINGERPRINT_KEY"], "secrets.") {
		t.Error("the job does not take the fingerprint key from a secret")
	}
	var scanStep string
	var uploaded bool
	for _, s := range job.Steps {
		switch {
		case strings.HasPrefix(s.Run, "imagescan scan"):
			scanStep = s.Run
		case strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@"):
			uploaded = s.If == "always()" && strings.Contains(scanStep, "-f sarif -o "+s.With["sarif_file"]+" ")
		}
	}
	if scanStep == "" || !uploaded {
		t.Fatalf("want a scan step writing SARIF, then an upload of that file that runs even when the scan fails; scan %q", scanStep)
	}

	cli := testenv.StartDockerd(t)
	testenv.DockerLoad(t, cli, leaking)
	testenv.DockerLoad(t, cli, clean)
	for image, want := range map[string]int{leakingName: 3, cleanName: 0} {
		dir := t.TempDir()
		code, out := shell(t, dir, scanStep, "IMAGE="+image)
		if code != min(want, 1) {
			t.Errorf("%s: the scan step exited %d\n%s", image, code, out)
		}
		var log struct {
			Version string `json:"version"`
			Runs    []struct {
				Results []json.RawMessage `json:"results"`
			} `json:"runs"`
		}
		data, err := os.ReadFile(filepath.Join(dir, "imagescan.sarif"))
		if err != nil {
			t.Fatalf("%s: no SARIF to upload: %v", image, err)
		}
		if err := json.Unmarshal(data, &log); err != nil || log.Version != "2.1.0" || len(log.Runs[0].Results) != want {
			t.Errorf("%s: SARIF %v, version %q, %d results, want %d", image, err, log.Version, len(log.Runs[0].Results), want)
		}
	}
}

type gitlabJob struct {
	Needs     []string          `yaml:"needs"`
	Variables map[string]string `yaml:"variables"`
	Script    []string          `yaml:"script"`
	Artifacts struct {
		When  string   `yaml:"when"`
		Paths []string `yaml:"paths"`
	} `yaml:"artifacts"`
}

// TestGitLabRecipe checks the jobs' shape and runs the scan job's script
// on real archives; the go install line needs the published module and is
// checked, not run.
func TestGitLabRecipe(t *testing.T) {
	var jobs map[string]yaml.Node
	readYAML(t, "gitlab-ci.yml", &jobs)
	job := func(name string) gitlabJob {
		var j gitlabJob
		node, ok := jobs[name]
		if !ok {
			t.Fatalf("no job %s", name)
		}
		if err := node.Decode(&j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	build, scan := job("build-image"), job("imagescan")
	if len(scan.Needs) != 1 || scan.Needs[0] != "build-image" || !contains(build.Artifacts.Paths, scan.Variables["IMAGE_TAR"]) {
		t.Errorf("the scan job does not get the build job's archive: needs %v, IMAGE_TAR %q, artifacts %v", scan.Needs, scan.Variables["IMAGE_TAR"], build.Artifacts.Paths)
	}
	if scan.Artifacts.When != "always" || !contains(scan.Artifacts.Paths, "imagescan.json") {
		t.Errorf("the report is not kept when the job fails: %+v", scan.Artifacts)
	}
	var script []string
	for _, line := range scan.Script {
		if !strings.HasPrefix(line, "go install ") {
			script = append(script, line)
		}
	}
	if len(script) != len(scan.Script)-1 {
		t.Fatalf("script %q: want one go install line", scan.Script)
	}
	for archive, want := range map[string]int{leaking: 3, clean: 0} {
		dir := t.TempDir()
		code, out := shell(t, dir, strings.Join(script, "\n"), "IMAGE_TAR="+abs(t, archive))
		if code != min(want, 1) {
			t.Errorf("%s: exit %d\n%s", archive, code, out)
		}
		if got := findingsIn(t, filepath.Join(dir, "imagescan.json")); got != want {
			t.Errorf("%s: the report holds %d findings, want %d", archive, got, want)
		}
	}
}

func findingsIn(t *testing.T, report string) int {
	t.Helper()
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	var r struct {
		Images []struct {
			Findings []json.RawMessage `json:"findings"`
		} `json:"images"`
	}
	if err := json.Unmarshal(data, &r); err != nil || len(r.Images) != 1 {
		t.Fatalf("report %s: %v", report, err)
	}
	return len(r.Images[0].Findings)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPushIfClean pushes through a real Docker daemon to a real registry:
// the leaking image is refused and never reaches the registry, the clean
// one arrives.
func TestPushIfClean(t *testing.T) {
	cli := testenv.StartDockerd(t)
	testenv.DockerLoad(t, cli, leaking)
	testenv.DockerLoad(t, cli, clean)
	const user, pass = "ci-bot", "push-test-password"
	host := testenv.StartRegistry(t, user, pass)
	docker := filepath.Join(t.TempDir(), "docker-config")
	env := []string{"DOCKER_CONFIG=" + docker}
	if code, out := shell(t, ".", fmt.Sprintf("echo %s | docker login -u %s --password-stdin %s", pass, user, host), env...); code != 0 {
		t.Fatalf("docker login: %s", out)
	}
	script := abs(t, "push-if-clean.sh")

	code, out := shell(t, ".", script+" "+leakingName+" "+host+"/team/app:leaking", env...)
	if code != 1 || !strings.Contains(out, "refusing to push") || !strings.Contains(out, "npm-access-token") {
		t.Errorf("the leaking image: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "npm_4zWH8xMS9BMoXOJrLo8F2nXMzqQdgCWwDllJ") {
		t.Error("the refusal printed the raw token")
	}
	if manifestExists(t, host, user, pass, "team/app", "leaking") {
		t.Error("the leaking image reached the registry")
	}

	if code, out := shell(t, ".", script+" "+cleanName+" "+host+"/team/app:clean", env...); code != 0 {
		t.Errorf("the clean image: exit %d\n%s", code, out)
	}
	if !manifestExists(t, host, user, pass, "team/app", "clean") {
		t.Error("the clean image did not reach the registry")
	}

	if code, out := shell(t, ".", script+" no-such-image:1 "+host+"/team/app:none", env...); code != 2 {
		t.Errorf("an image that cannot be scanned: exit %d, want 2\n%s", code, out)
	}
}

func manifestExists(t *testing.T, host, user, pass, repo, tag string) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, "http://"+host+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestHandoffAudit audits the exact archive to be sent and keeps the
// report under the archive's digest.
func TestHandoffAudit(t *testing.T) {
	script := abs(t, "handoff-audit.sh")
	for archive, want := range map[string]int{leaking: 3, clean: 0} {
		dir := t.TempDir()
		code, out := shell(t, dir, script+" "+abs(t, archive)+" signoff")
		if code != min(want, 1) {
			t.Errorf("%s: exit %d\n%s", archive, code, out)
		}
		data, err := os.ReadFile(archive)
		if err != nil {
			t.Fatal(err)
		}
		report := filepath.Join(dir, "signoff", "imagescan-"+sha256Hex(data)+".json")
		if got := findingsIn(t, report); got != want {
			t.Errorf("%s: the sign-off report holds %d findings, want %d", archive, got, want)
		}
	}
	if code, out := shell(t, t.TempDir(), script+" missing.tar"); code != 2 {
		t.Errorf("a missing archive: exit %d\n%s", code, out)
	}
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
