package secrets

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/imagescan/imagescan/finding"
)

// Identical contents are common in images: a package installed in two
// places, a file copied into a later layer, the same base files in the
// images of one run. The rules' pass over a content is remembered by the
// content's SHA-256, and a content met again is not scanned again, as
// long as every path condition of the rules (allowlisted paths, rules
// that apply only to some paths) says the same of its new path as of the
// one it was scanned at. What depends on the path otherwise (the
// credential-file parsers, the judging of third-party and test trees)
// runs for each path, on the remembered matches.

// Bounds of the memo: contents shorter than minMemoBytes cost less to scan
// than to look up; past maxMemoEntries the memo starts afresh, so that
// its memory stays bounded however many files a run reads.
// Contents shorter than minStoreBytes are not kept between runs: a look in
// the store and a write to it cost about what scanning them does.
const (
	minMemoBytes   = 256
	minStoreBytes  = 4 << 10
	maxMemoEntries = 1 << 17
)

// memo remembers what the rules found in each content scanned, by its
// SHA-256. It is safe for concurrent use.
type memo struct {
	mu      sync.Mutex
	seen    map[[sha256.Size]byte]*memoEntry
	scanned atomic.Int64 // bytes the rules read, for the tests

	// Between runs: the keys of the contents the rules found nothing in.
	store   ContentStore
	scope   string   // what the keys are valid for: the rules and the build
	pending [][]byte // keys not yet in the store
	lost    error    // why keys written during detection were lost
}

// ContentStore keeps, between runs, the keys of file contents in which
// the rules found nothing: a content is known by a key of its SHA-256,
// the path it was read at and the rule set, never by anything it holds.
// It must be safe for concurrent use.
type ContentStore interface {
	HasContent(key []byte) bool
	AddContents(keys [][]byte) error
}

// flushAt is how many new keys are kept in memory before they are written
// to the ContentStore.
const flushAt = 1 << 14

// KeepCleanContents keeps the contents the rules find nothing in in s, and
// does not scan them again in this run or later ones, at the same path,
// with the same rules and the same build, which build names (a digest of
// the program, say). Call it before detecting anything, and
// FlushContents when done.
func (d *Detector) KeepCleanContents(s ContentStore, build string) {
	d.memo.store, d.memo.scope = s, d.Fingerprint()+"|"+build
}

// FlushContents writes the keys of the clean contents found since the
// last write to the ContentStore.
func (d *Detector) FlushContents() error {
	m := &d.memo
	m.mu.Lock()
	keys, lost := m.pending, m.lost
	m.pending, m.lost = nil, nil
	m.mu.Unlock()
	if len(keys) == 0 {
		return lost
	}
	if err := m.store.AddContents(keys); err != nil {
		return errors.Join(lost, fmt.Errorf("keeping %d clean contents: %w", len(keys), err))
	}
	return lost
}

// storeKey is the ContentStore key of content, whose SHA-256 is sum, read
// at path.
func (m *memo) storeKey(path string, sum [sha256.Size]byte) []byte {
	h := sha256.New()
	h.Write([]byte(m.scope))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(sum[:])
	return h.Sum(nil)
}

// memoEntry is what the rules found in one content, read as the content
// of the file at path.
type memoEntry struct {
	path    string
	matches []finding.Match
}

// contentMatches returns what the rules find in content read as the file
// at path, from the memo when the content was scanned before at a path
// the rules' path conditions do not tell apart from this one. scan runs
// the rules; the matches it returns on a cancelled context are not kept.
func (d *Detector) contentMatches(path string, content []byte, cancelled func() bool, scan func() []finding.Match) []finding.Match {
	if len(content) < minMemoBytes {
		return d.scanContent(scan, content)
	}
	sum := sha256.Sum256(content)
	m := &d.memo
	m.mu.Lock()
	e, ok := m.seen[sum]
	m.mu.Unlock()
	if ok && (e.path == path || d.engine.samePathConditions(e.path, path)) {
		return slices.Clone(e.matches)
	}
	var key []byte
	if m.store != nil && len(content) >= minStoreBytes {
		key = m.storeKey(path, sum)
		if m.store.HasContent(key) {
			m.remember(sum, path, nil)
			return nil
		}
	}
	found := d.scanContent(scan, content)
	if cancelled() {
		return found
	}
	if !ok {
		m.remember(sum, path, found)
	}
	if key != nil && len(found) == 0 {
		d.keepClean(key)
	}
	return found
}

// remember keeps what the rules found in the content whose SHA-256 is
// sum, read at path.
func (m *memo) remember(sum [sha256.Size]byte, path string, found []finding.Match) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil || len(m.seen) >= maxMemoEntries {
		m.seen = map[[sha256.Size]byte]*memoEntry{}
	}
	m.seen[sum] = &memoEntry{path: path, matches: slices.Clone(found)}
}

// keepClean queues the key of a content the rules found nothing in for
// the ContentStore, and writes the queue when it is long. A failed write
// costs later runs a scan, never a finding; FlushContents reports it.
func (d *Detector) keepClean(key []byte) {
	m := &d.memo
	m.mu.Lock()
	m.pending = append(m.pending, key)
	full := len(m.pending) >= flushAt
	m.mu.Unlock()
	if !full {
		return
	}
	if err := d.FlushContents(); err != nil {
		m.mu.Lock()
		m.lost = errors.Join(m.lost, err)
		m.mu.Unlock()
	}
}

func (d *Detector) scanContent(scan func() []finding.Match, content []byte) []finding.Match {
	d.memo.scanned.Add(int64(len(content)))
	return scan()
}

// samePathConditions reports whether every condition the rules put on a
// file's path holds alike for a and b: the allowlists' paths, global and
// of each rule, and the paths rules are limited to.
func (e *engine) samePathConditions(a, b string) bool {
	if (a == "") != (b == "") || a == e.cfg.Path || b == e.cfg.Path {
		return false
	}
	for _, al := range e.cfg.Allowlists {
		if len(al.Paths) > 0 && al.PathAllowed(a) != al.PathAllowed(b) {
			return false
		}
	}
	for _, r := range e.cfg.Rules {
		if r.Path != nil && r.Path.MatchString(a) != r.Path.MatchString(b) {
			return false
		}
		for _, al := range r.Allowlists {
			if len(al.Paths) > 0 && al.PathAllowed(a) != al.PathAllowed(b) {
				return false
			}
		}
	}
	return true
}
