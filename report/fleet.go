package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

// FleetSchemaVersion is the version of the fleet report's JSON shape.
const FleetSchemaVersion = 1

// fleetKind tells a fleet report from an image report.
const fleetKind = "imagescan-fleet"

// Fleet is the report of a sweep: a row per image and every secret with
// the images that hold it. It keeps summaries only, already redacted as
// the report shows them (raw values only when ShowSecrets), so that it
// grows with the findings and the number of images, never with what the
// images hold. Shard reports combine with Merge.
type Fleet struct {
	SchemaVersion  int    `json:"schema_version"`
	Kind           string `json:"kind"`
	Tool           Tool   `json:"tool"`
	FingerprintKey string `json:"fingerprint_key"`
	Registry       string `json:"registry"`
	Prefix         string `json:"prefix"`
	// Shards are the parts of the sweep this report covers: one {0, 1}
	// for a whole sweep, or those of the shard reports merged into it.
	Shards []Shard `json:"shards"`
	// ShowSecrets says that secret values are raw.
	ShowSecrets bool `json:"secrets_shown"`
	// Complete is false when the sweep was interrupted or shards are
	// missing: rows may be missing, never wrong.
	Complete bool    `json:"complete"`
	Seconds  float64 `json:"seconds"`
	// Errors are what stopped a part of the sweep that is not one image:
	// the catalog, an interruption, a missing shard.
	Errors []string `json:"errors"`
	// Warnings are problems that did not make any row wrong, such as a
	// shared layer cache that stopped answering.
	Warnings []string       `json:"warnings"`
	Totals   FleetTotals    `json:"totals"`
	Images   []FleetImage   `json:"images"`
	Secrets  []*FleetSecret `json:"secrets"`

	secretAt map[string]int // secret id → index in Secrets
}

// Shard is one part of a sweep split by repository: Index of Count.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// FleetImage is one image of one repository: a row of the fleet report.
// An image that could not be read is a row with Errors.
type FleetImage struct {
	Repository string   `json:"repository"`
	Tags       []string `json:"tags"`
	// Digest is the image's manifest digest (its config digest when it
	// has no manifest), "" for a repository whose tags could not be read.
	Digest       string `json:"digest"`
	IndexDigest  string `json:"index_digest,omitempty"`
	Platform     string `json:"platform"`
	ConfigDigest string `json:"config_digest"`
	// Layers are the image's diff_ids, oldest first.
	Layers   []string         `json:"layers"`
	Findings map[string]int   `json:"findings"` // by severity
	Secrets  int              `json:"secrets"`
	Coverage FleetCoverage    `json:"coverage"`
	Warnings []string         `json:"warnings"`
	Errors   []string         `json:"errors"`
	Skipped  map[string]int64 `json:"skipped"`
	// NotScanned says why an image that was found was not scanned, as
	// when it has no image of the platform the sweep asks for; "" for the
	// rest.
	NotScanned string `json:"not_scanned,omitempty"`
}

// FleetCoverage says how an image's layers were had: detected in this
// sweep, shared with an image scanned before in it, or from the layer
// cache; and what was read.
type FleetCoverage struct {
	Detected int64 `json:"layers_detected"`
	Shared   int64 `json:"layers_shared"`
	Cached   int64 `json:"layers_cached"`
	Unread   int64 `json:"layers_unread"`
	Files    int64 `json:"files"`
	Bytes    int64 `json:"bytes"`
}

// FleetSecret is one secret value and every place of every image that
// holds it.
type FleetSecret struct {
	SecretID    string          `json:"secret_id"`
	RuleID      string          `json:"rule_id"`
	Description string          `json:"description"`
	Severity    string          `json:"severity"`
	Secret      string          `json:"secret"`
	Images      int             `json:"images"`
	Repos       []string        `json:"repositories"`
	Locations   []FleetLocation `json:"locations"`
}

// FleetLocation is one place a secret is found: in the image of Digest
// (rows name its repositories and tags).
type FleetLocation struct {
	Digest         string `json:"digest"`
	Platform       string `json:"platform"`
	Kind           string `json:"kind"`
	LayerIndex     *int   `json:"layer_index"`
	DiffID         string `json:"diff_id,omitempty"`
	Step           string `json:"step,omitempty"`
	Path           string `json:"path,omitempty"`
	Line           int    `json:"line,omitempty"`
	Offset         *int64 `json:"offset,omitempty"`
	Field          string `json:"field,omitempty"`
	Status         string `json:"status"`
	RemovedByLayer *int   `json:"removed_by_layer"`
	Fingerprint    string `json:"fingerprint"`
}

