package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// WriteFleet finishes f (see Fleet.Finish) and writes it as text, json,
// sarif or html.
func WriteFleet(w io.Writer, format string, f *Fleet) error {
	f.Finish()
	switch format {
	case "text":
		return writeFleetText(w, f)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(f)
	case "sarif":
		return writeFleetSARIF(w, f)
	case "html":
		return writeFleetHTML(w, f)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// placesShown is how many places of one secret the text report lists.
const placesShown = 5

func writeFleetText(w io.Writer, f *Fleet) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "imagescan sweep of %s%s\n", f.Registry, prefixText(f.Prefix))
	fmt.Fprintln(b, fleetHeadline(f))
	if !f.Complete || len(f.Errors) > 0 {
		fmt.Fprintf(b, "INCOMPLETE: %s\n", strings.Join(f.Errors, "; "))
	}
	if len(f.Secrets) > 0 {
		fmt.Fprintln(b, "\nSecrets, in the most images first:")
		for _, s := range f.Secrets {
			fleetSecretText(b, f, s)
		}
		fmt.Fprintln(b, "\nRepositories to fix:")
		for _, line := range repositoriesToFix(f) {
			fmt.Fprintln(b, "  "+line)
		}
	}
	if bad := unreadable(f); len(bad) > 0 {
		fmt.Fprintln(b, "\nImages that could not be read:")
		for _, line := range bad {
			fmt.Fprintln(b, "  "+line)
		}
	}
	fmt.Fprintln(b, "\n"+fleetTotalsText(f))
	_, err := io.WriteString(w, b.String())
	return err
}

func prefixText(prefix string) string {
	if prefix == "" {
		return ""
	}
	return "/" + prefix
}

// fleetHeadline answers the first question: do images leak, how many,
// how badly.
func fleetHeadline(f *Fleet) string {
	t := f.Totals
	if t.Secrets == 0 {
		return fmt.Sprintf("CLEAN: no secrets in %s of %s.", plural(t.Images, "image"), plural(t.Repositories, "repository"))
	}
	return fmt.Sprintf("LEAKS: %d of %s in %d of %s hold %s%s.", t.ImagesWithFindings, plural(t.Images, "image"),
		t.RepositoriesLeaking, plural(t.Repositories, "repository"), plural(t.Secrets, "secret"), secretSeverities(f.Secrets))
}

// secretSeverities counts secrets by severity: " (1 critical, 2 medium)".
func secretSeverities(secrets []*FleetSecret) string {
	count := map[string]int{}
	for _, s := range secrets {
		count[s.Severity]++
	}
	var parts []string
	for _, s := range []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low} {
		if count[string(s)] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[string(s)], s))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func fleetSecretText(b *strings.Builder, f *Fleet, s *FleetSecret) {
	fmt.Fprintf(b, "  %s %s (%s) in %s of %s: %s\n", s.RuleID, s.Secret, s.Severity, plural(s.Images, "image"),
		plural(len(s.Repos), "repository"), strings.Join(s.Repos, ", "))
	for i, l := range s.Locations {
		if i == placesShown {
			fmt.Fprintf(b, "      … and %d more places (all are in the JSON report)\n", len(s.Locations)-placesShown)
			break
		}
		fmt.Fprintf(b, "      %s\n", fleetPlace(f, l))
	}
}

// fleetPlace describes one place: "team/web:1.0 (sha256:0123456789ab,
// linux/amd64) · layer 3 · RUN … · app/.npmrc:1 · deleted by layer 4".
func fleetPlace(f *Fleet, l FleetLocation) string {
	parts := []string{imageName(f, l.Digest, l.Platform)}
	switch l.Kind {
	case string(finding.KindLayer):
		parts = append(parts, fmt.Sprintf("layer %d", derefIndex(l.LayerIndex)))
		if l.Step != "" {
			parts = append(parts, l.Step)
		}
		parts = append(parts, fileRef(finding.Location{Path: l.Path, Line: l.Line, Offset: derefOffset(l.Offset), Content: contentOf(l)}))
		switch l.Status {
		case string(finding.Deleted):
			parts = append(parts, fmt.Sprintf("deleted by layer %d, still in the image", derefIndex(l.RemovedByLayer)))
		case string(finding.Overwritten):
			parts = append(parts, fmt.Sprintf("overwritten by layer %d, still in the image", derefIndex(l.RemovedByLayer)))
		default:
			parts = append(parts, "visible")
		}
	default:
		parts = append(parts, l.Field)
	}
	return strings.Join(parts, " · ")
}

