package layers

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// snapshotVersion changes whenever Snapshot's meaning changes, so that
// old cache entries are ignored rather than misread.
const snapshotVersion = 1

// Snapshot is a walk's Result in a form that can be stored: what Resolve
// needs of the layer's paths, and its findings as the walk left them.
type Snapshot struct {
	Version   int
	Findings  []snapshotFinding
	FilePaths []string
	Coverage  finding.Coverage
	Writes    map[uint64]entrySnapshot
	Whiteouts []string
	Opaques   []string
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
// redacted form and id only; a finding whose path or description holds its
// secret makes the layer unstorable (ok false), since the text would
// carry the value to disk.
func (r *Result) Snapshot(withSecrets bool) (data []byte, ok bool, err error) {
	s := Snapshot{
		Version: snapshotVersion, FilePaths: r.filePaths, Coverage: r.Coverage,
		Writes: make(map[uint64]entrySnapshot, len(r.writes)),
	}
	for k, e := range r.writes {
		s.Writes[k] = entrySnapshot{e.ord, e.dir}
	}
	for p := range r.whiteouts {
		s.Whiteouts = append(s.Whiteouts, p)
	}
	for p := range r.opaques {
		s.Opaques = append(s.Opaques, p)
	}
	for _, f := range r.Findings {
		sf := snapshotFinding{RuleID: f.RuleID, Description: f.Description, Severity: f.Severity, Location: f.Location,
			Redacted: f.Secret.Redacted(), Secret: f.Secret.ID()}
		raw := f.Secret.Raw()
		if withSecrets {
			sf.Raw = raw
		} else if raw != "" && (strings.Contains(f.Location.Path, raw) || strings.Contains(f.Description, raw)) {
			return nil, false, nil
		}
		s.Findings = append(s.Findings, sf)
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
	if s.Version != snapshotVersion || len(s.FilePaths) != len(s.Findings) {
		return nil, false, fmt.Errorf("a layer snapshot of version %d with %d paths for %d findings", s.Version, len(s.FilePaths), len(s.Findings))
	}
	r = &Result{
		Index: index, Coverage: s.Coverage, filePaths: s.FilePaths,
		writes:    make(map[uint64]entry, len(s.Writes)),
		whiteouts: map[string]struct{}{}, opaques: map[string]struct{}{},
	}
	for k, e := range s.Writes {
		r.writes[k] = entry{e.Ord, e.Dir}
	}
	for _, p := range s.Whiteouts {
		r.whiteouts[p] = struct{}{}
	}
	for _, p := range s.Opaques {
		r.opaques[p] = struct{}{}
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
