package source

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// member is one entry of an archive's outer tar.
type member struct {
	size     int64
	typeflag byte
	linkname string
	// offset is where the member's content starts in an uncompressed
	// archive file, so it can be read in place; -1 when it must be found by
	// reading the archive from the start (a gzip-compressed archive).
	offset int64
}

// archive is a tar file, possibly gzip-compressed, indexed by member name.
// It is read in place, through ReadAt only, so concurrent readers never
// share a file offset; nothing is unpacked.
type archive struct {
	file    *os.File
	size    int64
	gzipped bool
	members map[string]member
	// broken is why the index pass stopped early, or nil. The members
	// indexed before the break can still be read.
	broken error
}

// openArchive opens and indexes the tar at p. The caller closes it.
func openArchive(p string) (*archive, error) {
	f, err := os.Open(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err // the caller names the input
		}
		return nil, err
	}
	a, err := newArchive(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

// newArchive indexes the tar in f in one pass over its headers. An
// uncompressed archive is indexed by seeking over member contents, and its
// members are later read in place. The archive owns f.
func newArchive(f *os.File) (*archive, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, errors.New("a directory, not an archive")
	}
	a := &archive{file: f, size: info.Size(), members: map[string]member{}}
	var head [2]byte
	n, _ := f.ReadAt(head[:], 0)
	a.gzipped = n == 2 && head == [2]byte{0x1f, 0x8b}
	if !a.gzipped {
		sr := io.NewSectionReader(f, 0, a.size)
		return a, a.index(tar.NewReader(sr), sr)
	}
	rc, err := a.openTar()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return a, a.index(tar.NewReader(rc), nil)
}

// Close releases the archive's file.
func (a *archive) Close() error { return a.file.Close() }

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

// index records every member's header and, when pos is the uncompressed
// archive tr reads, where each member's content starts. A stream that
// breaks after the first member leaves a usable index of what came before,
// and a.broken. A name that appears twice (but for a directory) makes the
// archive ambiguous: a decoy manifest.json, blob or layer first and the
// real one last would show a scan one image and docker load another, and
// nothing in a docker save archive says which copy is meant. It is an
// error.
func (a *archive) index(tr *tar.Reader, pos io.Seeker) error {
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
		name := memberName(hdr.Name)
		if prev, dup := a.members[name]; dup && (prev.typeflag != tar.TypeDir || hdr.Typeflag != tar.TypeDir) {
			return fmt.Errorf("the archive holds %s twice: refused, since the copies may differ and tools disagree on which one counts", name)
		}
		a.members[name] = member{size: hdr.Size, typeflag: hdr.Typeflag, linkname: hdr.Linkname, offset: offset(pos, hdr)}
	}
	if len(a.members) == 0 {
		return errors.New("not a tar archive, or an empty one")
	}
	return nil
}

// offset returns where the content of the member hdr starts in pos, which a
// tar reader has just read hdr from, or -1 when it cannot be read in place.
func offset(pos io.Seeker, hdr *tar.Header) int64 {
	if pos == nil || hdr.Typeflag != tar.TypeReg {
		return -1
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return -1 // stored with holes: only the tar reader can expand it
		}
	}
	off, err := pos.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1
	}
	return off
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
	r, closeFn, err := a.decompress(bufio.NewReaderSize(io.NewSectionReader(a.file, 0, a.size), 64<<10))
	if err != nil {
		return nil, err
	}
	return &memberReader{Reader: r, close: closeFn}, nil
}

// open streams the regular member name (after following links): in place
// in an uncompressed archive, else by reading the archive up to it.
func (a *archive) open(name string) (io.ReadCloser, error) {
	target, m, err := a.resolve(name)
	if err != nil {
		return nil, err
	}
	if m.offset >= 0 {
		return io.NopCloser(io.NewSectionReader(a.file, m.offset, m.size)), nil
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
	return readMetadata(rc, name)
}

type memberReader struct {
	io.Reader
	close func()
}

func (m *memberReader) Close() error {
	m.close()
	return nil
}