func contentOf(l FleetLocation) string {
	if l.Offset != nil {
		return finding.ContentBinary
	}
	return ""
}

// imageName names an image by the repositories that hold it, each with
// its first tag (three at most), its short digest and its platform.
func imageName(f *Fleet, digest, platform string) string {
	var names []string
	for _, im := range f.Images {
		if im.Digest != digest {
			continue
		}
		name := im.Repository
		if len(im.Tags) > 0 {
			name += ":" + im.Tags[0]
		}
		names = append(names, name)
	}
	name := strings.Join(names[:min(len(names), 3)], ", ")
	switch {
	case len(names) == 0:
		name = "(no repository)"
	case len(names) > 3:
		name += fmt.Sprintf(" and %d more", len(names)-3)
	}
	return fmt.Sprintf("%s (%s, %s)", name, short12(strings.TrimPrefix(digest, "sha256:")), orNone(platform))
}

// repositoriesToFix lists the leaking repositories, the worst first.
func repositoriesToFix(f *Fleet) []string {
	type repo struct {
		name           string
		images, leaks  int
		tags           []string
		worst          finding.Severity
		secrets        int
		severityCounts map[string]int
	}
	byName := map[string]*repo{}
	for _, im := range f.Images {
		r := byName[im.Repository]
		if r == nil {
			r = &repo{name: im.Repository, severityCounts: map[string]int{}}
			byName[im.Repository] = r
		}
		r.images++
		if im.Secrets > 0 {
			r.leaks++
			r.tags = append(r.tags, im.Tags...)
		}
	}
	for _, s := range f.Secrets {
		for _, name := range s.Repos {
			r := byName[name]
			r.secrets++
			r.severityCounts[s.Severity]++
			if finding.Severity(s.Severity).AtLeast(r.worst) || r.worst == "" {
				r.worst = finding.Severity(s.Severity)
			}
		}
	}
	var leaking []*repo
	for _, r := range byName {
		if r.leaks > 0 {
			leaking = append(leaking, r)
		}
	}
	slices.SortFunc(leaking, func(a, b *repo) int {
		if d := severityRank[b.worst] - severityRank[a.worst]; d != 0 {
			return d
		}
		if d := b.leaks - a.leaks; d != 0 {
			return d
		}
		return strings.Compare(a.name, b.name)
	})
	var lines []string
	for _, r := range leaking {
		tags := slices.Compact(slices.Sorted(slices.Values(r.tags)))
		lines = append(lines, fmt.Sprintf("%s: %d of %s leak, %s (worst %s); tags %s", r.name, r.leaks, plural(r.images, "image"),
			plural(r.secrets, "secret"), r.worst, orNone(strings.Join(tags, ", "))))
	}
	return lines
}

// Problems are the sweep's errors and the unreadable images, a line
// each, as the reports list them.
func (f *Fleet) Problems() []string {
	return append(slices.Clone(f.Errors), unreadable(f)...)
}

func unreadable(f *Fleet) []string {
	var lines []string
	for _, im := range f.Images {
		if len(im.Errors) == 0 {
			continue
		}
		name := im.Repository
		if len(im.Tags) > 0 {
			name += ":" + strings.Join(im.Tags, ",")
		}
		if im.Digest != "" {
			name += " (" + short12(strings.TrimPrefix(im.Digest, "sha256:")) + ")"
		}
		lines = append(lines, name+": "+strings.Join(im.Errors, "; "))
	}
	return lines
}

