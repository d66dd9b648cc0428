package layers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// A git repository copied into an image (COPY . . without a
// .dockerignore) keeps every version of every file it ever committed:
// a secret removed in a later commit lives on in its objects. Loose
// objects are zlib streams, read as such (see zlibMembers); a packfile
// (objects/pack/pack-*.pack, what git gc and clones leave) is read here
// with go-git's pack reader: indexed, its deltas resolved, and each object
// scanned as a file named by its type and id: pack-….pack!blob/3f1a….

// packPath matches a packfile in its repository's objects directory.
var packPath = regexp.MustCompile(`^(.+)/objects/pack/[^/!]+\.pack$`)

// packMagic starts a packfile: "PACK", then version 2 or 3.
func isPack(head []byte) bool {
	return len(head) >= 8 && bytes.HasPrefix(head, []byte("PACK")) &&
		bytes.Equal(head[4:7], []byte{0, 0, 0}) && (head[7] == 2 || head[7] == 3)
}

// packMembers scans every object of a packfile. The pack is held in
// memory, up to the zip limit, to resolve its deltas; what its objects
// inflate to is charged to the archive budget.
func (w *walker) packMembers(t target, r io.Reader) error {
	data, err := io.ReadAll(io.LimitReader(r, maxZipBuffer+1))
	if err != nil {
		return err
	}
	if len(data) > maxZipBuffer {
		return errTooBig
	}
	if err := checkPack(data, w.budget); err != nil {
		return err
	}
	idx, err := indexPack(data)
	if err != nil {
		return err
	}
	fs := memfs.New()
	f, err := fs.Create("pack")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	pack := packfile.NewPackfile(idx, fs, f, 0)
	defer pack.Close()
	entries, err := idx.Entries()
	if err != nil {
		return err
	}
	defer entries.Close()
	for {
		e, err := entries.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := w.packObject(t, pack, int64(e.Offset)); err != nil {
			return err
		}
	}
}

// maxGitObject bounds the size of one object of a pack, which the pack
// reader holds whole in memory; maxPackObjects the objects of a pack, for
// each of which it keeps a record.
const (
	maxGitObject   = 64 << 20
	maxPackObjects = 1 << 18
)

var errBadPack = errors.New("a pack whose header claims more objects than it can hold")

// checkPack reads the headers of a pack's objects before the pack reader
// does, and refuses a pack that would make it inflate more than budget
// bytes in all, hold an object of more than maxGitObject, or keep records
// of more than maxPackObjects: the size
// every object declares bounds what it inflates to, and a delta's target
// size (at the start of its instructions) what applying it makes. A few
// kilobytes of deltas can otherwise claim gigabytes.
func checkPack(data []byte, budget int64) error {
	s := packfile.NewScanner(bytes.NewReader(data))
	_, count, err := s.Header()
	if err != nil {
		return err
	}
	if int64(count) > int64(len(data))/3 { // each object takes three bytes at least
		return errBadPack
	}
	if count > maxPackObjects {
		return errBudget
	}
	var total int64
	charge := func(n int64) error {
		total += n
		if n > maxGitObject || total > budget {
			return errBudget
		}
		return nil
	}
	for range count {
		h, err := s.NextObjectHeader()
		if err != nil {
			return err
		}
		if err := charge(h.Length); err != nil {
			return err
		}
		if !h.Type.IsDelta() {
			continue
		}
		var head prefixWriter
		if _, _, err := s.NextObject(&head); err != nil {
			return err
		}
		if err := charge(deltaTarget(head.b)); err != nil {
			return err
		}
	}
	return nil
}

// prefixWriter keeps the first bytes written to it.
type prefixWriter struct{ b []byte }

func (p *prefixWriter) Write(b []byte) (int, error) {
	if n := 20 - len(p.b); n > 0 {
		p.b = append(p.b, b[:min(n, len(b))]...)
	}
	return len(b), nil
}

// deltaTarget returns the target size a delta's instructions start with,
// after its source size: both little-endian base-128 numbers.
func deltaTarget(delta []byte) int64 {
	_, n := binary.Uvarint(delta)
	if n <= 0 {
		return 0
	}
	target, m := binary.Uvarint(delta[n:])
	if m <= 0 || target > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(target)
}

// indexPack indexes a packfile, as git index-pack does.
func indexPack(data []byte) (idxfile.Index, error) {
	var iw idxfile.Writer
	p, err := packfile.NewParser(packfile.NewScanner(bytes.NewReader(data)), &iw)
	if err != nil {
		return nil, err
	}
	if _, err := p.Parse(); err != nil {
		return nil, fmt.Errorf("parsing the pack: %w", err)
	}
	return iw.Index()
}

// packObject scans the object at offset in pack as a member of t.
func (w *walker) packObject(t target, pack *packfile.Packfile, offset int64) error {
	obj, err := pack.GetByOffset(offset)
	if err != nil {
		return err
	}
	rc, err := obj.Reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	kind, id := obj.Type().String(), obj.Hash().String()
	var content io.Reader = w.budgeted(rc)
	if m := packPath.FindStringSubmatch(t.path); m != nil {
		content = w.gitMeta(m[1], kind, id, content)
	}
	return w.file(t.member(kind+"/"+id), content)
}
