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
		fates := make([]*fate, len(res.holders))
		for i := range res.Findings {
			h := res.holderOf[i]
			if fates[h] == nil {
				fates[h] = res.follow(res.filePaths[i], res.holders[h], results[l+1:])
			}
			fates[h].apply(&res.Findings[i].Location)
		}
	}
}

// fate is what the later layers did to the content of one tar entry: to
// its own path (hidden how, by which layer), and the path that still
// reaches it in the final filesystem, if any.
type fate struct {
	hidden    finding.Status // "" when the own path stays
	hiddenBy  int
	visibleAt string
}

// apply sets a finding's status from the fate of its entry. A finding the
// walk already found overwritten in its own layer keeps that, unless a
// hard link still reaches the content.
func (f *fate) apply(loc *finding.Location) {
	if loc.Status == finding.Visible && f.hidden != "" {
		loc.Status, loc.RemovedByLayer = f.hidden, f.hiddenBy
	}
	if loc.Status != finding.Visible && f.visibleAt != "" {
		loc.Status, loc.VisibleAt = finding.Visible, f.visibleAt
	}
}

// follow traces the content that the paths holders hold at the end of this
// layer (own among them unless the layer wrote own again) through the later
// layers.
func (r *Result) follow(own string, holders []string, later []*Result) *fate {
	f := &fate{}
	live := newLiveSet()
	for _, p := range holders {
		live.add(p, r.Index)
	}
	for _, m := range later {
		if m == nil || live.len() == 0 {
			continue
		}
		added := live.linkedIn(m)
		hidden := live.hiddenIn(m)
		for _, k := range hidden {
			a := live.aliases[k]
			if a.path == own && a.layer == r.Index && f.hidden == "" {
				f.hidden, f.hiddenBy = m.hiddenHow(live.keys[k][0]), m.Index
			}
		}
		live.drop(hidden)
		for _, a := range added {
			live.add(a.path, a.layer)
		}
	}
	if live.len() > 0 {
		paths := make([]string, 0, live.len())
		for _, a := range live.aliases {
			paths = append(paths, a.path)
		}
		f.visibleAt = slices.Min(paths)
	}
	return f
}

// hiddenHow says how this layer hides a lower path it hides: overwritten
// when it writes the path itself, else deleted.
func (r *Result) hiddenHow(key uint64) finding.Status {
	if _, ok := r.writes[key]; ok {
		return finding.Overwritten
	}
	return finding.Deleted
}

// alias is a path that reaches a finding's content, and the layer that
// made it.
type alias struct {
	path  string
	layer int
}

// liveSet is the paths that reach one content as the layers are applied.
// Each path's key and its parents' keys are computed once. A layer's
// effect is found whichever way is cheaper: by looking each path up in
// the layer, or by looking each of the layer's entries up in an index of
// the paths, so that neither many links nor large layers make resolution
// quadratic.
type liveSet struct {
	has     map[string]bool // the paths of aliases
	aliases []alias
	keys    [][]uint64 // per alias: its path's key, then its parents' keys
	cost    int        // the sum of len(keys)
	index   map[uint64][]int
	parents map[uint64][]int
	hidden  []int
}

func newLiveSet() *liveSet { return &liveSet{has: map[string]bool{}} }

func (s *liveSet) len() int { return len(s.aliases) }

func (s *liveSet) add(p string, layer int) {
	if s.has[p] {
		return
	}
	s.has[p] = true
	keys := pathKeys(p)
	s.aliases = append(s.aliases, alias{p, layer})
	s.keys = append(s.keys, keys)
	s.cost += len(keys)
	s.index = nil
}

// pathKeys returns p's key, then the keys of its parent directories.
func pathKeys(p string) []uint64 {
	keys := []uint64{0}
	h := newPathHash()
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 {
			keys = append(keys, h.sum())
		}
		h.add(p[i])
	}
	keys[0] = h.sum()
	return keys
}

// hiddenIn returns the aliases (by position) that layer m hides. The
// aliases m made itself are never among them.
func (s *liveSet) hiddenIn(m *Result) []int {
	s.hidden = s.hidden[:0]
	if s.cost <= m.entries() {
		for k := range s.aliases {
			if s.aliases[k].layer != m.Index && m.hidesKeys(s.keys[k]) {
				s.hidden = append(s.hidden, k)
			}
		}
		return s.hidden
	}
	s.buildIndex()
	hit := map[int]bool{}
	mark := func(ks []int) {
		for _, k := range ks {
			if s.aliases[k].layer != m.Index {
				hit[k] = true
			}
		}
	}
	if _, ok := m.opaques[rootKey]; ok {
		for k := range s.aliases {
			mark([]int{k})
		}
	}
	for key := range m.whiteouts {
		mark(s.index[key])
		mark(s.parents[key])
	}
	for key := range m.opaques {
		mark(s.parents[key])
	}
	for key, e := range m.writes {
		mark(s.index[key])
		if !e.dir {
			mark(s.parents[key])
		}
	}
	for k := range hit {
		s.hidden = append(s.hidden, k)
	}
	slices.Sort(s.hidden)
	return s.hidden
}

// drop removes the aliases at the positions hidden, which are sorted.
func (s *liveSet) drop(hidden []int) {
	if len(hidden) == 0 {
		return
	}
	gone := map[int]bool{}
	for _, k := range hidden {
		gone[k] = true
	}
	var aliases []alias
	var keys [][]uint64
	s.cost = 0
	for k := range s.aliases {
		if gone[k] {
			delete(s.has, s.aliases[k].path)
			continue
		}
		aliases, keys = append(aliases, s.aliases[k]), append(keys, s.keys[k])
		s.cost += len(s.keys[k])
	}
	s.aliases, s.keys, s.index = aliases, keys, nil
}

func (s *liveSet) buildIndex() {
	if s.index != nil {
		return
	}
	s.index, s.parents = map[uint64][]int{}, map[uint64][]int{}
	for k, keys := range s.keys {
		s.index[keys[0]] = append(s.index[keys[0]], k)
		for _, p := range keys[1:] {
			s.parents[p] = append(s.parents[p], k)
		}
	}
}

// linkedIn returns the paths that layer m links to the content: hard links
// m makes to a live path, or to such a link.
func (s *liveSet) linkedIn(m *Result) []alias {
	if len(m.links) == 0 {
		return nil
	}
	var out []alias
	visit := func(k int) {
		for _, q := range m.holdersOf(s.aliases[k].path, -1) {
			out = append(out, alias{q, m.Index})
		}
	}
	if len(s.aliases) <= len(m.links) {
		for k := range s.aliases {
			if _, ok := m.links[s.keys[k][0]]; ok {
				visit(k)
			}
		}
		return out
	}
	s.buildIndex()
	for key := range m.links {
		for _, k := range s.index[key] {
			visit(k)
		}
	}
	return out
}

// entries is how many entries a layer has that can hide a lower path.
func (r *Result) entries() int { return len(r.writes) + len(r.whiteouts) + len(r.opaques) }

// hidesKeys reports whether this layer hides the lower path whose key and
// parent keys are keys.
func (r *Result) hidesKeys(keys []uint64) bool {
	if _, ok := r.writes[keys[0]]; ok {
		return true
	}
	if _, ok := r.whiteouts[keys[0]]; ok {
		return true
	}
	if _, ok := r.opaques[rootKey]; ok {
		return true
	}
	for _, dir := range keys[1:] {
		if r.hidesUnder(dir) {
			return true
		}
	}
	return false
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
