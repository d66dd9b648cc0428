package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/report"
)

// TestEncodedSecretsAreRedactedInEveryText: a GitHub token that a RUN step
// holds base64-, hex-, percent- or unicode-escape-encoded is found, and no
// output prints the encoded text that decodes to it: not the finding, not
// the step in the history and the layer table, not extract's provenance.
func TestEncodedSecretsAreRedactedInEveryText(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	token := func() string {
		b := []byte("ghp_")
		for range 36 {
			b = append(b, alnum[rng.IntN(len(alnum))])
		}
		return string(b)
	}
	encodings := map[string]func(string) string{
		"base64":  func(s string) string { return base64.StdEncoding.EncodeToString([]byte("token=" + s)) },
		"hex":     func(s string) string { return hex.EncodeToString([]byte(s)) },
		"percent": func(s string) string { return strings.ReplaceAll(url.QueryEscape("x:"+s), "_", "%5F") },
		"unicode": func(s string) string {
			var b strings.Builder
			for _, c := range s {
				fmt.Fprintf(&b, "\\u%04x", c)
			}
			return b.String()
		},
	}
	for name, encode := range encodings {
		t.Run(name, func(t *testing.T) {
			raw := token()
			encoded := encode(raw)
			step := "/bin/sh -c echo " + encoded + " > /etc/app.conf"
			img := fixture.Image(t,
				fixture.Layer{Tar: fixture.Tar(t, fixture.File("etc/motd", "hello\n")), CreatedBy: "/bin/sh -c #(nop) ADD file:motd in /"},
				fixture.Layer{Tar: fixture.Tar(t, fixture.File("etc/app.conf", "configured\n")), CreatedBy: step},
			)
			archive := filepath.Join(t.TempDir(), "encoded.tar")
			fixture.DockerArchive(t, archive, "example.test/encoded:1", img)

			for _, format := range report.Formats {
				got := imagescan(t, "scan", "--no-cache", "-f", format, archive)
				if got.code != 1 {
					t.Fatalf("-f %s: exit %d, want 1 (the token found)\n%s", format, got.code, got.stderr)
				}
				assertNeither(t, "scan -f "+format, got.stdout+got.stderr, raw, encoded)
				if format == "text" {
					continue // it shortens steps
				}
				shown := imagescan(t, "scan", "--no-cache", "--show-secrets", "-f", format, archive).stdout
				if !strings.Contains(shown, encoded) && !strings.Contains(shown, strings.ReplaceAll(encoded, `\`, `\\`)) {
					t.Errorf("-f %s --show-secrets: the step is not shown as it is, so this test proves nothing", format)
				}
			}
			out := filepath.Join(t.TempDir(), "app.conf")
			got := imagescan(t, "extract", archive, "--layer", "1", "--path", "etc/app.conf", "-o", out)
			if got.code != 0 {
				t.Fatalf("extract: exit %d: %s", got.code, got.stderr)
			}
			assertNeither(t, "the provenance", string(readFile(t, out+".provenance.json")), raw, encoded)
		})
	}
}

func assertNeither(t *testing.T, what, text, raw, encoded string) {
	t.Helper()
	if strings.Contains(text, raw) {
		t.Errorf("%s prints the raw token", what)
	}
	if strings.Contains(text, encoded) {
		t.Errorf("%s prints the encoded token %.20s…", what, encoded)
	}
}

// TestSecretsInConfigKeysAreRedacted: a config key can be a secret (a
// volume named after it, a label whose key it is), and the field and
// variable that name where a finding is then hold it too.
func TestSecretsInConfigKeysAreRedacted(t *testing.T) {
	raw := "ghp_" + strings.Repeat("k3yInAKeyQ", 4)[:36]
	img := fixture.WithConfig(t, fixture.Image(t,
		fixture.Layer{Tar: fixture.Tar(t, fixture.File("etc/motd", "hello\n")), CreatedBy: "/bin/sh -c #(nop) ADD file:motd in /"},
	), func(cf *v1.ConfigFile) {
		cf.Config.Volumes = map[string]struct{}{"/data/" + raw: {}}
		cf.Config.Labels = map[string]string{raw: "1"}
	})
	archive := filepath.Join(t.TempDir(), "keys.tar")
	fixture.DockerArchive(t, archive, "example.test/keys:1", img)
	for _, format := range report.Formats {
		got := imagescan(t, "scan", "--no-cache", "-f", format, archive)
		if got.code != 1 {
			t.Fatalf("-f %s: exit %d, want 1 (the token found)\n%s", format, got.code, got.stderr)
		}
		assertNeither(t, "scan -f "+format, got.stdout+got.stderr, raw, raw)
	}
	shown := imagescan(t, "scan", "--no-cache", "--show-secrets", "-f", "json", archive).stdout
	if !strings.Contains(shown, `config.Volumes[\"/data/`+raw+`\"]`) {
		t.Errorf("--show-secrets: the volume's field is not named, so this test proves nothing:\n%s", shown)
	}
}

// TestASecretInTheImagesNameIsRedacted: an OCI layout whose index.json
// names the image with a token (org.opencontainers.image.ref.name) is a
// finding, and the name, printed in every report, is redacted.
func TestASecretInTheImagesNameIsRedacted(t *testing.T) {
	raw := "ghp_" + strings.Repeat("n4m3dW1thAT0k3n", 3)[:36]
	img := fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("etc/motd", "hello\n")), CreatedBy: "ADD motd /etc/motd"})
	dir := filepath.Join(t.TempDir(), "layout")
	fixture.OCILayout(t, dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img,
		Descriptor: v1.Descriptor{Annotations: map[string]string{"org.opencontainers.image.ref.name": "app-" + raw}}}))
	for _, format := range report.Formats {
		got := imagescan(t, "scan", "--no-cache", "-f", format, "oci:"+dir)
		if got.code != 1 {
			t.Fatalf("-f %s: exit %d, want 1 (the token found)\n%s%s", format, got.code, got.stdout, got.stderr)
		}
		assertNeither(t, "scan -f "+format, got.stdout+got.stderr, raw, raw)
	}
	if shown := imagescan(t, "scan", "--no-cache", "--show-secrets", "-f", "json", "oci:"+dir).stdout; !strings.Contains(shown, `"reference": "app-`+raw) {
		t.Errorf("--show-secrets: the name is not shown, so this test proves nothing:\n%s", shown)
	}
}
