package layers

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"slices"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// snapshotVersion changes whenever Snapshot's meaning changes, so that
// old cache entries are ignored rather than misread.
const snapshotVersion = 2

// Snapshot is a walk's Result in a form that can be stored: what Resolve
// needs of the layer's paths, and its findings as the walk left them.
type Snapshot struct {
	Version   int
	Findings  []snapshotFinding
	FilePaths []string
	Coverage  finding.Coverage
	Holders   [][]string
	HolderOf  []int
	Writes    map[uint64]entrySnapshot
	Whiteouts []uint64
	Opaques   []uint64
	Links     map[uint64][]linkSnapshot
}

type linkSnapshot struct {
	Path string
	Ord  int
}

type entrySnapshot struct {
	Ord int
	Dir bool
}

// snapshotFinding is a finding with its secret as raw text, or, when the
// secret is withheld, as its redacted form and id only.
type snapshotFinding struct {
	RuleID, Description   string
	Severity              finding.Severity
	Raw, Redacted, Secret string // Secret is the id
	Location              finding.Location
}

// Snapshot encodes r. With withSecrets false, every secret is stored by its
// redacted form and id only; a path or description that holds a secret
// the layer found makes the layer unstorable (ok false), since the text
// would carry the value to disk.
func (r *Result) Snapshot(withSecrets bool) (data []byte, ok bool, err error) {
	s := Snapshot{
		Version: snapshotVersion, FilePaths: r.filePaths, Holders: r.holders, HolderOf: r.holderOf, Coverage: r.Coverage,
		Writes: make(map[uint64]entrySnapshot, len(r.writes)),
		Links:  make(map[uint64][]linkSnapshot, len(r.links)),
	}
	for k, e := range r.writes {
		s.Writes[k] = entrySnapshot{e.ord, e.dir}
	}
	for k := range r.whiteouts {
		s.Whiteouts = append(s.Whiteouts, k)
	}
	for k := range r.opaques {
		s.Opaques = append(s.Opaques, k)
	}
	for k, ls := range r.links {
		for _, l := range ls {
			s.Links[k] = append(s.Links[k], linkSnapshot{l.path, l.ord})
		}
	}
	for _, f := range r.Findings {
		sf := snapshotFinding{RuleID: f.RuleID, Description: f.Description, Severity: f.Severity, Location: f.Location,
			Redacted: f.Secret.Redacted(), Secret: f.Secret.ID()}
		if withSecrets {
			sf.Raw = f.Secret.Raw()
		}
		s.Findings = append(s.Findings, sf)
	}
	if !withSecrets && r.textsHoldASecret() {
		return nil, false, nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&s); err != nil {
		return nil, false, fmt.Errorf("encoding a layer snapshot: %w", err)
	}
	return buf.Bytes(), true, nil
}

// FromSnapshot decodes a stored walk Result for layer index. withheld is
// true when some secret came back without its value.
func FromSnapshot(data []byte, index int) (r *Result, withheld bool, err error) {
	var s Snapshot
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return nil, false, fmt.Errorf("decoding a layer snapshot: %w", err)
	}
	if s.Version != snapshotVersion || len(s.FilePaths) != len(s.Findings) || len(s.HolderOf) != len(s.Findings) || !validHolders(s.HolderOf, len(s.Holders)) {
		return nil, false, fmt.Errorf("a layer snapshot of version %d with %d paths for %d findings", s.Version, len(s.FilePaths), len(s.Findings))
	}
	r = &Result{
		Index: index, Coverage: s.Coverage, filePaths: s.FilePaths, holders: s.Holders, holderOf: s.HolderOf,
		writes:    make(map[uint64]entry, len(s.Writes)),
		whiteouts: map[uint64]struct{}{}, opaques: map[uint64]struct{}{},
		links: make(map[uint64][]hardlink, len(s.Links)),
	}
	for k, e := range s.Writes {
		r.writes[k] = entry{e.Ord, e.Dir}
	}
	for _, k := range s.Whiteouts {
		r.whiteouts[k] = struct{}{}
	}
	for _, k := range s.Opaques {
		r.opaques[k] = struct{}{}
	}
	for k, ls := range s.Links {
		for _, l := range ls {
			r.links[k] = append(r.links[k], hardlink{l.Path, l.Ord})
		}
	}
	for _, sf := range s.Findings {
		secret := finding.NewSecret(sf.Raw)
		if sf.Raw == "" && sf.Redacted != "" {
			secret, withheld = finding.Withheld(sf.Redacted, sf.Secret), true
		}
		loc := sf.Location
		loc.LayerIndex = index
		if loc.RemovedByLayer >= 0 {
			loc.RemovedByLayer = index // only a rewrite in the same layer is known before Resolve
		}
		r.Findings = append(r.Findings, finding.Finding{RuleID: sf.RuleID, Description: sf.Description, Severity: sf.Severity, Secret: secret, Location: loc})
	}
	return r, withheld, nil
}

// textsHoldASecret reports whether any text a snapshot stores (paths,
// descriptions, hard link names, the paths of git commits) holds a raw secret of the layer's
// findings, in any form the detector read it in.
func (r *Result) textsHoldASecret() bool {
	var forms []string
	for _, f := range r.Findings {
		forms = append(forms, f.Secret.Forms()...)
	}
	if len(forms) == 0 {
		return false
	}
	holds := func(s string) bool {
		for _, form := range forms {
			if strings.Contains(s, form) {
				return true
			}
		}
		return false
	}
	for _, f := range r.Findings {
		if holds(f.Location.Path) || holds(f.Description) || gitHolds(f.Location.Git, holds) {
			return true
		}
	}
	for _, hs := range r.holders {
		if slices.ContainsFunc(hs, holds) {
			return true
		}
	}
	for _, ls := range r.links {
		for _, l := range ls {
			if holds(l.path) {
				return true
			}
		}
	}
	return false
}

// gitHolds reports whether the texts of a git place (the repository's
// path, the paths in its commits) hold a secret.
func gitHolds(g *finding.GitPlace, holds func(string) bool) bool {
	if g == nil {
		return false
	}
	return holds(g.Repository) || slices.ContainsFunc(g.Commits, func(c finding.GitCommit) bool { return holds(c.Path) })
}

// validHolders reports whether every finding points at one of n holder
// lists.
func validHolders(of []int, n int) bool {
	for _, h := range of {
		if h < 0 || h >= n {
			return false
		}
	}
	return true
}
