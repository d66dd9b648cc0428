package layers

import "github.com/imagescan/imagescan/finding"

// Resolve sets the final status of every finding in results, which holds one
// Result per layer in image order (oldest first). A finding still visible in
// its own layer becomes overwritten when a later layer writes the same path,
// or deleted when a later layer hides it with a whiteout, an opaque
// directory or a non-directory entry at one of its parent directories. The
// first such layer is recorded in RemovedByLayer.
//
// A nil Result stands for a layer that could not be read; it hides nothing,
// so the status of the findings below it is what the readable layers say.
func Resolve(results []*Result) {
	for l, res := range results {
		if res == nil {
			continue
		}
		for i := range res.Findings {
			loc := &res.Findings[i].Location
			if loc.Status != finding.Visible {
				continue
			}
			for _, later := range results[l+1:] {
				if later == nil {
					continue
				}
				if st, ok := later.hides(res.filePaths[i]); ok {
					loc.Status, loc.RemovedByLayer = st, later.Index
					break
				}
			}
		}
	}
}

// hides reports whether this layer hides the path p of a lower layer, and how.
func (r *Result) hides(p string) (finding.Status, bool) {
	if _, ok := r.writes[pathKey(p)]; ok {
		return finding.Overwritten, true
	}
	if _, ok := r.whiteouts[p]; ok {
		return finding.Deleted, true
	}
	if _, ok := r.opaques[""]; ok {
		return finding.Deleted, true
	}
	for _, dir := range parents(p) {
		if _, ok := r.whiteouts[dir]; ok {
			return finding.Deleted, true
		}
		if _, ok := r.opaques[dir]; ok {
			return finding.Deleted, true
		}
		if e, ok := r.writes[pathKey(dir)]; ok && !e.dir {
			return finding.Deleted, true
		}
	}
	return "", false
}
