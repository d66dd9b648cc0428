package source

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// maxMetadata bounds the size of a JSON member (manifest.json, index.json, a
// config or a manifest) read into memory.
const maxMetadata = 32 << 20

// member is one entry of an archive's outer tar.
type member struct {
	size     int64
	typeflag byte
	linkname string
}

// archive is a tar file on disk, possibly gzip-compressed, indexed by member
// name. It is reopened for every read; nothing is unpacked.
type archive struct {
	path    string
	gzipped bool
	members map[string]member
	// broken is why the index pass stopped early, or nil. The members
	// indexed before the break can still be read.
	broken error
}

// openArchive indexes the tar at p in one pass over its headers.
func openArchive(p string) (*archive, error) {
	a := &archive{path: p, members: map[string]member{}}
	f, err := os.Open(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err // the caller names the input
		}
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(2)
	a.gzipped = bytes.Equal(head, []byte{0x1f, 0x8b})
	r, closeFn, err := a.decompress(br)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	if err := a.index(tar.NewReader(r)); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *archive) decompress(r io.Reader) (io.Reader, func(), error) {
	if !a.gzipped {
		return r, func() {}, nil
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("reading gzip header: %w", err)
	}
	return zr, func() { zr.Close() }, nil
}

// index records every member's header. A stream that breaks after the
// first member leaves a usable index of what came before, and a.broken.
func (a *archive) index(tr *tar.Reader) error {
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && len(a.members) == 0 {
			return fmt.Errorf("not a readable tar archive: %w", err)
		}
		if err != nil {
			a.broken = fmt.Errorf("the archive breaks after %d members: %w", len(a.members), err)
			break
		}
		a.members[memberName(hdr.Name)] = member{size: hdr.Size, typeflag: hdr.Typeflag, linkname: hdr.Linkname}
	}
	if len(a.members) == 0 {
		return errors.New("not a tar archive, or an empty one")
	}
	return nil
}

func memberName(name string) string {
	return strings.TrimLeft(path.Clean("/"+name), "/")
}

// has reports whether the archive holds a member named name.
func (a *archive) has(name string) bool {
	_, ok := a.members[name]
	return ok
}

// resolve follows symlinks and hardlinks in the index to a regular member.
func (a *archive) resolve(name string) (string, member, error) {
	for hops := 0; hops < 16; hops++ {
		m, ok := a.members[name]
		if !ok {
			return "", member{}, fmt.Errorf("%s: no such member in the archive", name)
		}
		switch m.typeflag {
		case tar.TypeSymlink:
			name = memberName(path.Join(path.Dir(name), m.linkname))
		case tar.TypeLink:
			name = memberName(m.linkname)
		case tar.TypeReg:
			return name, m, nil
		default:
			return "", member{}, fmt.Errorf("%s: not a regular file in the archive", name)
		}
	}
	return "", member{}, fmt.Errorf("%s: too many links", name)
}

// openTar streams the whole archive, decompressed.
func (a *archive) openTar() (io.ReadCloser, error) {
	f, err := os.Open(a.path)
	if err != nil {
		return nil, err
	}
	r, closeFn, err := a.decompress(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		f.Close()
		return nil, err
	}
	return &memberReader{Reader: r, close: func() { closeFn(); f.Close() }}, nil
}

// open streams the regular member name (after following links).
func (a *archive) open(name string) (io.ReadCloser, error) {
	target, _, err := a.resolve(name)
	if err != nil {
		return nil, err
	}
	rc, err := a.openTar()
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err != nil {
			rc.Close()
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("seeking %s in the archive: %w", target, err)
		}
		if memberName(hdr.Name) == target && hdr.Typeflag == tar.TypeReg {
			return &memberReader{Reader: tr, close: func() { rc.Close() }}, nil
		}
	}
}

// read returns the whole content of the small member name.
func (a *archive) read(name string) ([]byte, error) {
	_, m, err := a.resolve(name)
	if err != nil {
		return nil, err
	}
	if m.size > maxMetadata {
		return nil, fmt.Errorf("%s: %d bytes is too large for image metadata", name, m.size)
	}
	rc, err := a.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

type memberReader struct {
	io.Reader
	close func()
}

func (m *memberReader) Close() error {
	m.close()
	return nil
}
