package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

// Text writes the report for people: a header per image, one block per
// secret listing every place it is exposed, and a summary.
type Text struct {
	opts Options
}

var _ Reporter = (*Text)(nil)

// stepWidth is how much of a Dockerfile step a location line shows.
const stepWidth = 60

// Write implements Reporter.
func (t *Text) Write(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	for i, res := range r.Images {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		t.image(bw, res)
	}
	return bw.Flush()
}

func (t *Text) image(w io.Writer, res *scan.Result) {
	red := newRedactor(res, t.opts.ShowSecrets)
	header(w, res, red)
	groups := worstFirst(bySecret(res.Findings))
	for i, g := range groups {
		fmt.Fprintln(w)
		t.secret(w, fmt.Sprintf("secret %d", i+1), g, res, red)
	}
	if t.opts.ShowSuppressed {
		for _, g := range worstFirst(bySecret(res.Suppressed)) {
			fmt.Fprintln(w)
			t.secret(w, "suppressed by "+g[0].SuppressedBy, g, res, red)
		}
	}
	fmt.Fprintln(w)
	for _, msg := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", red.text(msg))
	}
	for _, msg := range res.Errors {
		fmt.Fprintf(w, "error: %s\n", red.text(msg))
	}
	fmt.Fprintln(w, summary(res, groups))
}

func header(w io.Writer, res *scan.Result, red *redactor) {
	fmt.Fprintf(w, "image     %s\n", red.text(res.Input))
	if res.Reference != "" && res.Reference != res.Input {
		fmt.Fprintf(w, "name      %s\n", red.text(res.Reference))
	}
	if res.Digest != "" {
		fmt.Fprintf(w, "digest    %s\n", res.Digest)
	}
	if res.ConfigDigest == "" && len(res.Layers) == 0 {
		return // an input that could not be opened: its errors say why
	}
	fmt.Fprintf(w, "image id  %s\n", orNone(res.ConfigDigest))
	fmt.Fprintf(w, "platform  %s, %s\n", orNone(res.Platform), plural(len(res.Layers), "layer"))
}

// worstFirst sorts groups worst first; secrets of one severity keep their
// order of appearance.
func worstFirst(groups [][]finding.Finding) [][]finding.Finding {
	slices.SortStableFunc(groups, func(a, b []finding.Finding) int {
		wa, wb := worst(a), worst(b)
		switch {
		case wa == wb:
			return 0
		case wa.AtLeast(wb):
			return -1
		}
		return 1
	})
	return groups
}

// bySecret groups findings by secret id, in order of first appearance.
func bySecret(fs []finding.Finding) [][]finding.Finding {
	var groups [][]finding.Finding
	at := map[string]int{}
	for _, f := range fs {
		i, ok := at[f.SecretID]
		if !ok {
			i = len(groups)
			at[f.SecretID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], f)
	}
	return groups
}

func (t *Text) secret(w io.Writer, title string, g []finding.Finding, res *scan.Result, red *redactor) {
	first := g[0]
	value := red.secret(first.Secret)
	if first.Secret.IsZero() {
		value = "the file itself"
	}
	fmt.Fprintf(w, "%s  %s  %s  %s  (id %s)\n", title, worst(g), first.RuleID, value, first.SecretID)
	fmt.Fprintf(w, "  %s\n", red.text(first.Description))
	for _, f := range g {
		rule := ""
		if f.RuleID != first.RuleID {
			rule = " [" + f.RuleID + "]"
		}
		fmt.Fprintf(w, "  - %s%s · fingerprint %s\n", place(f, res, red), rule, f.Fingerprint)
	}
}

// worst returns the highest severity among a secret's findings.
func worst(g []finding.Finding) finding.Severity {
	w := g[0].Severity
	for _, f := range g[1:] {
		if f.Severity.AtLeast(w) {
			w = f.Severity
		}
	}
	return w
}

// place describes one location so that a person can act on it, e.g.
// "layer 5 · RUN echo … > .npmrc · private-app/.npmrc:1 · deleted by layer 6
// (RUN rm -f .npmrc), still in the image".
func place(f finding.Finding, res *scan.Result, red *redactor) string {
	loc := f.Location
	var parts []string
	switch loc.Kind {
	case finding.KindLayer:
		parts = append(parts, fmt.Sprintf("layer %d", loc.LayerIndex))
		if s := step(res, loc.LayerIndex, red); s != "" {
			parts = append(parts, s)
		}
		parts = append(parts, red.text(fileRef(loc)))
		if g := gitRef(loc.Git, red); g != "" {
			parts = append(parts, g)
		}
		parts = append(parts, status(loc, res, red))
		if loc.Unverified {
			parts = append(parts, "from a layer that failed verification")
		}
	case finding.KindHistory:
		parts = append(parts, fmt.Sprintf("history %d", loc.HistoryIndex))
		h := historyEntry(res, loc.HistoryIndex)
		parts = append(parts, clip(red.text(h.Step)))
		if loc.LayerIndex >= 0 {
			parts = append(parts, fmt.Sprintf("made layer %d", loc.LayerIndex))
		}
		if loc.Variable != "" {
			parts = append(parts, red.text(assignment(h, loc.Variable)))
		}
		parts = append(parts, "shown by docker history")
	default:
		parts = append(parts, red.text(loc.Field))
		if loc.Variable != "" {
			parts = append(parts, red.text(loc.Variable))
		}
		parts = append(parts, "shown by docker inspect")
	}
	return strings.Join(parts, " · ")
}

