package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// spoolStdin copies the archive on standard input to a temporary file (see
// spoolFile), which a scan needs to read its members in any order.
func spoolStdin(ctx context.Context, o *options) (*archive, error) {
	if o.stdin == nil {
		return nil, errors.New("no standard input to read")
	}
	f, err := spoolFile(ctx, o.stdin, o.tempDir)
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	return archiveOf(f)
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
