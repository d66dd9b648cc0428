package report_test

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/testenv"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
)

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
	b := testenv.NewBrowser(t)
	res := scanFixture(t, "../fixtures/npm-deleted/image.tar")
	events := b.Open(t, writePage(t, "npm-deleted.html", res))
	rows := testenv.Run(t, b, chromedp.Evaluate[[]map[string]string](`[...document.querySelectorAll("tr.life-row")].map(r => ({layer: r.dataset.layer, path: r.dataset.path, cells: r.innerText}))`))
	shot := testenv.Run(t, b, chromedp.FullScreenshot(100))
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

	events = b.Open(t, writePage(t, "hostile.html", hostile(t)))
	shown := testenv.Run(t, b, chromedp.Evaluate[string](`document.body.innerText`))
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

// TestHTMLSweepAndDiffInARealBrowser: the sweep page's script (allowed by
// its hash, and by nothing else) filters and sorts the images × secrets
// matrix, and every image links to its own view; the diff page renders.
// Neither does anything else.
func TestHTMLSweepAndDiffInARealBrowser(t *testing.T) {
	b := testenv.NewBrowser(t)
	deleted, clean := scanFixture(t, "../fixtures/npm-deleted/image.tar"), scanFixture(t, "../fixtures/clean/image.tar")
	f := fleetOf(t, finding.PublicKey.ID(), report.Shard{Count: 1}, false, map[string]*scan.Result{
		"team/web": deleted, "team/api": deleted, "team/base": clean, "ops/tools": clean, "team/hostile": hostile(t),
	})
	path := filepath.Join(t.TempDir(), "sweep.html")
	if err := os.WriteFile(path, []byte(writeFleet(t, "html", f)), 0o600); err != nil {
		t.Fatal(err)
	}
	if events := b.Open(t, path); len(events) > 0 {
		t.Errorf("the sweep page did %q", events)
	}
	shown := func() string {
		return testenv.Run(t, b, chromedp.Evaluate[string](`document.getElementById("f-count").textContent + " | " + [...document.querySelectorAll("#matrix tbody tr:not([hidden])")].map(r => r.dataset.repo).join(",")`))
	}
	if got := shown(); got != "5 of 5 images shown | ops/tools,team/api,team/base,team/hostile,team/web" {
		t.Errorf("at first: %q", got)
	}
	filter := func(id, value string) string {
		testenv.Run(t, b, chromedp.Evaluate[bool](fmt.Sprintf(`(e => { e.value = %q; e.dispatchEvent(new Event("input")); return true })(document.getElementById(%q))`, value, id)))
		return shown()
	}
	if got := filter("f-sev", "critical"); got != "2 of 5 images shown | team/api,team/web" {
		t.Errorf("critical only: %q", got)
	}
	if got := filter("f-repo", "team/w"); got != "1 of 5 images shown | team/web" {
		t.Errorf("critical in team/w…: %q", got)
	}
	filter("f-repo", "")
	filter("f-sev", "")
	testenv.Run(t, b, chromedp.Evaluate[bool](`document.querySelector('#matrix th[data-key="secrets"]').click(), true`))
	order := testenv.Run(t, b, chromedp.Evaluate[string](`[...document.querySelectorAll("#matrix tbody tr")].map(r => r.dataset.secrets).join(",")`))
	if order != "0,0,1,1,1" {
		t.Errorf("sorted by secrets: %q", order)
	}
	broken := testenv.Run(t, b, chromedp.Evaluate[int](`[...document.querySelectorAll('#matrix a[href^="#"]')].filter(a => !document.getElementById(a.getAttribute("href").slice(1))).length`))
	if broken != 0 {
		t.Errorf("%d links of the matrix lead nowhere", broken)
	}

	diff := filepath.Join(t.TempDir(), "diff.html")
	if err := os.WriteFile(diff, []byte(renderDiff(t, deleted, scanFixture(t, "../fixtures/npm-multistage/image.tar"))), 0o600); err != nil {
		t.Fatal(err)
	}
	if events := b.Open(t, diff); len(events) > 0 {
		t.Errorf("the diff page did %q", events)
	}
	checkRendered(t, testenv.Run(t, b, chromedp.FullScreenshot(100)))
	hostileDiff := filepath.Join(t.TempDir(), "hostile-diff.html")
	if err := os.WriteFile(hostileDiff, []byte(renderDiff(t, hostile(t), deleted)), 0o600); err != nil {
		t.Fatal(err)
	}
	if events := b.Open(t, hostileDiff); len(events) > 0 {
		t.Errorf("the diff of the hostile image did %q", events)
	}
}

// TestHTMLPrints: the image page prints, to PDF as the browser's print
// does, with its backgrounds (the life of a secret is drawn in colours).
func TestHTMLPrints(t *testing.T) {
	b := testenv.NewBrowser(t)
	res := scanFixture(t, "../fixtures/npm-deleted/image.tar")
	b.Open(t, writePage(t, "npm-deleted.html", res))
	pdf := testenv.Run(t, b, chromedp.PrintToPDF(chromedp.PDFPrintBackground()))
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) < 10000 {
		t.Errorf("printing gave %d bytes starting %q, not a PDF of the page", len(pdf), pdf[:min(len(pdf), 8)])
	}
}
