package layers

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"

	"github.com/imagescan/imagescan/finding"
)

// archiveKind is what a file's magic bytes say it is.
type archiveKind int

const (
	notArchive archiveKind = iota
	tarArchive
	gzipStream
	zipArchive
	zlibStream
	gitPack
)

// maxZipBuffer bounds the size of a zip file held in memory to be read: a
// zip's directory is at its end, and a layer is a stream.
const maxZipBuffer = 128 << 20

var (
	errBudget = errors.New("past the archive size or ratio limit")
	errTooBig = errors.New("zip too large to read")
)

// sniff tells an archive by its first bytes: gzip, zip, or a ustar or GNU
// tar header.
func sniff(head []byte) archiveKind {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return gzipStream
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return zipArchive
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return tarArchive
	case isZlib(head):
		return zlibStream
	case isPack(head):
		return gitPack
	}
	return notArchive
}

// isZlib tells a zlib stream (RFC 1950: git's loose objects, PDF and PNG
// data, many formats' compressed parts) by its header: deflate with a
// 32 KiB window at the levels whose second byte no text starts with (1,
// 6 and 9: 78 01, 78 9c, 78 da), and a first block that inflates.
func isZlib(head []byte) bool {
	if len(head) < 3 || head[0] != 0x78 || head[1] != 0x01 && head[1] != 0x9c && head[1] != 0xda {
		return false
	}
	zr, err := zlib.NewReader(bytes.NewReader(head))
	if err != nil {
		return false
	}
	var b [1]byte
	_, err = zr.Read(b[:])
	return err == nil || errors.Is(err, io.EOF)
}

// archive scans the files inside an archive found in a layer. A corrupt
// or over-limit archive is counted and the walk goes on; only a break in
// the layer stream itself, underneath, is an error.
func (w *walker) archive(t target, r io.Reader, k archiveKind) error {
	if t.depth >= w.opt.MaxDepth {
		w.res.Coverage.Skip(finding.SkipNestedDepth)
		w.add(t, "", finding.Best(w.det.DetectFile(w.ctx, finding.File{Path: t.path}), w.suppressed()))
		return nil
	}
	w.res.Coverage.Archives++
	under := &tagged{r: r}
	var err error
	switch k {
	case tarArchive:
		err = w.tarMembers(t, under)
	case gzipStream:
		err = w.gzipMembers(t, under)
	case zipArchive:
		err = w.zipMembers(t, under)
	case zlibStream:
		err = w.zlibMembers(t, under)
	case gitPack:
		err = w.packMembers(t, under)
	}
	switch {
	case err == nil:
		return nil
	case under.err != nil:
		return fmt.Errorf("reading %s: %w", t.path, under.err)
	case errors.Is(err, errBudget):
		w.res.Coverage.Skip(finding.SkipNestedLimit)
	case errors.Is(err, errTooBig):
		w.res.Coverage.Skip(finding.SkipNestedTooLarge)
	default:
		w.res.Coverage.Skip(finding.SkipNestedBroken)
	}
	return nil
}

// member is the target for a file inside the archive t.
func (t target) member(name string) target {
	return target{ord: t.ord, layer: t.layer, path: t.path + "!" + cleanPath(name), depth: t.depth + 1}
}

func (w *walker) tarMembers(t target, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if err := w.file(t.member(hdr.Name), w.budgeted(tr)); err != nil {
			return err
		}
	}
}

// gzipMembers reads a gzip stream: a compressed tarball (.tgz, .tar.gz) is
// walked as one archive level, any other compressed file is scanned as the
// file it holds (changelog.gz!changelog).
func (w *walker) gzipMembers(t target, r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	defer zr.Close()
	// Not a pooled peeker: the files inside use the one of their depth.
	inner := bufio.NewReaderSize(w.budgeted(zr), 4096)
	head, _ := inner.Peek(512)
	if sniff(head) == tarArchive {
		return w.tarMembers(t, inner)
	}
	name := strings.TrimSuffix(path.Base(t.path), ".gz")
	if zr.Name != "" {
		name = zr.Name
	}
	return w.file(t.member(name), inner)
}

// gitHeader matches the header of a git object inside its zlib stream:
// its type and size, then a NUL.
var gitHeader = regexp.MustCompile(`^(blob|commit|tree|tag) [0-9]{1,20}\x00`)

// looseObject matches where git keeps a loose object: its repository's
// git directory, and its id in two parts.
var looseObject = regexp.MustCompile(`^(.+)/objects/([0-9a-f]{2})/([0-9a-f]{38})$`)

// zlibMembers reads a zlib stream as the file it holds. A git loose object
// (objects/ab/cdef…) is named by its type, its header dropped, so that a
// blob is scanned as the file it was: objects/ab/cdef…!blob.
func (w *walker) zlibMembers(t target, r io.Reader) error {
	zr, err := zlib.NewReader(r)
	if err != nil {
		return err
	}
	defer zr.Close()
	inner := bufio.NewReaderSize(w.budgeted(zr), 4096)
	head, _ := inner.Peek(32)
	m := gitHeader.FindSubmatch(head)
	if m == nil {
		return w.file(t.member("zlib"), inner)
	}
	kind := string(m[1])
	if _, err := inner.Discard(len(m[0])); err != nil {
		return err
	}
	var content io.Reader = inner
	if loose := looseObject.FindStringSubmatch(t.path); loose != nil {
		content = w.gitMeta(loose[1], kind, loose[2]+loose[3], inner)
	}
	return w.file(t.member(kind), content)
}

func (w *walker) zipMembers(t target, r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxZipBuffer+1))
	if err != nil {
		return err
	}
	if len(data) > maxZipBuffer {
		return errTooBig
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		err = w.file(t.member(f.Name), w.budgeted(rc))
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// budgeted charges what r yields to the layer file's archive budget.
func (w *walker) budgeted(r io.Reader) io.Reader { return &budgetReader{w: w, r: r} }

type budgetReader struct {
	w *walker
	r io.Reader
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.w.budget <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > b.w.budget {
		p = p[:b.w.budget]
	}
	n, err := b.r.Read(p)
	b.w.budget -= int64(n)
	return n, err
}

// tagged remembers the error of the stream an archive is read from, to
// tell a broken layer from a broken archive.
type tagged struct {
	r   io.Reader
	err error
}

func (t *tagged) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	return n, err
}
