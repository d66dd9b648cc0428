package source_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/source"
)

// serve starts go-containerregistry's in-process registry behind handler
// wrappers and returns its host:port.
func serve(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func push(t *testing.T, ref string, img v1.Image, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatal(err)
	}
}

// dockerConfig points the default keychain at a config with these
// credentials for host.
func dockerConfig(t *testing.T, host, user, pass string) {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

func TestRegistryImageGivesTheArchiveFindings(t *testing.T) {
	dockerConfig(t, "nowhere.invalid", "x", "y")
	want := where(run(t, open(t, deletedFixture)))
	host := serve(t, nil)
	img := imageOf(t, open(t, deletedFixture))
	push(t, host+"/team/app:1.2", img)
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	for _, input := range []string{
		host + "/team/app:1.2",
		"docker://" + host + "/team/app:1.2",
		host + "/team/app@" + digest.String(),
	} {
		t.Run(input, func(t *testing.T) {
			tg := open(t, input)
			if tg.Digest != digest {
				t.Errorf("digest %s, want %s", tg.Digest, digest)
			}
			if diff := cmp.Diff(want, where(run(t, tg))); diff != "" {
				t.Errorf("findings (-archive +registry):\n%s", diff)
			}
		})
	}
}

func TestRegistryIndexScansEveryPlatform(t *testing.T) {
	dockerConfig(t, "nowhere.invalid", "x", "y")
	host := serve(t, nil)
	amd := imageOf(t, open(t, deletedFixture))
	arm := imageOf(t, open(t, deletedFixture))
	arm = fixtureArch(t, arm, "arm64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	ref, err := name.ParseReference(host + "/team/multi:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	targets, err := fixture.Open(t, ref.String())
	if err != nil || len(targets) != 2 {
		t.Fatalf("%d targets, %v", len(targets), err)
	}
	only, err := fixture.Open(t, ref.String(), source.WithPlatform("linux/arm64"))
	if err != nil || len(only) != 1 {
		t.Fatalf("--platform: %d targets, %v", len(only), err)
	}
	if res := run(t, only[0]); res.Platform != "linux/arm64" || len(res.Findings) != 3 {
		t.Errorf("arm64: platform %s, %d findings", res.Platform, len(res.Findings))
	}
}

func TestRegistryErrorsAreOneClearLine(t *testing.T) {
	dockerConfig(t, "nowhere.invalid", "x", "y")
	host := serve(t, nil)
	push(t, host+"/team/app:1", imageOf(t, open(t, "../fixtures/clean/image.tar")))
	secured := serve(t, basicAuth("alice", "s3cret-pass"))

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()

	tests := map[string]struct {
		input string
		want  string
	}{
		"unknown tag":        {host + "/team/app:nope", "team/app:nope not found in registry " + host},
		"unknown repository": {host + "/team/other:1", "team/other:1 not found in registry " + host},
		"no credentials":     {secured + "/team/app:1", "registry " + secured + " refused access to team/app (401 Unauthorized): check the credentials"},
		"connection refused": {refused + "/team/app:1", "cannot reach registry " + refused + ": connection refused"},
		"not a reference":    {"UPPER/Case:tag", "not a file, and not an image reference"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := source.Open(context.Background(), tc.input)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with %q", err, tc.want)
			}
		})
	}
}

func TestRegistryCredentialsComeFromTheDockerConfig(t *testing.T) {
	host := serve(t, basicAuth("alice", "s3cret-pass"))
	push(t, host+"/team/app:1", imageOf(t, open(t, deletedFixture)), remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret-pass"}))

	dockerConfig(t, host, "alice", "wrong-pass")
	if _, err := source.Open(context.Background(), host+"/team/app:1"); err == nil || !strings.Contains(err.Error(), "refused access") {
		t.Errorf("wrong password: err = %v", err)
	}
	dockerConfig(t, host, "alice", "s3cret-pass")
	if res := run(t, open(t, host+"/team/app:1")); len(res.Findings) != 3 {
		t.Errorf("%d findings, want 3", len(res.Findings))
	}
}

func TestRegistryCorruptBlobIsAnErrorOnItsLayer(t *testing.T) {
	dockerConfig(t, "nowhere.invalid", "x", "y")
	img := imageOf(t, open(t, deletedFixture))
	host := serve(t, corruptBlob(fixture.LayerDigest(t, img, 4)))
	push(t, host+"/team/app:1", img)
	tg := open(t, host+"/team/app:1")
	res, err := scanRun(t, tg)
	if err == nil || !strings.Contains(err.Error(), "layer 4") {
		t.Fatalf("err = %v, want an error on layer 4", err)
	}
	if len(res.Findings) == 0 || res.Findings[0].Location.Path != "private-app/.npmrc" {
		t.Errorf("the other layers' findings were lost: %v", where(res))
	}
}

// basicAuth wraps a registry with HTTP basic authentication.
func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// corruptBlob flips a byte in the middle of one blob's content as served.
func corruptBlob(d v1.Hash) func(http.Handler) http.Handler {
	return fixture.ServeBlob(d, func(w http.ResponseWriter, _ *http.Request, body []byte) {
		body[len(body)/2] ^= 0xff
		_, _ = io.Copy(w, bytes.NewReader(body))
	})
}