// FleetTotals sum the rows.
type FleetTotals struct {
	Repositories        int            `json:"repositories"`
	Images              int            `json:"images"`
	ImagesWithFindings  int            `json:"images_with_findings"`
	ImagesWithErrors    int            `json:"images_with_errors"`
	ImagesNotScanned    int            `json:"images_not_scanned"`
	RepositoriesLeaking int            `json:"repositories_with_findings"`
	Secrets             int            `json:"secrets"`
	Findings            map[string]int `json:"findings"`
	DistinctLayers      int            `json:"distinct_layers"`
	LayersDetected      int64          `json:"layers_detected"`
	LayersShared        int64          `json:"layers_shared"`
	LayersCached        int64          `json:"layers_cached"`
	Bytes               int64          `json:"bytes"`
}

// NewFleet returns an empty fleet report.
func NewFleet(tool Tool, key, registry, prefix string, shard Shard, show bool) *Fleet {
	return &Fleet{
		SchemaVersion: FleetSchemaVersion, Kind: fleetKind, Tool: tool, FingerprintKey: key,
		Registry: registry, Prefix: prefix, Shards: []Shard{shard}, ShowSecrets: show, Complete: true,
		secretAt: map[string]int{},
	}
}

// ImageRef names the image a row is for.
type ImageRef struct {
	Repository  string
	Tags        []string
	IndexDigest string // the index the tags name, when they name one
}

// Add adds the row of a scanned image and its findings, redacted unless
// the report shows secrets.
func (f *Fleet) Add(ref ImageRef, res *scan.Result) {
	red := newRedactor(res, f.ShowSecrets)
	row := FleetImage{
		Repository: ref.Repository, Tags: slices.Sorted(slices.Values(ref.Tags)), Digest: imageID(res), IndexDigest: ref.IndexDigest,
		Platform: res.Platform, ConfigDigest: res.ConfigDigest, Findings: map[string]int{},
		Warnings: nonNil(red.texts(res.Warnings)), Errors: nonNil(red.texts(res.Errors)), Skipped: nonNilMap(res.Coverage.Skipped),
		Coverage: FleetCoverage{
			Detected: res.Coverage.Layers, Shared: res.Coverage.SharedLayers, Cached: res.Coverage.CachedLayers,
			Unread: res.Coverage.Unread, Files: res.Coverage.Files, Bytes: res.Coverage.Bytes,
		},
		Layers: []string{},
	}
	for _, l := range res.Layers {
		row.Layers = append(row.Layers, l.DiffID)
	}
	ids := map[string]bool{}
	for _, fd := range res.Findings {
		row.Findings[string(fd.Severity)]++
		ids[fd.SecretID] = true
		f.addLocation(fd, res, red)
	}
	row.Secrets = len(ids)
	f.Images = append(f.Images, row)
}

// imageID is what a row and its secrets' places know an image by: its
// manifest digest, or its config digest when it has no manifest (a
// classic docker archive).
func imageID(res *scan.Result) string {
	return cmp.Or(res.Digest, res.ConfigDigest)
}

// AddError adds the row of an image, or a repository, that could not be
// read.
func (f *Fleet) AddError(ref ImageRef, digest string, err error) {
	f.Images = append(f.Images, FleetImage{
		Repository: ref.Repository, Tags: slices.Sorted(slices.Values(ref.Tags)), Digest: digest, IndexDigest: ref.IndexDigest,
		Findings: map[string]int{}, Layers: []string{}, Warnings: []string{}, Errors: strings.Split(err.Error(), "\n"), Skipped: map[string]int64{},
	})
}

// AddNotScanned adds the row of an image that was found and, for why,
// not scanned.
func (f *Fleet) AddNotScanned(ref ImageRef, digest, why string) {
	f.Images = append(f.Images, FleetImage{
		Repository: ref.Repository, Tags: slices.Sorted(slices.Values(ref.Tags)), Digest: digest, IndexDigest: ref.IndexDigest,
		Findings: map[string]int{}, Layers: []string{}, Warnings: []string{}, Errors: []string{}, Skipped: map[string]int64{}, NotScanned: why,
	})
}

