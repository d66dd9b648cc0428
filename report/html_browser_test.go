package report_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/testenv"
	"github.com/imagescan/imagescan/scan"
)

// browser opens pages in Debian's chromium, headless, and records what
// each page did that a report must never do: open a dialog, write to the
// console, log an error (a blocked script, say), or ask for anything but
// itself.
type browser struct {
	ctx context.Context

	mu     sync.Mutex
	events []string
	page   string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := testenv.RequireTool(t, "chromium", "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.WindowSize(1280, 1024))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx}
	dialogs := make(chan struct{}, 16)
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.events = append(b.events, "dialog: "+ev.Message)
			dialogs <- struct{}{}
		case *runtime.EventConsoleAPICalled:
			b.events = append(b.events, "console."+string(ev.Type))
		case *runtime.EventExceptionThrown:
			b.events = append(b.events, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			b.events = append(b.events, fmt.Sprintf("log %s: %s", ev.Entry.Level, ev.Entry.Text))
		case *network.EventRequestWillBeSent:
			if ev.Request.URL != b.page {
				b.events = append(b.events, "request: "+ev.Request.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { // a dialog would hold the page: dismiss it (the test fails all the same)
		for range dialogs {
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		}
	}()
	for _, enable := range []func() error{
		func() error { _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); return err },
		func() error { _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); return err },
		func() error { _, err := chromedp.Call(ctx, page.Enable, page.EnableParams{}); return err },
	} {
		if err := enable(); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// open loads the HTML file at path and waits for it, and returns what
// the page did of what it must not.
func (b *browser) open(t *testing.T, path string) []string {
	t.Helper()
	b.mu.Lock()
	b.page, b.events = "file://"+path, nil
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitReady("body"), chromedp.Sleep(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.events...)
}

// run runs one action on the open page and returns its value.
func run[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func writePage(t *testing.T, name string, res *scan.Result) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(render(t, "html", false, res)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHTMLInARealBrowser opens reports in chromium: the npm-deleted
// fixture's shows every finding's layer and path and renders (its
// screenshot is the README's, rewritten with -update); the hostile
// image's runs nothing and asks for nothing.
func TestHTMLInARealBrowser(t *testing.T) {
	b := newBrowser(t)
	res := scanFixture(t, "../fixtures/npm-deleted/image.tar")
	events := b.open(t, writePage(t, "npm-deleted.html", res))
	rows := run(t, b, chromedp.Evaluate[[]map[string]string](`[...document.querySelectorAll("tr.life-row")].map(r => ({layer: r.dataset.layer, path: r.dataset.path, cells: r.innerText}))`))
	shot := run(t, b, chromedp.FullScreenshot(100))
	if len(events) > 0 {
		t.Errorf("the fixture's report did %q", events)
	}
	for _, f := range res.Findings {
		if f.Location.Kind != finding.KindLayer {
			continue
		}
		found := false
		for _, r := range rows {
			found = found || r["layer"] == fmt.Sprint(f.Location.LayerIndex) && strings.HasPrefix(r["path"], f.Location.Path) && strings.Contains(r["cells"], "written")
		}
		if !found {
			t.Errorf("the page does not show %s in layer %d: rows %v", f.Location.Path, f.Location.LayerIndex, rows)
		}
	}
	checkRendered(t, shot)
	if *update {
		if err := os.WriteFile("../docs/images/npm-deleted-report.png", shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	events = b.open(t, writePage(t, "hostile.html", hostile(t)))
	shown := run(t, b, chromedp.Evaluate[string](`document.body.innerText`))
	if len(events) > 0 {
		t.Errorf("the hostile image's report did %q", events)
	}
	if !strings.Contains(shown, `<img src=x onerror=alert(1)>`) {
		t.Error("the hostile image's paths are not shown as text")
	}
}

// checkRendered fails unless the screenshot shows a page: a good share
// of pixels that are not the background, in several colours.
func checkRendered(t *testing.T, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot: %v", err)
	}
	bounds := img.Bounds()
	inked, colors := 0, map[[3]uint32]bool{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 12, g >> 12, bl >> 12}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				inked++
			}
		}
	}
	total := bounds.Dx() * bounds.Dy() / 4
	if bounds.Dy() < 600 || inked*100 < total*3 || len(colors) < 8 {
		t.Errorf("the page looks blank: %dx%d, %d of %d pixels inked, %d colours", bounds.Dx(), bounds.Dy(), inked, total, len(colors))
	}
}
