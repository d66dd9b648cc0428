package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// asMainEnv makes the test binary run imagescan's main instead of the
// tests (see TestMain), so that a test can watch a real process's own
// file descriptors, which libraries below Go may write to directly.
const asMainEnv = "IMAGESCAN_TEST_AS_MAIN"

// process runs imagescan as a separate process and returns what it wrote.
func process(t *testing.T, args ...string) outcome {
	t.Helper()
	return processEnv(t, nil, args...)
}

// processEnv is process with env added to the environment.
func processEnv(t testing.TB, env []string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), asMainEnv+"=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return outcome{code, stdout.String(), stderr.String()}
}

// TestABadRuleIsOneLineOnTheRealStderr: RE2 writes its own complaints to
// file descriptor 2 when it is handed a pattern it rejects; a rule file
// with a broken regex must still give exactly one line.
func TestABadRuleIsOneLineOnTheRealStderr(t *testing.T) {
	for name, rule := range map[string]string{
		"regex":           "[[rules]]\nid = \"broken\"\nregex = '''([a-z'''\n",
		"allowlist regex": "[[rules]]\nid = \"fine\"\nregex = '''tok_[a-z]{8}'''\n[[rules.allowlists]]\nregexes = ['''(?<bad'''] \n",
		"path":            "[[rules]]\nid = \"paths\"\npath = '''*.env'''\n",
	} {
		t.Run(name, func(t *testing.T) {
			bad := t.TempDir() + "/rules.toml"
			write(t, bad, rule)
			got := process(t, "scan", "--config", bad, clean)
			if got.code != 2 || strings.Count(got.stderr, "\n") != 1 || !strings.HasPrefix(got.stderr, "imagescan: --config: ") || !strings.Contains(got.stderr, "does not compile") {
				t.Errorf("exit %d, stderr %q; want 2 and one line", got.code, got.stderr)
			}
		})
	}
}

// TestScanRefusesATerminalAsStandardInput: "scan -" reads an archive from
// standard input; on a terminal it would wait silently for one.
func TestScanRefusesATerminalAsStandardInput(t *testing.T) {
	ptmx, tty := openPTY(t)
	defer tty.Close()
	// Were the terminal read, hanging up ends the read, with another error.
	hangUp := time.AfterFunc(5*time.Second, func() { ptmx.Close() })
	defer func() {
		if hangUp.Stop() {
			ptmx.Close()
		}
	}()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"scan", "-"}, tty, &stdout, &stderr)
	if code != 2 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "refusing to read an image from a terminal") {
		t.Errorf("exit %d, stderr %q; want 2 and one line", code, stderr.String())
	}
}
