package scan

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// layerStream is one layer blob being read: the raw bytes hashed and
// counted as they come, decompressed by their magic bytes (media types can
// lie), and the uncompressed tar hashed as it comes.
type layerStream struct {
	raw     io.ReadCloser
	counted *counter
	buffer  *bufio.Reader
	decomp  io.Reader
	closeFn func()
	tar     io.Reader

	blobHash  hash.Hash
	tarHash   hash.Hash
	mediaType types.MediaType // what the magic bytes say the blob is
}

func openLayer(ctx context.Context, i int, b Blob, o options, total int64) (*layerStream, error) {
	raw, err := b.Open()
	if err != nil {
		return nil, fmt.Errorf("opening blob: %w", err)
	}
	s := &layerStream{raw: raw, blobHash: sha256.New(), tarHash: sha256.New()}
	s.counted = &counter{ctx: ctx, r: io.TeeReader(raw, s.blobHash), layer: i, all: total, ch: o.progress}
	s.buffer = bufio.NewReaderSize(s.counted, 64<<10)
	if err := s.decompress(); err != nil {
		raw.Close()
		return nil, err
	}
	if s.decomp != s.buffer {
		s.decomp = &ratioGuard{r: s.decomp, compressed: s.counted, ratio: o.maxRatio, floor: o.ratioFloor}
	}
	s.tar = io.TeeReader(s.decomp, s.tarHash)
	if s.decomp == s.buffer {
		// An uncompressed blob is its tar: one hash serves both digests.
		s.tar, s.tarHash = s.decomp, s.blobHash
	}
	return s, nil
}

// Bounds on what a layer stream may hold beyond its files.
const (
	ratioFloor  = 1 << 30 // a layer may always decompress to this much
	maxTrailing = 1 << 20 // bytes after the tar's end-of-archive marker
)

// ratioGuard stops a compressed layer that inflates to more than ratio
// times the compressed bytes read so far (past ratioFloor): a compression
// bomb would otherwise cost minutes of CPU for nothing.
type ratioGuard struct {
	r          io.Reader
	compressed *counter
	ratio      int64
	floor      int64
	inflated   int64
}

func (g *ratioGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.inflated += int64(n)
	if g.inflated > g.floor && g.inflated > g.ratio*g.compressed.total {
		return n, fmt.Errorf("the layer inflates to more than %d times its compressed size (%d bytes from %d): a compression bomb? Not read further (see --max-ratio)", g.ratio, g.inflated, g.compressed.total)
	}
	return n, err
}

func (s *layerStream) decompress() error {
	head, err := s.buffer.Peek(4)
	if err != nil && len(head) == 0 && err != io.EOF {
		return fmt.Errorf("reading blob: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(s.buffer)
		if err != nil {
			return fmt.Errorf("reading gzip header: %w", err)
		}
		s.decomp, s.closeFn, s.mediaType = zr, func() { zr.Close() }, types.DockerLayer
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(s.buffer, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return fmt.Errorf("reading zstd header: %w", err)
		}
		s.decomp, s.closeFn, s.mediaType = zr, zr.Close, types.OCILayerZStd
	default:
		s.decomp, s.mediaType = s.buffer, types.DockerUncompressedLayer
	}
	return nil
}

// drain reads what the tar walk left (end-of-archive blocks, padding, the
// compression trailer) so that both digests cover every byte. More than
// maxTrailing bytes after the end of the archive is an error: no tar writer
// leaves that much, and reading it could take forever.
func (s *layerStream) drain() error {
	n, err := io.Copy(io.Discard, io.LimitReader(s.tar, maxTrailing+1))
	if err != nil {
		return fmt.Errorf("reading to the end of the layer: %w", err)
	}
	if n > maxTrailing {
		return fmt.Errorf("more than %d bytes follow the end of the layer's tar archive: not read, so the layer cannot be verified", maxTrailing)
	}
	if _, err := io.Copy(io.Discard, s.buffer); err != nil {
		return fmt.Errorf("reading to the end of the blob: %w", err)
	}
	return nil
}

// readAll reads the whole layer through both hashes without walking it.
func (s *layerStream) readAll() error {
	if _, err := io.Copy(io.Discard, s.tar); err != nil {
		return fmt.Errorf("reading the layer: %w", err)
	}
	if _, err := io.Copy(io.Discard, s.buffer); err != nil {
		return fmt.Errorf("reading to the end of the blob: %w", err)
	}
	return nil
}

func (s *layerStream) close() {
	if s.closeFn != nil {
		s.closeFn()
	}
	s.raw.Close()
	s.counted.flush()
}

// verify compares what was read with the digests the image claims, and
// fills in the digest and media type of a blob whose source claimed none.
func (s *layerStream) verify(l *Layer, b Blob, diffID v1.Hash) {
	in := Integrity{Status: Verified}
	got := digestOf(s.blobHash)
	if b.Descriptor.Digest == (v1.Hash{}) {
		l.Digest = got.String()
	} else if got != b.Descriptor.Digest {
		in.Problems = append(in.Problems, fmt.Sprintf("blob does not match digest %s (read %s)", b.Descriptor.Digest, got))
	}
	if l.MediaType == "" {
		l.MediaType = string(s.mediaType)
	}
	if got := digestOf(s.tarHash); diffID != (v1.Hash{}) && got != diffID {
		in.Problems = append(in.Problems, fmt.Sprintf("content does not match diff_id %s (read %s)", diffID, got))
	}
	switch {
	case len(in.Problems) > 0:
		in.Status = Mismatch
	case diffID == (v1.Hash{}):
		in.Status = Unverified
		in.Problems = []string{noDiffID}
	}
	l.Integrity = in
}

func digestOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
}

// The integrity problems of layers that cannot be verified.
const (
	noDiffID     = "the config lists no diff_id for this layer"
	notReadToEnd = "the layer could not be read to its end"
)

// counter counts bytes read and reports them as Progress, at most once per
// progressStep bytes.
type counter struct {
	ctx     context.Context
	r       io.Reader
	layer   int
	all     int64 // the sum of all layers' sizes, for Progress.Total
	ch      chan<- Progress
	pending int64
	total   int64 // bytes read from this blob
}

const progressStep = 1 << 20

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.pending += int64(n)
	c.total += int64(n)
	if c.pending >= progressStep {
		c.flush()
	}
	return n, err
}

func (c *counter) flush() {
	if c.ch == nil || c.pending == 0 {
		return
	}
	select {
	case c.ch <- Progress{Layer: c.layer, Bytes: c.pending, Total: c.all}:
	case <-c.ctx.Done():
	}
	c.pending = 0
}