// historyEntry returns history entry i, or an entry holding only the
// created_by of the location when the result has no parsed history.
func historyEntry(res *scan.Result, i int) scan.HistoryEntry {
	if i >= 0 && i < len(res.History) {
		return res.History[i]
	}
	return scan.HistoryEntry{Index: i}
}

// assignment says how a history step assigned a variable: as a build arg
// of a RUN, or by an ENV, ARG or LABEL instruction.
func assignment(h scan.HistoryEntry, name string) string {
	if slices.Contains(h.BuildArgs, name) {
		return "build arg " + name
	}
	if h.Instruction != "" && h.Instruction != "RUN" {
		return h.Instruction + " " + name
	}
	return "variable " + name
}

// bySeverity counts secrets by their worst severity: " (1 critical, 2 medium)".
func bySeverity(groups [][]finding.Finding) string {
	if len(groups) == 0 {
		return ""
	}
	count := map[finding.Severity]int{}
	for _, g := range groups {
		count[worst(g)]++
	}
	var parts []string
	for _, s := range []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low} {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
		}
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// gitRef says where a blob stands in its repository: "in commit 3f1a2b3c4d5e
// as config.txt (and 2 more), gone from HEAD".
func gitRef(g *finding.GitPlace, red *redactor) string {
	if g == nil {
		return ""
	}
	if len(g.Commits) == 0 {
		return "git object " + short12(g.Object) + ", in no commit read"
	}
	s := fmt.Sprintf("git blob %s in commit %s as %s", short12(g.Object), short12(g.Commits[0].ID), red.text(g.Commits[0].Path))
	if more := len(g.Commits) - 1 + g.MoreCommits; more > 0 {
		s += fmt.Sprintf(" (and %d more)", more)
	}
	switch {
	case !g.HeadKnown:
	case g.CheckedOut:
		s += ", checked out"
	default:
		s += ", in history only"
	}
	return s
}

func short12(id string) string { return id[:min(12, len(id))] }

func fileRef(loc finding.Location) string {
	switch {
	case loc.Content == finding.ContentBinary:
		return fmt.Sprintf("%s@%d (binary)", loc.Path, loc.Offset)
	case loc.Line > 0 && loc.Content != "":
		return fmt.Sprintf("%s:%d (%s)", loc.Path, loc.Line, loc.Content)
	case loc.Line > 0:
		return fmt.Sprintf("%s:%d", loc.Path, loc.Line)
	}
	return loc.Path
}

// step returns the Dockerfile step that made layer i, shortened.
func step(res *scan.Result, i int, red *redactor) string {
	if i < 0 || i >= len(res.Layers) || res.Layers[i].Step == "" {
		return ""
	}
	return clip(red.text(res.Layers[i].Step))
}

func status(loc finding.Location, res *scan.Result, red *redactor) string {
	by := ""
	if s := step(res, loc.RemovedByLayer, red); s != "" {
		by = " (" + s + ")"
	}
	switch {
	case loc.VisibleAt != "":
		return fmt.Sprintf("visible in the final filesystem at %s, a hard link to this file, which layer %d%s removed", red.text(loc.VisibleAt), loc.RemovedByLayer, by)
	case loc.Status == finding.Deleted:
		return fmt.Sprintf("deleted by layer %d%s, still in the image", loc.RemovedByLayer, by)
	case loc.Status == finding.Overwritten:
		return fmt.Sprintf("overwritten by layer %d%s, still in the image", loc.RemovedByLayer, by)
	}
	return "visible in the final filesystem"
}

// clip shortens s to stepWidth characters on one line.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= stepWidth {
		return s
	}
	return string(r[:stepWidth-1]) + "…"
}

func summary(res *scan.Result, groups [][]finding.Finding) string {
	hidden := 0
	for _, f := range res.Findings {
		if f.Location.Status == finding.Deleted || f.Location.Status == finding.Overwritten {
			hidden++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "summary: %s%s at %s", plural(len(groups), "secret"), bySeverity(groups), plural(len(res.Findings), "location"))
	if hidden > 0 {
		fmt.Fprintf(&b, ", %d in deleted or overwritten files (still recoverable from the image)", hidden)
	}
	c := res.Coverage
	binaries := ""
	if c.Binaries > 0 {
		binaries = fmt.Sprintf("; %d binary, read by its strings", c.Binaries)
		if c.Binaries > 1 {
			binaries = fmt.Sprintf("; %d binary, read by their strings", c.Binaries)
		}
	}
	fmt.Fprintf(&b, "; scanned %s (%s%s) in %s", plural(int(c.Files), "file"), bytesText(c.Bytes), binaries, plural(int(c.Layers+c.SharedLayers+c.CachedLayers), "layer"))
	var reused []string
	if c.SharedLayers > 0 {
		reused = append(reused, fmt.Sprintf("%d shared with an image scanned before", c.SharedLayers))
	}
	if c.CachedLayers > 0 {
		reused = append(reused, fmt.Sprintf("%d with their scan from the layer cache", c.CachedLayers))
	}
	if len(reused) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(reused, "; "))
	}
	if c.Unread > 0 {
		fmt.Fprintf(&b, ", %s not read to the end", plural(int(c.Unread), "layer"))
	}
	if c.Archives > 0 {
		fmt.Fprintf(&b, ", %s opened", plural(int(c.Archives), "archive"))
	}
	if s := counts(c.Skipped); s != "" {
		fmt.Fprintf(&b, "; not scanned: %s", s)
	}
	if s := counts(c.Suppressed); s != "" {
		fmt.Fprintf(&b, "; suppressed: %s", s)
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(&b, "; %s, the scan is incomplete", plural(len(res.Errors), "error"))
	}
	return b.String()
}
