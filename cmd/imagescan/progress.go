package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/fleet"
	"github.com/imagescan/imagescan/scan"
)

// progress draws a bar of bytes read per image on stderr, and only when
// stderr is a terminal.
type progress struct {
	w       io.Writer
	enabled bool
}

func newProgress(stderr io.Writer, wanted bool) *progress {
	f, isFile := stderr.(*os.File)
	return &progress{w: stderr, enabled: wanted && isFile && term.IsTerminal(int(f.Fd()))}
}

// run scans t, drawing its progress.
func (p *progress) run(ctx context.Context, t *scan.Target, det finding.Detector, opts []scan.Option) (*scan.Result, error) {
	if !p.enabled {
		return scan.Run(ctx, t, det, opts...)
	}
	var total int64
	for _, b := range t.Layers {
		total += b.Descriptor.Size
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(t.Input),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		// Drawn at once, so that the clock of its rates starts before the
		// first byte is read rather than at the first progress tick.
		progressbar.OptionSetRenderBlankState(true),
	)
	ch := make(chan scan.Progress, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for u := range ch {
			_ = bar.Add64(u.Bytes)
		}
	}()
	res, err := scan.Run(ctx, t, det, append(opts, scan.WithProgress(ch))...)
	close(ch)
	<-done
	_ = bar.Finish()
	return res, err
}

// sweepLine draws a sweep's progress on stderr, when it is a terminal:
// images done out of those found so far, layers shared, findings.
type sweepLine struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func newSweepLine(stderr io.Writer, wanted bool) *sweepLine {
	p := newProgress(stderr, wanted)
	if !p.enabled {
		return &sweepLine{}
	}
	return &sweepLine{bar: progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("listing the registry"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)}
}

func (l *sweepLine) update(p fleet.Progress) {
	if l.bar == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bar.ChangeMax(max(p.Found, 1))
	_ = l.bar.Set(p.Done)
	l.bar.Describe(fmt.Sprintf("images %d/%d · layers shared %d · findings %d", p.Done, p.Found, p.LayersShared, p.Findings))
}

func (l *sweepLine) finish() {
	if l.bar != nil {
		_ = l.bar.Finish()
	}
}
