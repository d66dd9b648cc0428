package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/scan"
)

// Option configures Open.
type Option func(*options) error

type options struct {
	platform *v1.Platform
	insecure bool
}

// WithPlatform keeps only the images of one platform, "os/arch[/variant]",
// from an index or a multi-image archive. Asking for a platform that is not
// there is an error that lists the ones that are. By default every image is
// kept.
func WithPlatform(p string) Option {
	return func(o *options) error {
		if p == "" {
			return nil
		}
		plat, err := v1.ParsePlatform(p)
		if err != nil || plat.OS == "" || plat.Architecture == "" {
			return fmt.Errorf("platform %q is not os/arch[/variant]", p)
		}
		o.platform = plat
		return nil
	}
}

// WithInsecure allows plain HTTP to registries that are not on a loopback
// address. By default only loopback registries may be plain HTTP.
func WithInsecure(insecure bool) Option {
	return func(o *options) error {
		o.insecure = insecure
		return nil
	}
}

// The transports, named as skopeo names them. A prefix forces a form;
// without one, the form is told from what is at the path.
const (
	transportDockerArchive = "docker-archive:"
	transportOCIArchive    = "oci-archive:"
	transportOCILayout     = "oci:"
	transportRegistry      = "docker://"
	transportDaemon        = "docker-daemon:"
)

// Open returns the images that input names, one Target per image (and per
// platform of an index). The forms it reads:
//
//	app.tar, app.tar.gz, docker-archive:app.tar[:repo:tag]  docker save output, classic or Docker ≥ 25
//	app.oci.tar, oci-archive:app.oci.tar[:name]             an OCI layout in a tar
//	./layout, oci:./layout[:name]                           an OCI layout directory
//	registry.example/team/app:1.2, docker://…, …@sha256:…   a registry image or index
//
// A name with no file at its path is a registry reference.
// The error names the input.
func Open(ctx context.Context, input string, opts ...Option) ([]*scan.Target, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	targets, err := open(ctx, input, &o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	return targets, nil
}

func open(ctx context.Context, input string, o *options) ([]*scan.Target, error) {
	switch {
	case strings.HasPrefix(input, transportDockerArchive):
		p, sel := splitSelector(strings.TrimPrefix(input, transportDockerArchive))
		a, err := openArchive(p)
		if err != nil {
			return nil, err
		}
		return dockerArchive(a, input, sel, o)
	case strings.HasPrefix(input, transportOCIArchive):
		p, sel := splitSelector(strings.TrimPrefix(input, transportOCIArchive))
		a, err := openArchive(p)
		if err != nil {
			return nil, err
		}
		return ociArchive(a, input, sel, o)
	case strings.HasPrefix(input, transportOCILayout):
		dir, sel := splitSelector(strings.TrimPrefix(input, transportOCILayout))
		return ociLayout(dir, input, sel, o)
	case strings.HasPrefix(input, transportRegistry):
		return registryImage(ctx, input, strings.TrimPrefix(input, transportRegistry), o)
	case strings.HasPrefix(input, transportDaemon):
		return nil, errors.New("the Docker daemon is not supported yet")
	}
	return detect(ctx, input, o)
}

// looksLikePath reports whether a name that is not on disk was meant as a
// file rather than a registry reference: it is absolute or relative, or it
// ends like an archive.
func looksLikePath(s string) bool {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
		return true
	}
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".gz", ".oci"} {
		if strings.HasSuffix(s, ext) {
			return true
		}
	}
	return false
}

// splitSelector splits "PATH:NAME" at its first colon, as skopeo does.
func splitSelector(s string) (path, sel string) {
	path, sel, _ = strings.Cut(s, ":")
	return path, sel
}

// detect tells the form of input from what is at the path: a directory is
// an OCI layout; a file holding manifest.json is a docker archive, one
// holding only index.json an OCI archive.
func detect(ctx context.Context, input string, o *options) ([]*scan.Target, error) {
	info, err := os.Stat(input)
	if errors.Is(err, fs.ErrNotExist) {
		if looksLikePath(input) {
			return nil, errors.New("no such file or directory")
		}
		return registryImage(ctx, input, input, o)
	}
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return ociLayout(input, input, "", o)
	}
	a, err := openArchive(input)
	if err != nil {
		return nil, err
	}
	switch {
	case a.has("manifest.json"):
		return dockerArchive(a, input, "", o)
	case a.has("index.json"):
		return ociArchive(a, input, "", o)
	case a.broken != nil:
		return nil, fmt.Errorf("%w, before any manifest.json or index.json", a.broken)
	}
	return nil, errors.New("neither a docker save archive (no manifest.json) nor an OCI archive (no index.json)")
}
