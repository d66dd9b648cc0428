package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

var fleetScript = mustRead("html/fleet.js")

type htmlFleet struct {
	htmlHead
	Verdict, VerdictClass, Totals string
	Problems                      []string
	Severities, Rules             []string
	Secrets                       []htmlFleetSecret
	Images                        []htmlFleetImage
}

type htmlFleetSecret struct {
	ID, Short, Severity, Rule, Description, Secret, Fix, Images, Repos string
}

type htmlFleetImage struct {
	ID, Name, Repository, Platform, Digest, IndexDigest string
	Verdict, VerdictClass                               string
	Worst                                               string
	WorstRank, Secrets, LayerCount                      int
	Severities, Rules                                   string
	Holds                                               []bool
	LayerHeads                                          []string
	Lives                                               []htmlFleetLife
	Places, Errors, Warnings                            []string
}

type htmlFleetLife struct {
	htmlLife
	Secret, SecretID string
}

// writeFleetHTML writes the sweep as one page: a matrix of images ×
// secrets that a small script sorts and filters, each secret with its
// fix, and each image's own view, which the matrix links to.
func writeFleetHTML(w io.Writer, f *Fleet) error {
	page := htmlFleet{htmlHead: newHead("imagescan sweep of "+f.Registry+prefixText(f.Prefix), f.Tool, f.ShowSecrets, fleetScript)}
	page.Verdict, page.VerdictClass = fleetHeadline(f), "clean"
	if len(f.Secrets) > 0 {
		page.VerdictClass = "leaks"
	} else if f.Failed() {
		page.VerdictClass = "incomplete"
	}
	page.Problems, page.Totals = f.Errors, fleetTotalsText(f)
	index := map[string]int{}
	rules := map[string]bool{}
	for i, s := range f.Secrets {
		index[s.SecretID] = i
		rules[s.RuleID] = true
		page.Secrets = append(page.Secrets, htmlFleetSecret{
			ID: fmt.Sprintf("secret-%d", i+1), Short: fmt.Sprintf("S%d", i+1), Severity: s.Severity, Rule: s.RuleID,
			Description: s.Description, Secret: s.Secret, Fix: fixFor(s.RuleID),
			Images: plural(s.Images, "image"), Repos: strings.Join(s.Repos, ", "),
		})
	}
	page.Rules = slices.Sorted(maps.Keys(rules))
	for _, s := range []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low} {
		page.Severities = append(page.Severities, string(s))
	}
	byDigest := placesByDigest(f)
	for i, im := range f.Images {
		page.Images = append(page.Images, fleetImageView(i, im, f, index, byDigest[im.Digest]))
	}
	return htmlTemplates.ExecuteTemplate(w, "fleet", page)
}

// imagePlace is one secret's place in an image.
type imagePlace struct {
	secret int
	loc    FleetLocation
}

func placesByDigest(f *Fleet) map[string][]imagePlace {
	out := map[string][]imagePlace{}
	for i, s := range f.Secrets {
		for _, l := range s.Locations {
			out[l.Digest] = append(out[l.Digest], imagePlace{i, l})
		}
	}
	return out
}

func fleetImageView(i int, im FleetImage, f *Fleet, index map[string]int, places []imagePlace) htmlFleetImage {
	v := htmlFleetImage{
		ID: fmt.Sprintf("image-%d", i+1), Name: im.Repository, Repository: im.Repository, Platform: orNone(im.Platform),
		Digest: orNone(im.Digest), IndexDigest: im.IndexDigest, LayerCount: len(im.Layers), Secrets: im.Secrets,
		Errors: im.Errors, Warnings: im.Warnings, Holds: make([]bool, len(f.Secrets)),
	}
	if len(im.Tags) > 0 {
		v.Name += ":" + strings.Join(im.Tags, ",")
	}
	for n := range im.Layers {
		v.LayerHeads = append(v.LayerHeads, fmt.Sprintf("layer %d", n))
	}
	sevs, rules := map[string]bool{}, map[string]bool{}
	for _, p := range places {
		s := f.Secrets[p.secret]
		v.Holds[p.secret] = true
		sevs[s.Severity], rules[s.RuleID] = true, true
		if finding.Severity(s.Severity).AtLeast(finding.Severity(v.Worst)) || v.Worst == "" {
			v.Worst = s.Severity
		}
		short := fmt.Sprintf("S%d", p.secret+1)
		v.Places = append(v.Places, fmt.Sprintf("%s %s %s: %s", short, s.RuleID, s.Secret, fleetPlace(f, p.loc)))
		if p.loc.Kind == string(finding.KindLayer) && p.loc.LayerIndex != nil {
			l := finding.Location{Kind: finding.KindLayer, LayerIndex: *p.loc.LayerIndex, Path: p.loc.Path, Line: p.loc.Line,
				Status: finding.Status(p.loc.Status), RemovedByLayer: derefIndex(p.loc.RemovedByLayer), Offset: derefOffset(p.loc.Offset), Content: contentOf(p.loc)}
			v.Lives = append(v.Lives, htmlFleetLife{htmlLife: lifeOf(l, len(im.Layers), &redactor{show: true}), Secret: short, SecretID: fmt.Sprintf("secret-%d", p.secret+1)})
		}
	}
	v.WorstRank = severityRank[finding.Severity(v.Worst)]
	v.Severities, v.Rules = strings.Join(slices.Sorted(maps.Keys(sevs)), " "), strings.Join(slices.Sorted(maps.Keys(rules)), " ")
	switch {
	case im.NotScanned != "":
		v.Verdict, v.VerdictClass = "Not scanned: "+im.NotScanned, "incomplete"
	case im.Secrets > 0:
		v.Verdict, v.VerdictClass = fmt.Sprintf("Not clean: %s.", plural(im.Secrets, "secret")), "leaks"
	case len(im.Errors) > 0:
		v.Verdict, v.VerdictClass = "Could not be read in full: see the errors.", "incomplete"
	default:
		v.Verdict, v.VerdictClass = "Clean.", "clean"
	}
	return v
}
