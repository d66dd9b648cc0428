package scan

import "github.com/imagescan/imagescan/finding"

// Result is everything Run learned about one image.
type Result struct {
	Input     string
	Reference string
	// Digest is the manifest digest when the source has a manifest, else "".
	Digest string
	// ConfigDigest is the digest of the config as read: the image ID.
	ConfigDigest string
	Platform     string

	Layers   []Layer
	History  []HistoryEntry
	Findings []finding.Finding
	// Suppressed are the findings a baseline or an ignore file suppresses
	// (see Suppress); each has SuppressedBy set. They are not in Findings.
	Suppressed []finding.Finding
	Coverage   finding.Coverage

	// Warnings are problems that did not stop the scan and do not make it
	// fail, e.g. a history that cannot be mapped to layers.
	Warnings []string
	// Errors are one-line descriptions of what could not be read or did not
	// verify. The scan went on past each; a Result with Errors is incomplete
	// or untrustworthy in the way each error says.
	Errors []string
}

// Layer describes one layer of the image and how it was read.
type Layer struct {
	Index     int
	Digest    string // the blob digest, as the image describes it
	DiffID    string // from config.rootfs.diff_ids; "" when the config lists none for this layer
	MediaType string
	Size      int64 // the blob's size, as the image describes it

	// HistoryIndex is the history entry that created this layer, -1 when the
	// history cannot be mapped. CreatedBy is its created_by and Step its
	// parsed form ("RUN rm -f .npmrc"); both unredacted.
	HistoryIndex int
	CreatedBy    string
	Step         string

	Integrity Integrity
	Coverage  finding.Coverage

	// SharedWith says where this layer's findings came from when its
	// content (read and verified in this run) had been scanned before: an
	// image layer of this run ("INPUT layer N") or "the layer cache".
	SharedWith string
}

// Integrity states of a layer.
const (
	Verified   = "verified"   // the blob and its uncompressed content match the digests the image claims
	Mismatch   = "mismatch"   // a digest did not match; Problems says which
	Unverified = "unverified" // the layer could not be read to its end, or the image claims no digest
)

// Integrity says whether a layer's bytes are the ones the image claims.
type Integrity struct {
	Status   string
	Problems []string
}

// HistoryEntry is one config history entry, parsed.
type HistoryEntry struct {
	Index       int
	CreatedBy   string // unredacted
	Instruction string // RUN, COPY, ENV, …; "" when not recognised
	Step        string // the parsed step without its build args, e.g. "RUN npm ci"
	BuildArgs   []string
	LayerIndex  int // the layer this entry created, -1 for none or when unmapped
}

// Suppress moves the findings for which by returns a reason
// (finding.SuppressBaseline or finding.SuppressIgnore) from Findings to
// Suppressed, and counts them in Coverage.Suppressed by reason.
func (r *Result) Suppress(by func(finding.Finding) string) {
	kept := r.Findings[:0]
	for _, f := range r.Findings {
		reason := by(f)
		if reason == "" {
			kept = append(kept, f)
			continue
		}
		f.SuppressedBy = reason
		r.Suppressed = append(r.Suppressed, f)
		if r.Coverage.Suppressed == nil {
			r.Coverage.Suppressed = map[string]int64{}
		}
		r.Coverage.Suppressed[reason]++
	}
	r.Findings = kept
}
