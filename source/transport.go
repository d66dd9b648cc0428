package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultStallTimeout is how long a registry may keep a connection open
// without sending anything (before the response headers, or in the middle
// of a body) before the read is given up.
const DefaultStallTimeout = 30 * time.Second

// Bounds on reaching a registry.
const (
	connectTimeout      = 30 * time.Second
	tlsHandshakeTimeout = 15 * time.Second
)

// ErrStalled is the error of a registry read that got nothing for longer
// than the stall timeout.
var ErrStalled = errors.New("the registry stopped sending")

// registryTransport is the HTTP transport of every registry request:
// bounded connect and TLS handshake times, response headers within the
// stall timeout, bodies cut when they stall that long, and every response
// that is not blob content capped at maxMetadata. Plain HTTP goes only to
// loopback addresses unless insecure.
func registryTransport(stall time.Duration, insecure bool) http.RoundTripper {
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: stall,
	}
	return plainHTTPGuard{base: guardedBodies{base: base, stall: stall}, allow: insecure}
}

// guardedBodies wraps each response body in a stall guard and, unless the
// request is for a blob, a size cap.
type guardedBodies struct {
	base  http.RoundTripper
	stall time.Duration
}

func (g guardedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := g.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancelled := ctx.Err() != nil
		cancel()
		if !cancelled && isTimeout(err) {
			return nil, fmt.Errorf("%w: no answer from %s within %s (see --stall-timeout)", ErrStalled, req.URL.Host, g.stall)
		}
		return nil, err
	}
	body := newStallGuard(resp.Body, cancel, g.stall, req.URL.Host)
	resp.Body = body
	if !isBlobRequest(req) {
		if resp.ContentLength > maxMetadata {
			resp.Body.Close()
			return nil, fmt.Errorf("%s answered %s with %d bytes, too large for image metadata", req.URL.Host, req.URL.Path, resp.ContentLength)
		}
		resp.Body = &cappedBody{ReadCloser: body, left: maxMetadata, what: req.URL.Path}
	}
	return resp, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isBlobRequest reports whether req fetches blob content: its URL, or that
// of a request that redirected to it, is a /blobs/ path. Layers are
// streamed and bounded elsewhere; everything else is metadata.
func isBlobRequest(req *http.Request) bool {
	for r := req; r != nil; {
		if strings.Contains(r.URL.Path, "/blobs/") {
			return true
		}
		if r.Response == nil {
			return false
		}
		r = r.Response.Request
	}
	return false
}

// stallGuard cancels its request when one Read waits longer than stall;
// the Read then fails with ErrStalled. Time the reader spends elsewhere
// (detecting secrets, say) does not count.
type stallGuard struct {
	rc      io.ReadCloser
	cancel  context.CancelFunc
	stall   time.Duration
	host    string
	timer   *time.Timer
	stalled atomic.Bool
}

func newStallGuard(rc io.ReadCloser, cancel context.CancelFunc, stall time.Duration, host string) *stallGuard {
	s := &stallGuard{rc: rc, cancel: cancel, stall: stall, host: host}
	s.timer = time.AfterFunc(stall, func() {
		s.stalled.Store(true)
		s.cancel()
	})
	s.timer.Stop()
	return s
}

func (s *stallGuard) Read(p []byte) (int, error) {
	s.timer.Reset(s.stall)
	n, err := s.rc.Read(p)
	s.timer.Stop()
	if s.stalled.Load() {
		return n, fmt.Errorf("%w: nothing from %s for %s (see --stall-timeout)", ErrStalled, s.host, s.stall)
	}
	return n, err
}

func (s *stallGuard) Close() error {
	s.timer.Stop()
	err := s.rc.Close()
	s.cancel()
	return err
}

// cappedBody fails a body that goes on past left bytes.
type cappedBody struct {
	io.ReadCloser
	left int64
	what string
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.left == 0 {
		var one [1]byte
		if n, err := c.ReadCloser.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, fmt.Errorf("%s: more than %d bytes is too large for image metadata", c.what, maxMetadata)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.ReadCloser.Read(p)
	c.left -= int64(n)
	return n, err
}
