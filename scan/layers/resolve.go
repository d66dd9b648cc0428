package layers

import (
	"slices"

	"github.com/imagescan/imagescan/finding"
)

// Resolve sets the final status of every finding in results, which holds one
// Result per layer in image order (oldest first).
//
// Status follows the content, not the path. A file's content is reachable
// through its own path and through every hard link to it, made in its own
// layer or in a later one. A path stops reaching it when a later layer
// writes the same path, hides it with a whiteout, an opaque directory or a
// non-directory entry at one of its parent directories. A finding whose own
// path is hidden is overwritten or deleted (the first such layer is
// recorded in RemovedByLayer), unless a hard link still reaches the
// content in the final filesystem: then it is visible, and VisibleAt names
// that link.
//
// A nil Result stands for a layer that could not be read; it hides nothing,
// so the status of the findings below it is what the readable layers say.
func Resolve(results []*Result) {
	for l, res := range results {
		if res == nil {
			continue
		}
		for i := range res.Findings {
			res.resolve(i, results[l+1:])
		}
	}
}

// alias is a path that reaches a finding's content, and the layer that
// made it.
type alias struct {
	path  string
	layer int
}

// resolve follows finding i's content through the later layers.
func (r *Result) resolve(i int, later []*Result) {
	loc := &r.Findings[i].Location
	own := r.filePaths[i]
	var live []alias
	for _, p := range r.holders[i] {
		live = append(live, alias{p, r.Index})
	}
	for _, m := range later {
		if m == nil || len(live) == 0 {
			continue
		}
		var added []alias
		for _, a := range live {
			for _, q := range m.holdersOf(a.path, -1) {
				added = append(added, alias{q, m.Index})
			}
		}
		kept := live[:0]
		for _, a := range live {
			st, hidden := m.hides(a.path)
			if !hidden {
				kept = append(kept, a)
				continue
			}
			if a.path == own && a.layer == r.Index && loc.Status == finding.Visible {
				loc.Status, loc.RemovedByLayer = st, m.Index
			}
		}
		live = append(kept, added...)
	}
	if loc.Status != finding.Visible && len(live) > 0 {
		paths := make([]string, len(live))
		for k, a := range live {
			paths[k] = a.path
		}
		loc.Status, loc.VisibleAt = finding.Visible, slices.Min(paths)
	}
}

// holdersOf returns the paths that hold, at the end of this layer, the
// content that path p had right after this layer's tar entry ord: p itself
// when nothing later in the layer writes it, and every hard link made to
// it (or to such a link) before p was written again. With ord -1, p is a
// lower layer's path as this layer found it, and p itself is not returned.
func (r *Result) holdersOf(p string, ord int) []string {
	if len(r.links) == 0 {
		if e, ok := r.writes[pathKey(p)]; ord >= 0 && ok && e.ord == ord {
			return []string{p}
		}
		return nil
	}
	type at struct {
		path string
		ord  int
	}
	var out []string
	seen := map[string]bool{}
	for queue := []at{{p, ord}}; len(queue) > 0; queue = queue[1:] {
		cur := queue[0]
		if seen[cur.path] {
			continue
		}
		seen[cur.path] = true
		e, written := r.writes[pathKey(cur.path)]
		if cur.ord >= 0 && written && e.ord == cur.ord {
			out = append(out, cur.path)
		}
		for _, l := range r.links[pathKey(cur.path)] {
			rewrittenBefore := written && e.ord > cur.ord && e.ord < l.ord
			if l.ord > cur.ord && !rewrittenBefore {
				queue = append(queue, at{l.path, l.ord})
			}
		}
	}
	return out
}

// hides reports whether this layer hides the path p of a lower layer, and
// how. It costs time linear in the length of p: the keys of p's parent
// directories are the running hash of its prefixes.
func (r *Result) hides(p string) (finding.Status, bool) {
	if _, ok := r.writes[pathKey(p)]; ok {
		return finding.Overwritten, true
	}
	if _, ok := r.whiteouts[pathKey(p)]; ok {
		return finding.Deleted, true
	}
	if _, ok := r.opaques[pathKey("")]; ok {
		return finding.Deleted, true
	}
	h := newPathHash()
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 {
			dir := h.sum()
			if r.hidesUnder(dir) {
				return finding.Deleted, true
			}
		}
		h.add(p[i])
	}
	return "", false
}

// hidesUnder reports whether the directory with key dir is whited out,
// made opaque, or replaced by a non-directory in this layer.
func (r *Result) hidesUnder(dir uint64) bool {
	if _, ok := r.whiteouts[dir]; ok {
		return true
	}
	if _, ok := r.opaques[dir]; ok {
		return true
	}
	e, ok := r.writes[dir]
	return ok && !e.dir
}
