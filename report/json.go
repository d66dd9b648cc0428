package report

import (
	"encoding/json"
	"io"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

// SchemaVersion is the version of the JSON report's shape. It changes only
// when a field is removed or changes meaning.
//
// Version 2: secret ids and fingerprints are keyed (fingerprint_key names
// the key); suppressed_findings.
const SchemaVersion = 2

// JSON writes the JSON report documented in the README.
type JSON struct {
	opts Options
}

var _ Reporter = (*JSON)(nil)

type jsonReport struct {
	SchemaVersion  int         `json:"schema_version"`
	Tool           Tool        `json:"tool"`
	FingerprintKey string      `json:"fingerprint_key"`
	Images         []jsonImage `json:"images"`
}

type jsonImage struct {
	Input        string        `json:"input"`
	Reference    string        `json:"reference"`
	Digest       string        `json:"digest"`
	ConfigDigest string        `json:"config_digest"`
	Platform     string        `json:"platform"`
	Layers       []jsonLayer   `json:"layers"`
	Findings     []jsonFinding `json:"findings"`
	// Suppressed is written only with Options.ShowSuppressed.
	Suppressed []jsonFinding `json:"suppressed_findings,omitempty"`
	Coverage   jsonCoverage  `json:"coverage"`
	Warnings   []string      `json:"warnings"`
	Errors     []string      `json:"errors"`
}

type jsonLayer struct {
	Index        int           `json:"index"`
	Digest       string        `json:"digest"`
	DiffID       string        `json:"diff_id"`
	MediaType    string        `json:"media_type"`
	Size         int64         `json:"size"`
	HistoryIndex *int          `json:"history_index"`
	CreatedBy    string        `json:"created_by"`
	Integrity    jsonIntegrity `json:"integrity"`
	SharedWith   string        `json:"shared_with,omitempty"`
}

type jsonIntegrity struct {
	Status   string   `json:"status"`
	Problems []string `json:"problems"`
}

type jsonFinding struct {
	RuleID      string       `json:"rule_id"`
	Description string       `json:"description"`
	Severity    string       `json:"severity"`
	Secret      string       `json:"secret"`
	SecretID    string       `json:"secret_id"`
	Fingerprint string       `json:"fingerprint"`
	Location    jsonLocation `json:"location"`
	// SuppressedBy is "baseline" or "ignore" in suppressed_findings.
	SuppressedBy string `json:"suppressed_by,omitempty"`
}

type jsonLocation struct {
	Kind           string   `json:"kind"`
	LayerIndex     *int     `json:"layer_index"`
	LayerDigest    string   `json:"layer_digest,omitempty"`
	DiffID         string   `json:"diff_id,omitempty"`
	HistoryIndex   *int     `json:"history_index"`
	CreatedBy      string   `json:"created_by,omitempty"`
	Path           string   `json:"path,omitempty"`
	Line           int      `json:"line,omitempty"`
	Column         int      `json:"column,omitempty"`
	Content        string   `json:"content,omitempty"`
	Offset         *int64   `json:"offset,omitempty"`
	Field          string   `json:"field,omitempty"`
	Variable       string   `json:"variable,omitempty"`
	Status         string   `json:"status"`
	RemovedByLayer *int     `json:"removed_by_layer"`
	VisibleAt      string   `json:"visible_at,omitempty"`
	FileSHA256     string   `json:"file_sha256,omitempty"`
	Unverified     bool     `json:"unverified,omitempty"`
	Git            *jsonGit `json:"git,omitempty"`
}

// jsonGit places a finding in a git object in its repository's history.
type jsonGit struct {
	Repository  string          `json:"repository"`
	Object      string          `json:"object"`
	Commits     []jsonGitCommit `json:"commits"`
	MoreCommits int             `json:"more_commits,omitempty"`
	// CheckedOut is null when HEAD's commit is not known.
	CheckedOut *bool `json:"checked_out"`
}

type jsonGitCommit struct {
	ID   string `json:"id"`
	Path string `json:"path"`
}

func gitOf(g *finding.GitPlace, red *redactor) *jsonGit {
	if g == nil {
		return nil
	}
	out := &jsonGit{Repository: red.text(g.Repository), Object: g.Object, Commits: []jsonGitCommit{}, MoreCommits: g.MoreCommits}
	for _, c := range g.Commits {
		out.Commits = append(out.Commits, jsonGitCommit{ID: c.ID, Path: red.text(c.Path)})
	}
	if g.HeadKnown {
		out.CheckedOut = &g.CheckedOut
	}
	return out
}

type jsonCoverage struct {
	Layers       int64            `json:"layers"`
	SharedLayers int64            `json:"shared_layers"`
	UnreadLayers int64            `json:"unread_layers"`
	CachedLayers int64            `json:"cached_layers"`
	Files        int64            `json:"files"`
	Binaries     int64            `json:"binary_files"`
	Bytes        int64            `json:"bytes"`
	Links        int64            `json:"links"`
	Whiteouts    int64            `json:"whiteouts"`
	Archives     int64            `json:"archives"`
	Skipped      map[string]int64 `json:"skipped"`
	Suppressed   map[string]int64 `json:"suppressed"`
}

// Write implements Reporter.
func (j *JSON) Write(w io.Writer, r *Report) error {
	out := jsonReport{SchemaVersion: SchemaVersion, Tool: r.Tool, FingerprintKey: r.FingerprintKey, Images: []jsonImage{}}
	for _, res := range r.Images {
		out.Images = append(out.Images, j.image(res))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func (j *JSON) image(res *scan.Result) jsonImage {
	red := newRedactor(res, j.opts.ShowSecrets)
	img := jsonImage{
		Input:        red.text(res.Input),
		Reference:    red.text(res.Reference),
		Digest:       res.Digest,
		ConfigDigest: res.ConfigDigest,
		Platform:     res.Platform,
		Layers:       []jsonLayer{},
		Findings:     []jsonFinding{},
		Coverage:     coverage(res.Coverage),
		Warnings:     nonNil(red.texts(res.Warnings)),
		Errors:       nonNil(red.texts(res.Errors)),
	}
	for _, l := range res.Layers {
		in := jsonIntegrity{Status: l.Integrity.Status, Problems: nonNil(red.texts(l.Integrity.Problems))}
		img.Layers = append(img.Layers, jsonLayer{
			Index: l.Index, Digest: l.Digest, DiffID: l.DiffID, MediaType: l.MediaType, Size: l.Size,
			HistoryIndex: index(l.HistoryIndex), CreatedBy: red.text(l.CreatedBy), Integrity: in, SharedWith: l.SharedWith,
		})
	}
	for _, f := range res.Findings {
		img.Findings = append(img.Findings, jsonFindingOf(f, red))
	}
	if j.opts.ShowSuppressed {
		for _, f := range res.Suppressed {
			img.Suppressed = append(img.Suppressed, jsonFindingOf(f, red))
		}
	}
	return img
}

func jsonFindingOf(f finding.Finding, red *redactor) jsonFinding {
	return jsonFinding{
		RuleID: f.RuleID, Description: red.text(f.Description), Severity: string(f.Severity), Secret: red.secret(f.Secret),
		SecretID: f.SecretID, Fingerprint: f.Fingerprint, Location: location(f.Location, red), SuppressedBy: f.SuppressedBy,
	}
}

func location(l finding.Location, red *redactor) jsonLocation {
	return jsonLocation{
		Kind:           string(l.Kind),
		LayerIndex:     index(l.LayerIndex),
		LayerDigest:    l.LayerDigest,
		DiffID:         l.DiffID,
		HistoryIndex:   index(l.HistoryIndex),
		CreatedBy:      red.text(l.CreatedBy),
		Path:           red.text(l.Path),
		Line:           l.Line,
		Column:         l.Column,
		Content:        l.Content,
		Offset:         offset(l),
		Field:          red.text(l.Field),
		Variable:       red.text(l.Variable),
		Status:         string(l.Status),
		RemovedByLayer: index(l.RemovedByLayer),
		VisibleAt:      red.text(l.VisibleAt),
		FileSHA256:     l.FileSHA256,
		Unverified:     l.Unverified,
		Git:            gitOf(l.Git, red),
	}
}

// offset is a binary file's offset, nil for other locations.
func offset(l finding.Location) *int64 {
	if l.Content != finding.ContentBinary {
		return nil
	}
	return &l.Offset
}

func coverage(c finding.Coverage) jsonCoverage {
	return jsonCoverage{
		Layers: c.Layers, SharedLayers: c.SharedLayers, UnreadLayers: c.Unread, CachedLayers: c.CachedLayers,
		Files: c.Files, Binaries: c.Binaries, Bytes: c.Bytes, Links: c.Links, Whiteouts: c.Removed, Archives: c.Archives,
		Skipped: nonNilMap(c.Skipped), Suppressed: nonNilMap(c.Suppressed),
	}
}

// index renders a -1 "none" index as JSON null.
func index(i int) *int {
	if i < 0 {
		return nil
	}
	return &i
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}
