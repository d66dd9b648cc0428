package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/imagescan/imagescan/scan"
)

// registryImage reads the image or index ref names from its registry, with
// the credentials of the default keychain (the docker config at
// $DOCKER_CONFIG or ~/.docker, and its credential helpers). Layers are
// streamed by scan.Run and verified against their digests at the end of
// each stream.
func registryImage(ctx context.Context, input, refStr string, o *options) ([]*scan.Target, error) {
	nameOpts := []name.Option{name.WithDefaultRegistry(name.DefaultRegistry)}
	if o.insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.ParseReference(refStr, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("not a file, and not an image reference: %w", err)
	}
	st := &remoteStore{
		repo:  ref.Context(),
		opts:  append([]remote.Option{remote.WithContext(ctx)}, o.remote()...),
		cache: map[v1.Hash][]byte{},
	}
	desc, err := remote.Get(ref, st.opts...)
	if err != nil {
		return nil, registryError(ref, err)
	}
	st.remember(desc.Digest, desc.Manifest)
	w := &walker{st: st, input: input, pick: picker{want: o.platform}}
	if err := w.descriptor(desc.Descriptor, ref.String(), 0, nil); err != nil {
		return nil, registryError(ref, err)
	}
	return w.finish()
}

// remote returns the options of every registry request: the default
// keychain, the guarded transport, imagescan's user agent; or the
// puller a Registry shares between the images of a sweep, which keeps
// one transport and one authentication per repository.
func (o *options) remote() []remote.Option {
	if o.puller != nil {
		return []remote.Option{remote.Reuse(o.puller)}
	}
	return pullerOptions(o)
}

func pullerOptions(o *options) []remote.Option {
	return []remote.Option{
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithTransport(registryTransport(o.stallTimeout(), o.insecure)),
		remote.WithUserAgent("imagescan"),
	}
}

// remoteStore reads manifests and blobs of one repository.
type remoteStore struct {
	repo name.Repository
	opts []remote.Option

	mu    sync.Mutex
	cache map[v1.Hash][]byte // manifests already fetched
}

func (s *remoteStore) remember(d v1.Hash, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache[d] = data
}

func (s *remoteStore) manifest(d v1.Hash) ([]byte, error) {
	s.mu.Lock()
	data, ok := s.cache[d]
	s.mu.Unlock()
	if ok {
		return verified(d, data)
	}
	desc, err := remote.Get(s.repo.Digest(d.String()), s.opts...)
	if err != nil {
		return nil, err
	}
	return verified(d, desc.Manifest)
}

func (s *remoteStore) blob(d v1.Hash) ([]byte, error) {
	rc, err := s.opener(d)()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := readMetadata(rc, "blob "+d.String())
	if err != nil {
		return nil, err
	}
	return verified(d, data)
}

func (s *remoteStore) opener(d v1.Hash) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		l, err := remote.Layer(s.repo.Digest(d.String()), s.opts...)
		if err != nil {
			return nil, err
		}
		return l.Compressed()
	}
}

// plainHTTPGuard refuses plain-HTTP requests to anything but a loopback
// address unless allow is set. go-containerregistry falls back to plain
// HTTP for private and .local addresses too, which would send credentials
// in the clear.
type plainHTTPGuard struct {
	base  http.RoundTripper
	allow bool
}

func (g plainHTTPGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allow && !isLoopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("refusing plain HTTP to %s, which is not a loopback address (use --insecure to allow it)", req.URL.Host)
	}
	return g.base.RoundTrip(req)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// registryError turns the registry's answer into one line that says what
// to do.
func registryError(ref name.Reference, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("registry %s refused access to %s (%d %s): check the credentials in your docker config (docker login, or $DOCKER_CONFIG)",
				ref.Context().RegistryStr(), ref.Context().RepositoryStr(), te.StatusCode, http.StatusText(te.StatusCode))
		case http.StatusNotFound:
			return fmt.Errorf("%s not found in registry %s", refWithoutRegistry(ref), ref.Context().RegistryStr())
		}
		return fmt.Errorf("registry %s: %s", ref.Context().RegistryStr(), oneLine(te.Error()))
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("cannot reach registry %s: connection refused", ref.Context().RegistryStr())
	}
	return fmt.Errorf("registry %s: %s", ref.Context().RegistryStr(), oneLine(err.Error()))
}

func refWithoutRegistry(ref name.Reference) string {
	return strings.TrimPrefix(ref.String(), ref.Context().RegistryStr()+"/")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
