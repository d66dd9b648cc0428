package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imagescan/imagescan/scan"
)

// Option configures Open.
type Option func(*options) error

type options struct {
	platform *v1.Platform
	insecure bool
	stdin    io.Reader
	tempDir  string
	stall    time.Duration
	// puller, set by Registry.Open, is shared by the images of a sweep.
	puller *remote.Puller
}

func (o *options) stallTimeout() time.Duration {
	if o.stall > 0 {
		return o.stall
	}
	return DefaultStallTimeout
}

// WithStallTimeout sets how long a registry may send nothing, before its
// response headers or in the middle of a body, before the read fails with
// ErrStalled. The default is DefaultStallTimeout, 30 seconds.
func WithStallTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return errors.New("the stall timeout must not be negative")
		}
		o.stall = d
		return nil
	}
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

// WithStdin gives the reader that IMAGE "-" names: a docker or OCI
// archive streamed in. Without it, "-" is an error.
func WithStdin(r io.Reader) Option {
	return func(o *options) error {
		o.stdin = r
		return nil
	}
}

// WithTempDir sets where standard input is spooled. The default is the
// system's temporary directory.
func WithTempDir(dir string) Option {
	return func(o *options) error {
		o.tempDir = dir
		return nil
	}
}

// Set is the images Open found, and the files it holds open for them.
// Close it when the scan is done.
type Set struct {
	Targets []*scan.Target
	closers []io.Closer
}

// Close releases what the Set holds open.
func (s *Set) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// fromArchive reads a from its targets, closing a when that fails.
func fromArchive(a *archive, read func(*archive) ([]*scan.Target, error)) (*Set, error) {
	targets, err := read(a)
	if err != nil {
		a.Close()
		return nil, err
	}
	return &Set{Targets: targets, closers: []io.Closer{a}}, nil
}

func targetsOnly(targets []*scan.Target, err error) (*Set, error) {
	if err != nil {
		return nil, err
	}
	return &Set{Targets: targets}, nil
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
//	-                                                       a docker or OCI archive on standard input
//	docker-daemon:repo:tag, docker-daemon:IMAGE_ID          an image in the local Docker daemon
//
// A name with no file at its path is a registry reference. The error names
// the input. The caller closes the Set.
func Open(ctx context.Context, input string, opts ...Option) (*Set, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	set, err := open(ctx, input, &o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", input, err)
	}
	return set, nil
}

func open(ctx context.Context, input string, o *options) (*Set, error) {
	switch {
	case input == "-":
		a, err := spoolStdin(ctx, o)
		if err != nil {
			return nil, err
		}
		return fromArchive(a, func(a *archive) ([]*scan.Target, error) { return detectArchive(a, input, o) })
	case strings.HasPrefix(input, transportDockerArchive):
		p, sel := splitSelector(strings.TrimPrefix(input, transportDockerArchive))
		a, err := openArchive(p)
		if err != nil {
			return nil, err
		}
		return fromArchive(a, func(a *archive) ([]*scan.Target, error) { return dockerArchive(a, input, sel, o) })
	case strings.HasPrefix(input, transportOCIArchive):
		p, sel := splitSelector(strings.TrimPrefix(input, transportOCIArchive))
		a, err := openArchive(p)
		if err != nil {
			return nil, err
		}
		return fromArchive(a, func(a *archive) ([]*scan.Target, error) { return ociArchive(a, input, sel, o) })
	case strings.HasPrefix(input, transportOCILayout):
		dir, sel := splitSelector(strings.TrimPrefix(input, transportOCILayout))
		return targetsOnly(ociLayout(dir, input, sel, o))
	case strings.HasPrefix(input, transportRegistry):
		return targetsOnly(registryImage(ctx, input, strings.TrimPrefix(input, transportRegistry), o))
	case strings.HasPrefix(input, transportDaemon):
		return daemonImage(ctx, input, strings.TrimPrefix(input, transportDaemon), o)
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
// an OCI layout, a file an archive (see detectArchive), and a name with
// nothing at its path a registry reference.
func detect(ctx context.Context, input string, o *options) (*Set, error) {
	info, err := os.Stat(input)
	if errors.Is(err, fs.ErrNotExist) {
		if looksLikePath(input) {
			return nil, errors.New("no such file or directory")
		}
		set, err := targetsOnly(registryImage(ctx, input, input, o))
		if err != nil && !strings.Contains(input, "/") {
			// "app" or "app:1" is more often a mistyped file than a Docker Hub image.
			return nil, fmt.Errorf("no such file, and as a registry reference: %w", err)
		}
		return set, err
	}
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return targetsOnly(ociLayout(input, input, "", o))
	}
	a, err := openArchive(input)
	if err != nil {
		return nil, err
	}
	return fromArchive(a, func(a *archive) ([]*scan.Target, error) { return detectArchive(a, input, o) })
}

// detectArchive reads an archive holding manifest.json as docker save
// output, and one holding only index.json as an OCI archive.
func detectArchive(a *archive, input string, o *options) ([]*scan.Target, error) {
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
