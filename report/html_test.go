package report_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/net/html"

	"github.com/imagescan/imagescan/baseline"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
)

// outline is what a person sees of an HTML report, one line per part
// that matters: the verdict, each layer row, each secret with the life of
// each of its files across the layers and its places, coverage, errors.
func outline(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			cls := attr(n, "class")
			switch {
			case n.Data == "h2", slices.Contains(strings.Fields(cls), "verdict"), cls == "coverage", n.Data == "li":
				lines = append(lines, n.Data+"."+cls+": "+text(n))
			case n.Data == "tr" && attr(n, "data-layer") != "" && cls == "":
				lines = append(lines, "layer: "+cells(n))
			case cls == "life-row":
				lines = append(lines, "life: "+cells(n))
			case n.Data == "header":
				lines = append(lines, "secret: "+text(n))
			case cls == "banner":
				lines = append(lines, "banner: "+text(n))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return strings.Join(lines, "\n") + "\n"
}

// cells is the text of a table row's cells.
func cells(row *html.Node) string {
	var out []string
	for c := row.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			out = append(out, text(c))
		}
	}
	return strings.Join(out, " | ")
}

// find returns the elements for which match is true.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && match(n) {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, find(c, match)...)
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestHTMLGoldenOutline(t *testing.T) {
	for _, name := range []string{"npm-deleted", "npm-same-run", "clean", "binaries"} {
		res := scanFixture(t, "../fixtures/"+name+"/image.tar")
		golden(t, name+".html.outline", outline(t, render(t, "html", false, res)))
	}
}

func TestHTMLAnswersIsItCleanFirst(t *testing.T) {
	for archive, want := range map[string]string{
		"../fixtures/clean/image.tar":       "Clean: no secret found",
		"../fixtures/npm-deleted/image.tar": "Not clean: 1 secret (1 critical) leak at 3 places, 1 of them in deleted or overwritten files",
	} {
		lines := strings.Split(outline(t, render(t, "html", false, scanFixture(t, archive))), "\n")
		if len(lines) < 2 || !strings.Contains(lines[1], want) {
			t.Errorf("%s: the first thing after the title is %q, want %q", archive, lines[1], want)
		}
	}
}

func TestHTMLShowsLiveSecretsOnlyWithABanner(t *testing.T) {
	res := scanFixture(t, "../fixtures/npm-deleted/image.tar")
	if out := render(t, "html", false, res); strings.Contains(out, "live-secrets") {
		t.Error("a redacted report has the live secrets banner")
	}
	if out := outline(t, render(t, "html", true, res)); !strings.HasPrefix(out, "banner: This file holds live secrets") {
		t.Errorf("a report with secrets shown does not start with the banner:\n%s", out)
	}
}

// hostile is an image whose paths, label and history hold HTML and
// script, one of them with a token in it, so that every kind of text the
// report takes from an image carries a payload.
func hostile(t *testing.T) *scan.Result {
	t.Helper()
	const payload = `<script>alert("path")</script><img src=x onerror=alert(1)>`
	token := "ghp_" + strings.Repeat("Zx9Qw2", 6)
	img := fixture.Image(t,
		fixture.Layer{Tar: fixture.Tar(t, fixture.File("app/"+payload+"/config.env", "GITHUB_TOKEN="+token+"\n")), CreatedBy: `/bin/sh -c echo '<script>alert("step")</script>' > /x # buildkit`},
		fixture.Layer{Tar: fixture.Tar(t, fixture.Whiteout("app", payload)), CreatedBy: `RUN rm -rf "app/<img src=x onerror=alert(2)>"`},
	)
	img = fixture.WithConfig(t, img, func(c *v1.ConfigFile) {
		c.Config.Labels = map[string]string{`<svg onload=alert(3)>`: `<iframe src="https://attacker.example/">`}
		c.Config.Env = []string{"PATH=/bin", `HINT=</style><script>alert(4)</script>`}
	})
	res, err := scan.Run(context.Background(), fixture.Target(t, `hostile"><script>alert(5)</script>`, img), fixture.Detector(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) == 0 {
		t.Fatal("the hostile image's token was not found")
	}
	return res
}

// TestHTMLEscapesEverythingFromTheImage parses the report of the hostile
// image: no element, attribute or URL of the image's may appear as markup,
// only as text.
func TestHTMLEscapesEverythingFromTheImage(t *testing.T) {
	page := render(t, "html", false, hostile(t))
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if slices.Contains([]string{"script", "img", "svg", "iframe", "object", "embed", "link", "base", "form"}, n.Data) {
				t.Errorf("the report holds a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") || a.Key == "src" || a.Key == "href" && !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s> has the attribute %s=%q", n.Data, a.Key, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	all := text(doc)
	for _, shown := range []string{`<script>alert("path")</script>`, `<img src=x onerror=alert(1)>`, `<script>alert(5)</script>`} {
		if !strings.Contains(all, shown) {
			t.Errorf("the report does not show %q as text", shown)
		}
	}
	checkCSP(t, doc)
}

// checkCSP checks that the page's Content-Security-Policy lets no script
// run and nothing load.
func checkCSP(t *testing.T, doc *html.Node) {
	t.Helper()
	metas := find(doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "http-equiv") == "Content-Security-Policy" })
	if len(metas) != 1 || !strings.HasPrefix(attr(metas[0], "content"), "default-src 'none'; style-src 'sha256-") {
		t.Errorf("Content-Security-Policy %v; want default-src 'none' and the style by its hash", metas)
	}
}

