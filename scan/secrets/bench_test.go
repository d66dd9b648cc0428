package secrets_test

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
)

// jsLike is text shaped like application JavaScript, keywords included.
func jsLike(size int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "export function handler%d(req, res) { const key = req.headers['x-api-key']; const token = getToken(req.user); return res.json({ id: %d, secret: false, url: 'https://api.example.com/v1/items/%d' }); }\n", i, i, i)
	}
	return []byte(b.String()[:size])
}

// BenchmarkDetectFile is the detector on one 1 MiB window of JavaScript,
// all rules on: the cost per MB that dominates a scan.
func BenchmarkDetectFile(b *testing.B) {
	d := fixture.Detector(b)
	content := jsLike(1 << 20)
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		d.DetectFile(context.Background(), finding.File{Path: "srv/app/dist/main.js", Content: content})
	}
}

// BenchmarkTextKinds is the detector, all rules on, on real text of the
// kinds images are made of: a bundled npm module (and the same squeezed
// onto one line, as minifiers leave it), an npm lockfile, Go source, and
// HTML documentation.
func BenchmarkTextKinds(b *testing.B) {
	d := fixture.Detector(b)
	js := fileInImage(b, "../../fixtures/third-party/image.tar", "app/node_modules/@aws-sdk/client-sso-oidc/dist-cjs/index.js")
	kinds := []struct {
		name, path string
		text       []byte
	}{
		{"bundled-js", "srv/app/node_modules/x/dist/index.js", js},
		{"minified-js", "srv/app/node_modules/x/dist/index.min.js", squeeze(js)},
		{"lockfile", "srv/app/package-lock.json", readFile(b, "../../bench/realistic/package-lock.json")},
		{"go-source", "src/net/http/server.go", readFile(b, filepath.Join(runtime.GOROOT(), "src/net/http/server.go"))},
		{"html-docs", "usr/share/doc/go/go_spec.html", readFile(b, filepath.Join(runtime.GOROOT(), "doc/go_spec.html"))},
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			b.SetBytes(int64(len(k.text)))
			for b.Loop() {
				d.DetectFile(context.Background(), finding.File{Path: k.path, Content: k.text})
			}
		})
	}
}

// squeeze joins the lines of a source file into one, as a minifier would.
func squeeze(src []byte) []byte {
	var out []byte
	for _, line := range strings.Split(string(src), "\n") {
		out = append(out, strings.TrimSpace(line)...)
	}
	return out
}

func readFile(b *testing.B, p string) []byte {
	b.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// fileInImage returns the content of the file at path in the docker save
// archive's layers.
func fileInImage(b *testing.B, archive, path string) []byte {
	b.Helper()
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		b.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			b.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			hdr, err := tr.Next()
			if err != nil {
				break
			}
			if hdr.Name == path {
				data, err := io.ReadAll(tr)
				rc.Close()
				if err != nil {
					b.Fatal(err)
				}
				return data
			}
		}
		rc.Close()
	}
	b.Fatalf("%s holds no %s", archive, path)
	return nil
}
