package source

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/scan"
)

// store reads an image's manifests and blobs by digest: from an OCI layout
// (a directory or an archive) or from a registry.
type store interface {
	// manifest returns an index or manifest whole, checked against d.
	manifest(d v1.Hash) ([]byte, error)
	// blob returns a small blob (a config) whole, checked against d.
	blob(d v1.Hash) ([]byte, error)
	// opener returns how to stream a layer blob; scan.Run verifies it.
	opener(d v1.Hash) func() (io.ReadCloser, error)
}

// verified checks data against the digest d claims for it.
func verified(d v1.Hash, data []byte) ([]byte, error) {
	if d.Algorithm != "sha256" {
		return nil, fmt.Errorf("blob %s: unsupported digest algorithm", d)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(data)); got != d.Hex {
		return nil, fmt.Errorf("blob %s does not match its digest (read sha256:%s)", d, got)
	}
	return data, nil
}

// dirStore is an OCI layout directory.
type dirStore struct{ dir string }

func (s dirStore) path(d v1.Hash) string {
	return filepath.Join(s.dir, "blobs", d.Algorithm, d.Hex)
}

func (s dirStore) manifest(d v1.Hash) ([]byte, error) { return s.blob(d) }

func (s dirStore) blob(d v1.Hash) ([]byte, error) {
	f, err := openRegular(s.path(d))
	if err != nil {
		return nil, blobError(d, err)
	}
	defer f.Close()
	data, err := readMetadata(f, "blob "+d.String())
	if err != nil {
		return nil, err
	}
	return verified(d, data)
}

func (s dirStore) opener(d v1.Hash) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		f, err := openRegular(s.path(d))
		if err != nil {
			return nil, blobError(d, err)
		}
		return f, nil
	}
}

func blobError(d v1.Hash, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s is missing", d)
	}
	return fmt.Errorf("opening blob %s: %w", d, err)
}

// archiveStore is an OCI layout inside a tar archive (an OCI archive, or
// the blobs/ of a Docker ≥ 25 docker save archive).
type archiveStore struct{ a *archive }

func blobMember(d v1.Hash) string { return "blobs/" + d.Algorithm + "/" + d.Hex }

func (s archiveStore) manifest(d v1.Hash) ([]byte, error) { return s.blob(d) }

func (s archiveStore) blob(d v1.Hash) ([]byte, error) {
	if !s.a.has(blobMember(d)) {
		return nil, fmt.Errorf("blob %s is missing", d)
	}
	data, err := s.a.read(blobMember(d))
	if err != nil {
		return nil, err
	}
	return verified(d, data)
}

func (s archiveStore) opener(d v1.Hash) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		if !s.a.has(blobMember(d)) {
			return nil, fmt.Errorf("blob %s is missing", d)
		}
		return s.a.open(blobMember(d))
	}
}

// readIndex reads and parses an index.json.
func readIndex(data []byte) (*v1.IndexManifest, error) {
	idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	return idx, nil
}

// ociLayout reads the images of an OCI layout directory.
func ociLayout(dir, input, sel string, o *options) ([]*scan.Target, error) {
	data, err := readMetadataFile(filepath.Join(dir, "index.json"), "index.json")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("no index.json: not an OCI image layout")
		}
		return nil, err
	}
	idx, err := readIndex(data)
	if err != nil {
		return nil, err
	}
	return walkLayout(dirStore{dir}, idx, data, input, sel, o)
}

// ociArchive reads the images of an OCI archive: an OCI layout in a tar.
func ociArchive(a *archive, input, sel string, o *options) ([]*scan.Target, error) {
	if !a.has("index.json") {
		if a.broken != nil {
			return nil, fmt.Errorf("%w, before any index.json", a.broken)
		}
		return nil, errors.New("no index.json: not an OCI archive")
	}
	data, err := a.read("index.json")
	if err != nil {
		return nil, err
	}
	idx, err := readIndex(data)
	if err != nil {
		return nil, err
	}
	return walkLayout(archiveStore{a}, idx, data, input, sel, o)
}
