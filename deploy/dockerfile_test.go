package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/internal/testenv"
)

// buildah runs buildah on a storage of the test's own (vfs, chroot
// isolation: no daemon, no privileges beyond root) and returns its
// standard output.
type buildah struct {
	t          *testing.T
	bin        string
	root, run  string
	extraFlags []string
}

func newBuildah(t *testing.T) *buildah {
	t.Helper()
	bin := testenv.RequireTool(t, "buildah", "buildah")
	if os.Geteuid() != 0 {
		t.Skip("buildah with chroot isolation needs root")
	}
	dir, err := os.MkdirTemp("/var/tmp", "imagescan-buildah-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command(bin, "--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs", "rm", "--all").Run()
		_ = os.RemoveAll(dir)
	})
	return &buildah{t: t, bin: bin, root: filepath.Join(dir, "root"), run: filepath.Join(dir, "run")}
}

// do runs buildah and fails the test unless it exits with want.
func (b *buildah) do(want int, args ...string) string {
	b.t.Helper()
	cmd := exec.Command(b.bin, append([]string{"--root", b.root, "--runroot", b.run, "--storage-driver", "vfs"}, args...)...)
	cmd.Env = append(os.Environ(), "BUILDAH_ISOLATION=chroot")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		b.t.Fatal(err)
	}
	if code != want {
		b.t.Fatalf("buildah %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// baseImage commits an image from scratch with what fill puts in its
// root, and config flags.
func (b *buildah) baseImage(name string, fill func(root string), config ...string) {
	b.t.Helper()
	c := strings.TrimSpace(b.do(0, "from", "scratch"))
	root := strings.TrimSpace(b.do(0, "mount", c))
	fill(root)
	b.do(0, "umount", c)
	if len(config) > 0 {
		b.do(0, append(append([]string{"config"}, config...), c)...)
	}
	b.do(0, "commit", "-q", c, name)
	b.do(0, "rm", c)
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func mustWrite(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

// TestTheImageBuildsAndScans builds imagescan's own image from the
// Dockerfile with buildah, then runs it on a fixture mounted into it.
// The cluster's base images cannot be pulled here, so the test makes
// stand-ins: a Go image that is the machine's own Go toolchain (mounted,
// with the module and build caches, so that nothing is downloaded) and a
// shell, and a static base with CA certificates and the nonroot user, as
// distroless's is.
func TestTheImageBuildsAndScans(t *testing.T) {
	b := newBuildah(t)
	busybox := testenv.RequireTool(t, "busybox", "busybox-static")
	b.baseImage("localhost/test/go", func(root string) {
		data, err := os.ReadFile(busybox)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(root, "bin/busybox"), string(data), 0o755)
		if err := os.Symlink("busybox", filepath.Join(root, "bin/sh")); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n", 0o644)
		if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o1777); err != nil {
			t.Fatal(err)
		}
	}, "--env", "PATH=/usr/local/go/bin:/bin", "--env", "HOME=/root", "--env", "GOPATH=/go",
		"--env", "GOPROXY=off", "--env", "GOTOOLCHAIN=local", "--env", "GOFLAGS=-mod=mod")
	b.baseImage("localhost/test/static", func(root string) {
		certs, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"), string(certs), 0o644)
		mustWrite(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n", 0o644)
		if err := os.MkdirAll(filepath.Join(root, "home/nonroot"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(filepath.Join(root, "home/nonroot"), 65532, 65532); err != nil {
			t.Fatal(err)
		}
	})
	b.do(0, "bud", "-q", "--layers=false", "-f", "../Dockerfile",
		"--build-arg", "GO_IMAGE=localhost/test/go", "--build-arg", "BASE_IMAGE=localhost/test/static", "--build-arg", "VERSION=test",
		"-v", goEnv(t, "GOROOT")+":/usr/local/go:ro", "-v", goEnv(t, "GOMODCACHE")+":/go/pkg/mod:ro", "-v", goEnv(t, "GOCACHE")+":/root/.cache/go-build",
		"-t", "localhost/test/imagescan", "..")

	cfg := b.do(0, "inspect", "--type", "image", "--format", "{{.OCIv1.Config.User}}|{{.OCIv1.Config.Entrypoint}}|{{len .OCIv1.RootFS.DiffIDs}}", "localhost/test/imagescan")
	if strings.TrimSpace(cfg) != "65532:65532|[/usr/local/bin/imagescan]|2" {
		t.Errorf("image config %q; want the nonroot user, imagescan as entrypoint, and two layers (the base and the binary)", cfg)
	}
	c := strings.TrimSpace(b.do(0, "from", "-q", "localhost/test/imagescan"))
	fixture, err := filepath.Abs("../fixtures/npm-deleted/image.tar")
	if err != nil {
		t.Fatal(err)
	}
	out := b.do(1, "run", "-v", fixture+":/scan/app.tar:ro", c, "--", "/usr/local/bin/imagescan", "scan", "--no-progress", "/scan/app.tar")
	for _, want := range []string{"npm-access-token", "private-app/.npmrc:1", "deleted by layer 4"} {
		if !strings.Contains(out, want) {
			t.Errorf("the image's scan of the npm-deleted fixture lacks %q:\n%s", want, out)
		}
	}
	if v := b.do(0, "run", c, "--", "/usr/local/bin/imagescan", "version"); !strings.HasPrefix(v, "imagescan test\n") {
		t.Errorf("version: %q", v)
	}
}