// AddTags adds a repository's row for an image another row of the sweep
// already scanned (the same digest in another repository): a copy of
// that row's summary with its own repository and tags, whose layers count
// as shared.
func (f *Fleet) AddTags(ref ImageRef, digest string) bool {
	of := func(im FleetImage) bool { return im.Digest == digest || im.IndexDigest == digest }
	i := slices.IndexFunc(f.Images, func(im FleetImage) bool { return of(im) && im.Repository != ref.Repository })
	if i < 0 {
		return false
	}
	var rows []FleetImage
	for _, im := range f.Images {
		if of(im) && im.Repository == f.Images[i].Repository {
			row := im
			row.Repository, row.Tags = ref.Repository, slices.Sorted(slices.Values(ref.Tags))
			row.Coverage = FleetCoverage{Shared: int64(len(im.Layers))}
			rows = append(rows, row)
		}
	}
	f.Images = append(f.Images, rows...)
	return true
}

func (f *Fleet) addLocation(fd finding.Finding, res *scan.Result, red *redactor) {
	if f.secretAt == nil {
		f.reindex()
	}
	i, ok := f.secretAt[fd.SecretID]
	if !ok {
		f.Secrets = append(f.Secrets, &FleetSecret{
			SecretID: fd.SecretID, RuleID: fd.RuleID, Description: red.text(fd.Description),
			Severity: string(fd.Severity), Secret: red.secret(fd.Secret),
		})
		i = len(f.Secrets) - 1
		f.secretAt[fd.SecretID] = i
	}
	s := f.Secrets[i]
	if fd.Severity.AtLeast(finding.Severity(s.Severity)) {
		s.Severity = string(fd.Severity)
	}
	l := fd.Location
	loc := FleetLocation{
		Digest: imageID(res), Platform: res.Platform, Kind: string(l.Kind), LayerIndex: index(l.LayerIndex), DiffID: l.DiffID,
		Path: red.text(l.Path), Line: l.Line, Offset: offset(l), Field: red.text(l.Field), Status: string(l.Status),
		RemovedByLayer: index(l.RemovedByLayer), Fingerprint: fd.Fingerprint,
	}
	if l.Kind == finding.KindLayer {
		loc.Step = step(res, l.LayerIndex, red)
	}
	s.Locations = append(s.Locations, loc)
}

func (f *Fleet) reindex() {
	f.secretAt = map[string]int{}
	for i, s := range f.Secrets {
		f.secretAt[s.SecretID] = i
	}
}

// Fail records an error of the sweep that is not one image's.
func (f *Fleet) Fail(err error) {
	f.Errors = append(f.Errors, strings.Split(err.Error(), "\n")...)
}

// Has reports whether the report holds a row of repository repo (of
// any, when repo is "") for digest (an image's or an index's) that was
// read without errors.
func (f *Fleet) Has(repo, digest string) bool {
	return slices.ContainsFunc(f.Images, func(im FleetImage) bool {
		return len(im.Errors) == 0 && (repo == "" || im.Repository == repo) && (im.Digest == digest || im.IndexDigest == digest)
	})
}

// Failed reports whether any row or the sweep itself has errors, or the
// report is incomplete.
func (f *Fleet) Failed() bool {
	return !f.Complete || len(f.Errors) > 0 || slices.ContainsFunc(f.Images, func(im FleetImage) bool { return len(im.Errors) > 0 })
}

// Leaks reports whether a secret at or above min was found.
func (f *Fleet) Leaks(min finding.Severity) bool {
	return slices.ContainsFunc(f.Secrets, func(s *FleetSecret) bool { return finding.Severity(s.Severity).AtLeast(min) })
}