func TestHTMLIsOneFileWithNothingFromElsewhere(t *testing.T) {
	page := render(t, "html", false, scanFixture(t, "../fixtures/npm-deleted/image.tar"))
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	outside := find(doc, func(n *html.Node) bool {
		return slices.Contains([]string{"script", "link", "img", "iframe", "object"}, n.Data) || attr(n, "src") != "" || strings.Contains(attr(n, "href"), ":")
	})
	if len(outside) > 0 {
		t.Errorf("%d elements load or link something: the first is <%s>", len(outside), outside[0].Data)
	}
	for _, style := range find(doc, func(n *html.Node) bool { return n.Data == "style" }) {
		if css := text(style); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
			t.Error("the style loads something")
		}
	}
	checkCSP(t, doc)
	if !slices.Contains(report.Formats, "html") {
		t.Error("html is not among the formats")
	}
}

func renderDiff(t *testing.T, old, new *scan.Result) string {
	t.Helper()
	d := &report.Diff{Tool: tool, FingerprintKey: "k", Old: []*scan.Result{old}, New: []*scan.Result{new}, Changes: baseline.Compare([]*scan.Result{old}, []*scan.Result{new})}
	var b strings.Builder
	if err := report.WriteDiff(&b, "html", d, report.Options{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestHTMLDiffSideBySide: fixed, still present and new, in three columns,
// under a verdict.
func TestHTMLDiffSideBySide(t *testing.T) {
	deleted, rebuilt := scanFixture(t, "../fixtures/npm-deleted/image.tar"), scanFixture(t, "../fixtures/npm-multistage/image.tar")
	for name, c := range map[string]struct {
		old, new *scan.Result
		verdict  string
		counts   [3]int
	}{
		"a fix":   {deleted, rebuilt, "Fixed: nothing is still present or new; 3 places fixed.", [3]int{3, 0, 0}},
		"a leak":  {rebuilt, deleted, "Not fixed: 0 still present, 3 new, 0 fixed (places).", [3]int{0, 0, 3}},
		"no news": {deleted, deleted, "Not fixed: 3 still present, 0 new, 0 fixed (places).", [3]int{0, 3, 0}},
	} {
		page := renderDiff(t, c.old, c.new)
		doc, err := html.Parse(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		verdicts := find(doc, func(n *html.Node) bool { return strings.Contains(attr(n, "class"), "verdict") })
		if len(verdicts) != 1 || text(verdicts[0]) != c.verdict {
			t.Errorf("%s: verdict %q, want %q", name, text(verdicts[0]), c.verdict)
		}
		for i, id := range []string{"fixed", "present", "new"} {
			col := find(doc, func(n *html.Node) bool { return attr(n, "id") == id })
			if len(col) != 1 {
				t.Fatalf("%s: no column %s", name, id)
			}
			if n := len(find(col[0], func(n *html.Node) bool { return attr(n, "class") == "entry" })); n != c.counts[i] {
				t.Errorf("%s: %d entries in %s, want %d", name, n, id, c.counts[i])
			}
		}
		checkCSP(t, doc)
	}
}
