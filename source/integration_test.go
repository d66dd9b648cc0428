package source_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"

	"github.com/imagescan/imagescan/source"
)

// requireTool returns the path of an integration test's real component.
// A missing one fails the test with how to install it: go test does not
// show why a passing package skipped, so skipping is opt-in, with
// IMAGESCAN_SKIP_INTEGRATION=1.
func requireTool(t *testing.T, bin, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (apt-get install %s)", bin, pkg)
	if os.Getenv("IMAGESCAN_SKIP_INTEGRATION") == "1" {
		t.Skip(msg + "; skipped because IMAGESCAN_SKIP_INTEGRATION=1")
	}
	t.Fatal(msg + "; set IMAGESCAN_SKIP_INTEGRATION=1 to skip this test")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRegistry runs Debian's docker-registry (distribution 2.8) on a
// loopback port with htpasswd basic auth for user, and returns host:port.
func startRegistry(t *testing.T, user, pass string) string {
	t.Helper()
	bin := requireTool(t, "docker-registry", "docker-registry")
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
auth:
  htpasswd:
    realm: imagescan-test
    path: %s
`, filepath.Join(dir, "data"), host, filepath.Join(dir, "htpasswd"))
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("docker-registry output:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return host
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not come up on %s: %v\n%s", host, err, logs.String())
		}
	}
}

func TestRealRegistry(t *testing.T) {
	const user, pass = "ci-bot", "walnut-kettle-8516"
	host := startRegistry(t, user, pass)
	creds := remote.WithAuth(&authn.Basic{Username: user, Password: pass})
	push(t, host+"/team/app:1.2", imageOf(t, open(t, deletedFixture)), creds)

	dockerConfig(t, host, user, pass)
	want := where(run(t, open(t, deletedFixture)))
	tg := open(t, host+"/team/app:1.2")
	if diff := cmp.Diff(want, where(run(t, tg))); diff != "" {
		t.Errorf("findings (-archive +registry):\n%s", diff)
	}
	if tg.Reference != host+"/team/app:1.2" || tg.Digest.Hex == "" {
		t.Errorf("reference %q digest %v", tg.Reference, tg.Digest)
	}

	_, err := source.Open(context.Background(), host+"/team/app:9.9")
	if err == nil || !strings.Contains(err.Error(), "team/app:9.9 not found in registry "+host) {
		t.Errorf("unknown tag: err = %v", err)
	}
	dockerConfig(t, host, user, "wrong-password")
	_, err = source.Open(context.Background(), host+"/team/app:1.2")
	if err == nil || !strings.Contains(err.Error(), "registry "+host+" refused access to team/app (401 Unauthorized)") {
		t.Errorf("wrong credentials: err = %v", err)
	}
}
