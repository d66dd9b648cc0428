package baseline

import (
	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan"
)

// Comparison is what changed between two scans, by fingerprint.
type Comparison struct {
	Fixed   []Entry // in the old images only
	Present []Entry // in both: the new images' findings
	New     []Entry // in the new images only
}

// Entry is a finding and the image it was found in.
type Entry struct {
	Finding finding.Finding
	Image   *scan.Result
}

// Compare compares the findings of the old and the new images by
// fingerprint. Findings that share a fingerprint (one build arg in two
// history entries) move together. The scans must use one key.
func Compare(old, new []*scan.Result) Comparison {
	before, after := fingerprintsOf(old), fingerprintsOf(new)
	var c Comparison
	for _, e := range entries(old) {
		if !after[e.Finding.Fingerprint] {
			c.Fixed = append(c.Fixed, e)
		}
	}
	for _, e := range entries(new) {
		if before[e.Finding.Fingerprint] {
			c.Present = append(c.Present, e)
		} else {
			c.New = append(c.New, e)
		}
	}
	return c
}

func entries(results []*scan.Result) []Entry {
	var out []Entry
	for _, r := range results {
		for _, f := range r.Findings {
			out = append(out, Entry{Finding: f, Image: r})
		}
	}
	return out
}

func fingerprintsOf(results []*scan.Result) map[string]bool {
	out := map[string]bool{}
	for _, e := range entries(results) {
		out[e.Finding.Fingerprint] = true
	}
	return out
}