// Merge adds the rows and secrets of other, a report of other shards of
// the same sweep. Rows of the same image and repository are kept once;
// the same secret's locations are joined.
func (f *Fleet) Merge(other *Fleet) error {
	if err := f.sameSweep(other); err != nil {
		return err
	}
	for _, s := range other.Shards {
		if slices.Contains(f.Shards, s) {
			return fmt.Errorf("shard %d/%d is in two of the reports", s.Index+1, s.Count)
		}
	}
	f.Shards = append(f.Shards, other.Shards...)
	f.Complete = f.Complete && other.Complete
	f.Seconds = max(f.Seconds, other.Seconds)
	f.Errors = append(f.Errors, other.Errors...)
	f.Warnings = append(f.Warnings, other.Warnings...)
	f.Images = append(f.Images, other.Images...)
	if f.secretAt == nil {
		f.reindex()
	}
	for _, s := range other.Secrets {
		i, ok := f.secretAt[s.SecretID]
		if !ok {
			c := *s
			f.Secrets = append(f.Secrets, &c)
			f.secretAt[s.SecretID] = len(f.Secrets) - 1
			continue
		}
		mine := f.Secrets[i]
		mine.Locations = append(mine.Locations, s.Locations...)
		if finding.Severity(s.Severity).AtLeast(finding.Severity(mine.Severity)) {
			mine.Severity = s.Severity
		}
	}
	return nil
}

// Resume takes from earlier, a report of the same sweep and shard, the
// rows of the images it read without errors and the places of secrets in
// them; Has then tells a sweep which digests need no scan.
func (f *Fleet) Resume(earlier *Fleet) error {
	if err := f.sameSweep(earlier); err != nil {
		return err
	}
	if !slices.Equal(earlier.Shards, f.Shards) {
		return fmt.Errorf("the report is of shards %v, not %v", earlier.Shards, f.Shards)
	}
	kept := map[string]bool{}
	for _, im := range earlier.Images {
		if len(im.Errors) == 0 {
			f.Images = append(f.Images, im)
			kept[im.Digest] = true
		}
	}
	part := &Fleet{FingerprintKey: f.FingerprintKey, Registry: f.Registry, Prefix: f.Prefix, ShowSecrets: f.ShowSecrets, Complete: true}
	for _, s := range earlier.Secrets {
		c := *s
		c.Locations = slices.DeleteFunc(slices.Clone(s.Locations), func(l FleetLocation) bool { return !kept[l.Digest] })
		if len(c.Locations) > 0 {
			part.Secrets = append(part.Secrets, &c)
		}
	}
	return f.Merge(part)
}

func (f *Fleet) sameSweep(other *Fleet) error {
	if other.FingerprintKey != f.FingerprintKey {
		return errors.New("the reports' secret ids were made with different fingerprint keys; give every shard the same $IMAGESCAN_FINGERPRINT_KEY")
	}
	if other.Registry != f.Registry || other.Prefix != f.Prefix {
		return fmt.Errorf("the reports are of different sweeps (%s%s and %s%s)", f.Registry, prefixText(f.Prefix), other.Registry, prefixText(other.Prefix))
	}
	if other.ShowSecrets != f.ShowSecrets {
		return errors.New("one report shows secret values and the other does not")
	}
	return nil
}

// Finish sorts the rows and locations, drops the repeats that merged
// shards (or a resumed sweep) bring, and computes the totals.
func (f *Fleet) Finish() {
	f.Images = dedupe(f.Images, compareRows)
	f.Errors = nonNil(f.Errors)
	f.Warnings = nonNil(slices.Compact(f.Warnings))
	for _, s := range f.Secrets {
		s.Locations = dedupe(s.Locations, compareLocations)
	}
	f.totals()
	slices.SortFunc(f.Secrets, func(a, b *FleetSecret) int {
		return cmp.Or(b.Images-a.Images, severityRank[finding.Severity(b.Severity)]-severityRank[finding.Severity(a.Severity)],
			strings.Compare(a.RuleID, b.RuleID), strings.Compare(a.SecretID, b.SecretID))
	})
	f.reindex()
}

var severityRank = map[finding.Severity]int{finding.Low: 1, finding.Medium: 2, finding.High: 3, finding.Critical: 4}

// CheckShards notes shards missing from a merged report, which leave it
// incomplete.
func (f *Fleet) CheckShards() {
	slices.SortFunc(f.Shards, func(a, b Shard) int { return cmp.Or(a.Count-b.Count, a.Index-b.Index) })
	f.Shards = slices.Compact(f.Shards)
	if len(f.Shards) == 0 {
		return
	}
	n := f.Shards[0].Count
	if n <= 1 || len(f.Shards) == n && f.Shards[len(f.Shards)-1].Count == n {
		return
	}
	msg := fmt.Sprintf("the report covers %d of the sweep's %d shards", len(f.Shards), n)
	if !slices.Contains(f.Errors, msg) {
		f.Errors = append(f.Errors, msg)
	}
	f.Complete = false
}

