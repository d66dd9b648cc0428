package report

import (
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/imagescan/imagescan/baseline"
	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

//go:embed html/*.tmpl html/style.css html/fleet.js
var htmlFiles embed.FS

// HTML writes one self-contained HTML file: no script, no font, style or
// image from anywhere else, and a Content-Security-Policy that lets
// nothing but its own style run, so that a string from the image that
// escaping somehow missed could still not run or fetch anything.
type HTML struct {
	opts Options
}

var _ Reporter = (*HTML)(nil)

var (
	htmlStyle     = mustRead("html/style.css")
	htmlTemplates = template.Must(template.New("").ParseFS(htmlFiles, "html/*.tmpl"))
)

func mustRead(name string) string {
	data, err := htmlFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// htmlHead is what every page's head and foot need.
type htmlHead struct {
	Title       string
	CSP         string
	Style       template.CSS
	Script      template.JS // "" for a page without one
	ShowSecrets bool
	Tool        Tool
}

// newHead makes a page's head. Its Content-Security-Policy allows its own
// inline style and script, by their hashes, and nothing else.
func newHead(title string, tool Tool, show bool, script string) htmlHead {
	h := htmlHead{Title: title, Style: template.CSS(htmlStyle), Script: template.JS(script), ShowSecrets: show, Tool: tool}
	scripts := "'none'"
	if script != "" {
		scripts = "'" + hashOf(script) + "'"
	}
	h.CSP = fmt.Sprintf("default-src 'none'; style-src '%s'; script-src %s; img-src data:; base-uri 'none'; form-action 'none'", hashOf(htmlStyle), scripts)
	return h
}

func hashOf(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

type htmlPage struct {
	htmlHead
	Images []htmlImage
}

type htmlImage struct {
	ID, Name                                         string
	Verdict, VerdictClass                            string
	Input, Reference, Digest, ConfigDigest, Platform string
	Layers                                           []htmlLayer
	LayerHeads                                       []string
	Secrets                                          []htmlSecret
	Summary                                          string
	Warnings, Errors                                 []string
}

type htmlLayer struct {
	Index                         int
	Size, Step, Integrity, Shared string
	Digest, ShortDigest           string
	Problems                      []string
}

type htmlSecret struct {
	ID, Severity, Rule, Description, Secret, SecretID, Fix string
	Lives                                                  []htmlLife
	Places                                                 []htmlPlace
}

// htmlLife is one layer file that holds a secret, across the layer stack.
type htmlLife struct {
	Layer int
	Path  string
	Cells []htmlCell
}

type htmlCell struct{ Class, Label string }

type htmlPlace struct{ Kind, Text, Fingerprint string }

// Write implements Reporter.
func (h *HTML) Write(w io.Writer, r *Report) error {
	page := htmlPage{htmlHead: newHead("imagescan report", r.Tool, h.opts.ShowSecrets, "")}
	for i, res := range r.Images {
		page.Images = append(page.Images, h.image(i, res))
	}
	if len(r.Images) == 1 {
		page.Title = "imagescan report: " + page.Images[0].Name
	}
	return htmlTemplates.ExecuteTemplate(w, "image", page)
}

func (h *HTML) image(i int, res *scan.Result) htmlImage {
	red := newRedactor(res, h.opts.ShowSecrets)
	groups := worstFirst(bySecret(res.Findings))
	img := htmlImage{
		ID: fmt.Sprintf("image-%d", i+1), Name: red.text(cmp.Or(res.Reference, res.Input)),
		Input: red.text(res.Input), Reference: red.text(res.Reference), Digest: res.Digest, ConfigDigest: orNone(res.ConfigDigest),
		Platform: orNone(res.Platform), Summary: summary(res, groups), Warnings: red.texts(res.Warnings), Errors: red.texts(res.Errors),
	}
	img.Verdict, img.VerdictClass = verdict(res, groups)
	for _, l := range res.Layers {
		img.Layers = append(img.Layers, htmlLayer{
			Index: l.Index, Size: bytesText(l.Size), Step: red.text(orNone(l.Step)), Integrity: l.Integrity.Status,
			Problems: red.texts(l.Integrity.Problems), Shared: red.text(l.SharedWith), Digest: l.Digest, ShortDigest: short12(strings.TrimPrefix(l.Digest, "sha256:")),
		})
		img.LayerHeads = append(img.LayerHeads, fmt.Sprintf("layer %d", l.Index))
	}
	for n, g := range groups {
		img.Secrets = append(img.Secrets, htmlSecretOf(fmt.Sprintf("%s-secret-%d", img.ID, n+1), g, res, red))
	}
	return img
}

// verdict answers "is this image clean?" in one line.
func verdict(res *scan.Result, groups [][]finding.Finding) (text, class string) {
	switch {
	case len(groups) > 0:
		hidden := 0
		for _, f := range res.Findings {
			if f.Location.Status == finding.Deleted || f.Location.Status == finding.Overwritten {
				hidden++
			}
		}
		text = fmt.Sprintf("Not clean: %s%s leak at %s", plural(len(groups), "secret"), bySeverity(groups), plural(len(res.Findings), "place"))
		if hidden > 0 {
			text += fmt.Sprintf(", %d of them in deleted or overwritten files that are still in the image", hidden)
		}
		if len(res.Errors) > 0 {
			text += "; and the scan is incomplete"
		}
		return text + ".", "leaks"
	case len(res.Errors) > 0:
		return fmt.Sprintf("No secret found, but the scan is incomplete: %s (below).", plural(len(res.Errors), "error")), "incomplete"
	}
	return "Clean: no secret found in any layer, the build history or the config.", "clean"
}

func htmlSecretOf(id string, g []finding.Finding, res *scan.Result, red *redactor) htmlSecret {
	f := g[0]
	s := htmlSecret{
		ID: id, Severity: string(worst(g)), Rule: f.RuleID, Description: red.text(f.Description),
		Secret: red.secret(f.Secret), SecretID: f.SecretID, Fix: fixFor(f.RuleID),
	}
	if f.Secret.IsZero() {
		s.Secret = "(the file itself)"
	}
	for _, loc := range g {
		s.Places = append(s.Places, htmlPlace{Kind: string(loc.Location.Kind), Text: place(loc, res, red), Fingerprint: loc.Fingerprint})
		switch {
		case loc.Location.Kind == finding.KindLayer:
			s.Lives = append(s.Lives, lifeOf(loc.Location, len(res.Layers), red))
		case loc.Location.Kind == finding.KindHistory && loc.Location.LayerIndex >= 0:
			s.Lives = append(s.Lives, historyLife(loc.Location, res, red))
		}
	}
	return s
}

// lifeOf draws a layer file across the stack: written by its layer, in
// the filesystem until a later layer deletes or overwrites it, and from
// there on hidden but still in the image.
func lifeOf(l finding.Location, layers int, red *redactor) htmlLife {
	life := htmlLife{Layer: l.LayerIndex, Path: red.text(fileRef(l))}
	removed := l.RemovedByLayer
	if l.Status == finding.Visible {
		removed = -1
	}
	for i := range layers {
		var c htmlCell
		switch {
		case i < l.LayerIndex:
		case i == l.LayerIndex && removed == i:
			c = htmlCell{"removed", "written, then " + string(l.Status) + " in this layer"}
		case i == l.LayerIndex:
			c = htmlCell{"written", "written"}
		case removed < 0 || i < removed:
			c = htmlCell{"present", "present"}
		case i == removed:
			c = htmlCell{"removed", string(l.Status)}
		default:
			c = htmlCell{"hidden", "hidden"}
		}
		life.Cells = append(life.Cells, c)
	}
	return life
}

// historyLife marks the layer whose history entry shows a secret: the
// entry stays in the config, readable with docker history, whatever
// later layers do.
func historyLife(l finding.Location, res *scan.Result, red *redactor) htmlLife {
	h := historyEntry(res, l.HistoryIndex)
	label := fmt.Sprintf("history %d", l.HistoryIndex)
	if l.Variable != "" {
		label += " · " + assignment(h, l.Variable)
	}
	life := htmlLife{Layer: l.LayerIndex, Path: red.text(label)}
	for i := range res.Layers {
		var c htmlCell
		if i == l.LayerIndex {
			c = htmlCell{"history", "in its history entry"}
		}
		life.Cells = append(life.Cells, c)
	}
	return life
}

type htmlDiff struct {
	htmlHead
	Verdict, VerdictClass string
	Old, New, Errors      []string
	Columns               []htmlColumn
}

type htmlColumn struct {
	Class, Title, Note string
	Entries            []htmlEntry
}

type htmlEntry struct{ Severity, Rule, Secret, Image, Place, Fingerprint string }

// writeDiffHTML writes the diff as a page: fixed, still present and new,
// side by side.
func writeDiffHTML(w io.Writer, d *Diff, o Options) error {
	page := htmlDiff{htmlHead: newHead("imagescan diff", d.Tool, o.ShowSecrets, "")}
	for _, side := range []struct {
		names   *[]string
		results []*scan.Result
	}{{&page.Old, d.Old}, {&page.New, d.New}} {
		for _, res := range side.results {
			red := newRedactor(res, o.ShowSecrets)
			*side.names = append(*side.names, fmt.Sprintf("%s (image id %s)", red.text(res.Input), orNone(res.ConfigDigest)))
			page.Errors = append(page.Errors, red.texts(res.Errors)...)
		}
	}
	c := d.Changes
	page.Columns = []htmlColumn{
		{"fixed", "Fixed", "in the old images only", htmlEntries(c.Fixed, o)},
		{"present", "Still present", "in both: the new images' places", htmlEntries(c.Present, o)},
		{"new", "New", "in the new images only", htmlEntries(c.New, o)},
	}
	page.Verdict, page.VerdictClass = diffVerdict(c, len(page.Errors))
	return htmlTemplates.ExecuteTemplate(w, "diff", page)
}

func diffVerdict(c baseline.Comparison, errors int) (text, class string) {
	switch {
	case len(c.Present)+len(c.New) > 0:
		text, class = fmt.Sprintf("Not fixed: %d still present, %d new, %d fixed (places).", len(c.Present), len(c.New), len(c.Fixed)), "leaks"
	case errors > 0:
		text, class = fmt.Sprintf("Nothing still present or new, but a scan is incomplete (%s below).", plural(errors, "error")), "incomplete"
	default:
		text, class = fmt.Sprintf("Fixed: nothing is still present or new; %d places fixed.", len(c.Fixed)), "clean"
	}
	if errors > 0 && class == "leaks" {
		text += " A scan is incomplete."
	}
	return text, class
}

func htmlEntries(es []baseline.Entry, o Options) []htmlEntry {
	var out []htmlEntry
	for _, e := range es {
		red := newRedactor(e.Image, o.ShowSecrets)
		f := e.Finding
		out = append(out, htmlEntry{
			Severity: string(f.Severity), Rule: f.RuleID, Secret: red.secret(f.Secret), Image: red.text(e.Image.Input),
			Place: place(f, e.Image, red), Fingerprint: f.Fingerprint,
		})
	}
	return out
}
