package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

// spoolStdin copies the archive on standard input to a temporary file,
// which a scan needs to read its members in any order. The file is created
// with mode 0600 and unlinked at once: its bytes live only as long as the
// open file, so nothing is left on disk, even if the process is killed. A
// gzip-compressed stream is spooled decompressed, so that it can be read
// in place.
func spoolStdin(ctx context.Context, o *options) (*archive, error) {
	if o.stdin == nil {
		return nil, errors.New("no standard input to read")
	}
	f, err := os.CreateTemp(o.tempDir, "imagescan-stdin-*")
	if err != nil {
		return nil, fmt.Errorf("spooling standard input: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("spooling standard input: %w", err)
	}
	if err := spool(ctx, f, o.stdin); err != nil {
		f.Close()
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	a, err := newArchive(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

func spool(ctx context.Context, dst io.Writer, src io.Reader) error {
	br := bufio.NewReaderSize(ctxReader{ctx, src}, 64<<10)
	head, _ := br.Peek(2)
	var r io.Reader = br
	if bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("reading gzip header: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	n, err := io.Copy(dst, r)
	if err == nil && n == 0 {
		err = errors.New("it is empty")
	}
	return err
}

// ctxReader stops reading when its context is done, so that Ctrl-C ends
// a spool of a stream that never ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