func compareRows(a, b FleetImage) int {
	return cmp.Or(strings.Compare(a.Repository, b.Repository), strings.Compare(a.Digest, b.Digest),
		strings.Compare(a.Platform, b.Platform), strings.Compare(strings.Join(a.Tags, ","), strings.Join(b.Tags, ",")),
		strings.Compare(strings.Join(a.Errors, "\n"), strings.Join(b.Errors, "\n")))
}

func compareLocations(a, b FleetLocation) int {
	return cmp.Or(strings.Compare(a.Digest, b.Digest), strings.Compare(a.Kind, b.Kind), cmpIndex(a.LayerIndex, b.LayerIndex),
		strings.Compare(a.Path, b.Path), a.Line-b.Line, strings.Compare(a.Field, b.Field), strings.Compare(a.Fingerprint, b.Fingerprint),
		cmp.Compare(derefOffset(a.Offset), derefOffset(b.Offset)))
}

func cmpIndex(a, b *int) int {
	return cmp.Compare(derefIndex(a), derefIndex(b))
}

func derefIndex(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

func derefOffset(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// dedupe sorts s and drops the elements equal to the one before.
func dedupe[T any](s []T, compare func(a, b T) int) []T {
	slices.SortFunc(s, compare)
	return slices.CompactFunc(s, func(a, b T) bool { return compare(a, b) == 0 })
}

func (f *Fleet) totals() {
	t := FleetTotals{Findings: map[string]int{}, Secrets: len(f.Secrets)}
	repos, leaking, layers := map[string]bool{}, map[string]bool{}, map[string]bool{}
	byDigest := map[string][]string{}
	for _, im := range f.Images {
		repos[im.Repository] = true
		byDigest[im.Digest] = append(byDigest[im.Digest], im.Repository)
		switch {
		case im.NotScanned != "":
			t.ImagesNotScanned++
		case im.Digest != "" || len(im.Errors) == 0:
			t.Images++
		}
		if len(im.Errors) > 0 {
			t.ImagesWithErrors++
		}
		if im.Secrets > 0 {
			t.ImagesWithFindings++
			leaking[im.Repository] = true
		}
		for s, n := range im.Findings {
			t.Findings[s] += n
		}
		for _, d := range im.Layers {
			if d != "" {
				layers[d] = true
			}
		}
		t.LayersDetected += im.Coverage.Detected
		t.LayersShared += im.Coverage.Shared
		t.LayersCached += im.Coverage.Cached
		t.Bytes += im.Coverage.Bytes
	}
	t.Repositories, t.RepositoriesLeaking, t.DistinctLayers = len(repos), len(leaking), len(layers)
	for _, s := range f.Secrets {
		digests, rs := map[string]bool{}, map[string]bool{}
		for _, l := range s.Locations {
			digests[l.Digest] = true
			for _, r := range byDigest[l.Digest] {
				rs[r] = true
			}
		}
		s.Images = len(digests)
		s.Repos = slices.Sorted(maps.Keys(rs))
	}
	f.Totals = t
}

// ReadFleet reads a fleet report that WriteFleet wrote as JSON, strictly:
// an image report, another schema version or unknown fields are errors.
func ReadFleet(r io.Reader) (*Fleet, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f Fleet
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a fleet report: %w", err)
	}
	if f.Kind != fleetKind {
		return nil, fmt.Errorf("not a fleet report (kind %q; imagescan sweep -f json writes one)", f.Kind)
	}
	if f.SchemaVersion != FleetSchemaVersion {
		return nil, fmt.Errorf("a fleet report of schema version %d; this imagescan reads version %d", f.SchemaVersion, FleetSchemaVersion)
	}
	for _, s := range f.Shards {
		if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
			return nil, fmt.Errorf("a fleet report of shard %d of %d", s.Index, s.Count)
		}
	}
	if slices.Contains(f.Secrets, nil) {
		return nil, errors.New("a fleet report with a null secret")
	}
	f.reindex()
	return &f, nil
}
