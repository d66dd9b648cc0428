package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/imagescan/imagescan/baseline"
	"github.com/imagescan/imagescan/scan"
)

// Diff is what imagescan diff writes: two sets of images and what changed
// between their findings.
type Diff struct {
	Tool           Tool
	FingerprintKey string
	Old, New       []*scan.Result
	Changes        baseline.Comparison
}

// WriteDiff writes d as text, JSON or HTML.
func WriteDiff(w io.Writer, format string, d *Diff, o Options) error {
	switch format {
	case "text":
		return writeDiffText(w, d, o)
	case "json":
		return writeDiffJSON(w, d, o)
	case "html":
		return writeDiffHTML(w, d, o)
	}
	return fmt.Errorf("unknown diff format %q (want text, json or html)", format)
}

func writeDiffText(w io.Writer, d *Diff, o Options) error {
	bw := bufio.NewWriter(w)
	for _, side := range []struct {
		name    string
		results []*scan.Result
	}{{"old", d.Old}, {"new", d.New}} {
		for _, res := range side.results {
			fmt.Fprintf(bw, "%s  %s (image id %s)\n", side.name, newRedactor(res, o.ShowSecrets).text(res.Input), orNone(res.ConfigDigest))
		}
	}
	for _, group := range []struct {
		label   string
		entries []baseline.Entry
	}{{"new", d.Changes.New}, {"still present", d.Changes.Present}, {"fixed", d.Changes.Fixed}} {
		for _, e := range group.entries {
			red := newRedactor(e.Image, o.ShowSecrets)
			f := e.Finding
			fmt.Fprintf(bw, "\n%s  %s  %s  %s  fingerprint %s\n", group.label, f.Severity, f.RuleID, red.secret(f.Secret), f.Fingerprint)
			fmt.Fprintf(bw, "  - %s: %s\n", red.text(e.Image.Input), place(f, e.Image, red))
		}
	}
	fmt.Fprintf(bw, "\nsummary: %d fixed, %d still present, %d new (locations)\n", len(d.Changes.Fixed), len(d.Changes.Present), len(d.Changes.New))
	for _, res := range append(append([]*scan.Result{}, d.Old...), d.New...) {
		for _, msg := range newRedactor(res, o.ShowSecrets).texts(res.Errors) {
			fmt.Fprintf(bw, "error: %s\n", msg)
		}
	}
	return bw.Flush()
}

type diffJSON struct {
	SchemaVersion  int             `json:"schema_version"`
	Tool           Tool            `json:"tool"`
	FingerprintKey string          `json:"fingerprint_key"`
	Old            []diffImage     `json:"old"`
	New            []diffImage     `json:"new"`
	Fixed          []diffJSONEntry `json:"fixed"`
	StillPresent   []diffJSONEntry `json:"still_present"`
	NewFindings    []diffJSONEntry `json:"new_findings"`
}

type diffImage struct {
	Input        string   `json:"input"`
	Reference    string   `json:"reference"`
	Digest       string   `json:"digest"`
	ConfigDigest string   `json:"config_digest"`
	Platform     string   `json:"platform"`
	Errors       []string `json:"errors"`
}

type diffJSONEntry struct {
	Image string `json:"image"`
	jsonFinding
}

func writeDiffJSON(w io.Writer, d *Diff, o Options) error {
	out := diffJSON{
		SchemaVersion: 1, Tool: d.Tool, FingerprintKey: d.FingerprintKey,
		Old: diffImages(d.Old, o), New: diffImages(d.New, o),
		Fixed: diffEntries(d.Changes.Fixed, o), StillPresent: diffEntries(d.Changes.Present, o), NewFindings: diffEntries(d.Changes.New, o),
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func diffImages(results []*scan.Result, o Options) []diffImage {
	out := []diffImage{}
	for _, res := range results {
		red := newRedactor(res, o.ShowSecrets)
		out = append(out, diffImage{
			Input: red.text(res.Input), Reference: red.text(res.Reference), Digest: res.Digest,
			ConfigDigest: res.ConfigDigest, Platform: res.Platform, Errors: nonNil(red.texts(res.Errors)),
		})
	}
	return out
}

func diffEntries(es []baseline.Entry, o Options) []diffJSONEntry {
	out := []diffJSONEntry{}
	for _, e := range es {
		red := newRedactor(e.Image, o.ShowSecrets)
		out = append(out, diffJSONEntry{Image: red.text(e.Image.Input), jsonFinding: jsonFindingOf(e.Finding, red)})
	}
	return out
}
