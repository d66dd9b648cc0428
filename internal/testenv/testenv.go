// Package testenv starts the real components that integration tests run
// against: Debian's docker-registry (distribution 2.8) on a loopback port,
// and Debian's dockerd with its own data root and socket. Only tests
// import it.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"golang.org/x/crypto/bcrypt"
)

// RequireTool returns the path of an integration test's real component.
// A missing one fails the test with how to install it: go test does not
// show why a passing package skipped, so skipping is opt-in, with
// IMAGESCAN_SKIP_INTEGRATION=1.
func RequireTool(t testing.TB, bin, pkg string) string {
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

func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartRegistry runs Debian's docker-registry (distribution 2.8) on a
// loopback port with htpasswd basic auth for user, and returns host:port.
func StartRegistry(t testing.TB, user, pass string) string {
	t.Helper()
	bin := RequireTool(t, "docker-registry", "docker-registry")
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
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

// StartDockerd runs Debian's dockerd as root with its own data root and
// socket (vfs storage, no iptables, no bridge) and points DOCKER_HOST at
// it. IMAGESCAN_SKIP_DOCKERD, set by .ci/run when its probe finds that
// dockerd cannot start on the machine, skips the test with that reason.
func StartDockerd(t *testing.T) *client.Client {
	t.Helper()
	if reason := os.Getenv("IMAGESCAN_SKIP_DOCKERD"); reason != "" {
		t.Skip("dockerd cannot run on this machine: " + reason)
	}
	bin := RequireTool(t, "dockerd", "docker.io")
	if os.Geteuid() != 0 {
		t.Fatal("dockerd needs root; run the tests as root, or set IMAGESCAN_SKIP_DOCKERD to say why not")
	}
	dir, err := os.MkdirTemp("/tmp", "isd-") // short: a unix socket path is limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "docker.sock")
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--storage-driver", "vfs", "--iptables=false", "--bridge=none",
		"--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "--host", "unix://"+sock)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("dockerd output:\n%s", logs.String())
		}
		_ = os.RemoveAll(dir)
	})
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, err := cli.Ping(context.Background(), client.PingOptions{NegotiateAPIVersion: true})
		if err == nil {
			return cli
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd did not answer: %v\n%s", err, logs.String())
		}
	}
}

func DockerLoad(t *testing.T, cli *client.Client, archive string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := cli.ImageLoad(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if _, err := io.Copy(io.Discard, res); err != nil {
		t.Fatal(err)
	}
}