func fleetTotalsText(f *Fleet) string {
	t := f.Totals
	s := fmt.Sprintf("totals: %s in %s; %s: %d detected, %d shared within the sweep, %d from the layer cache; %s read in %.1f s",
		plural(t.Images, "image"), plural(t.Repositories, "repository"), plural(t.DistinctLayers, "distinct layer"),
		t.LayersDetected, t.LayersShared, t.LayersCached, bytesText(t.Bytes), f.Seconds)
	if t.ImagesNotScanned > 0 {
		s += fmt.Sprintf("; not scanned: %s of other platforms", plural(t.ImagesNotScanned, "image"))
	}
	return s
}

// writeFleetSARIF writes one SARIF run with a result per place a secret
// is found; each image is an artifact named registry/repository@digest.
func writeFleetSARIF(w io.Writer, f *Fleet) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: f.Tool.Name, Version: f.Tool.Version,
			InformationURI: "https://github.com/imagescan/imagescan", Rules: []sarifRule{},
		}},
		Results:    []sarifResult{},
		Properties: map[string]any{"fingerprint_key": f.FingerprintKey, "gitleaks_version": f.Tool.Gitleaks, "rules": f.Tool.Rules, "totals": f.Totals},
	}
	b := &sarifBuilder{run: &run, rules: map[string]int{}}
	images := map[string]int{}
	for _, s := range f.Secrets {
		fd := finding.Finding{RuleID: s.RuleID, Description: s.Description, Severity: finding.Severity(s.Severity)}
		rule := b.rule(fd, &redactor{show: true}) // the texts are redacted already
		for _, l := range s.Locations {
			run.Results = append(run.Results, fleetResult(b, f, s, l, rule, images))
		}
	}
	var notes []sarifNotification
	for _, msg := range f.Errors {
		notes = append(notes, sarifNotification{Level: "error", Message: sarifText{msg}})
	}
	for _, line := range unreadable(f) {
		notes = append(notes, sarifNotification{Level: "error", Message: sarifText{line}})
	}
	run.Invocations = []sarifInvocation{{ExecutionSuccessful: !f.Failed(), Notifications: notes}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

func fleetResult(b *sarifBuilder, f *Fleet, s *FleetSecret, l FleetLocation, rule int, images map[string]int) sarifResult {
	repo := "(no repository)"
	if i := slices.IndexFunc(f.Images, func(im FleetImage) bool { return im.Digest == l.Digest }); i >= 0 {
		repo = f.Images[i].Repository
	}
	uri := escapePath(f.Registry + "/" + repo + "@" + l.Digest)
	img, ok := images[uri]
	if !ok {
		img = b.artifact(sarifArtifact{Location: sarifArtifactLocation{URI: uri}, Roles: []string{"analysisTarget"},
			Properties: map[string]any{"repository": repo, "digest": l.Digest, "platform": l.Platform}})
		images[uri] = img
	}
	loc := sarifLocation{Physical: sarifPhysical{Artifact: sarifArtifactLocation{URI: uri, Index: &img}}}
	if l.Kind == string(finding.KindLayer) {
		loc.Physical.Artifact = sarifArtifactLocation{URI: uri + "/" + escapePath(l.Path)}
		switch {
		case l.Offset != nil:
			loc.Physical.Region = &sarifRegion{ByteOffset: l.Offset}
		case l.Line > 0:
			loc.Physical.Region = &sarifRegion{StartLine: l.Line}
		}
	} else {
		loc.Logical = []sarifLogicalLoc{{FullyQualifiedName: l.Field, Kind: "member"}}
	}
	return sarifResult{
		RuleID: s.RuleID, RuleIndex: rule, Level: sarifLevel(finding.Severity(s.Severity)),
		Message:             sarifText{fmt.Sprintf("%s %s in %s of %s: %s", s.RuleID, s.Secret, plural(s.Images, "image"), plural(len(s.Repos), "repository"), fleetPlace(f, l))},
		Locations:           []sarifLocation{loc},
		PartialFingerprints: map[string]string{fingerprintKeyName: l.Fingerprint},
		Properties:          map[string]any{"severity": s.Severity, "secret": s.Secret, "secret_id": s.SecretID, "repository": repo, "location": l},
	}
}
