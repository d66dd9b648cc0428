package report

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

//go:embed html/image.tmpl html/style.css
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
	htmlStyle    = mustRead("html/style.css")
	htmlTemplate = template.Must(template.New("image.tmpl").ParseFS(htmlFiles, "html/image.tmpl"))
)

func mustRead(name string) string {
	data, err := htmlFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// csp is the page's Content-Security-Policy: its own inline style, by
// hash, and nothing else.
func csp(style string) string {
	sum := sha256.Sum256([]byte(style))
	return fmt.Sprintf("default-src 'none'; style-src 'sha256-%s'; img-src data:; base-uri 'none'; form-action 'none'",
		base64.StdEncoding.EncodeToString(sum[:]))
}

type htmlPage struct {
	Title       string
	CSP         string
	Style       template.CSS
	ShowSecrets bool
	Tool        Tool
	Images      []htmlImage
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
	page := htmlPage{Title: "imagescan report", CSP: csp(htmlStyle), Style: template.CSS(htmlStyle), ShowSecrets: h.opts.ShowSecrets, Tool: r.Tool}
	for i, res := range r.Images {
		page.Images = append(page.Images, h.image(i, res))
	}
	if len(r.Images) == 1 {
		page.Title = "imagescan report: " + page.Images[0].Name
	}
	return htmlTemplate.Execute(w, page)
}

func (h *HTML) image(i int, res *scan.Result) htmlImage {
	red := newRedactor(res, h.opts.ShowSecrets)
	groups := worstFirst(bySecret(res.Findings))
	img := htmlImage{
		ID: fmt.Sprintf("image-%d", i+1), Name: red.text(cmpOrString(res.Reference, res.Input)),
		Input: red.text(res.Input), Reference: red.text(res.Reference), Digest: res.Digest, ConfigDigest: orNone(res.ConfigDigest),
		Platform: orNone(res.Platform), Summary: summary(res, groups), Warnings: red.texts(res.Warnings), Errors: red.texts(res.Errors),
	}
	img.Verdict, img.VerdictClass = verdict(res, groups)
	for _, l := range res.Layers {
		img.Layers = append(img.Layers, htmlLayer{
			Index: l.Index, Size: bytesText(l.Size), Step: red.text(orNone(l.Step)), Integrity: l.Integrity.Status,
			Problems: red.texts(l.Integrity.Problems), Shared: l.SharedWith, Digest: l.Digest, ShortDigest: short12(strings.TrimPrefix(l.Digest, "sha256:")),
		})
		img.LayerHeads = append(img.LayerHeads, fmt.Sprintf("layer %d", l.Index))
	}
	for n, g := range groups {
		img.Secrets = append(img.Secrets, htmlSecretOf(fmt.Sprintf("%s-secret-%d", img.ID, n+1), g, res, red))
	}
	return img
}

func cmpOrString(a, b string) string {
	if a != "" {
		return a
	}
	return b
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
