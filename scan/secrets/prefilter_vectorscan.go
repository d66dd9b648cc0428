//go:build vectorscan

package secrets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/flier/gohs/hyperscan"

	"github.com/imagescan/imagescan/internal/outfile"
)

// vectorscan is the prefilter of the fast build: one Vectorscan database
// holds every rule's pattern, translated by hsPattern into a looser
// byte-mode pattern that reports every end offset. A rule whose pattern
// reports nothing cannot match the text; one that does runs only around
// those ends. A rule without a pattern in the database (none, or one
// Vectorscan cannot compile) is loose: it runs around its keywords, found
// by the keyword index, as in the pure-Go build. Of the keywords, only the
// engine's tracked ones are in the database, as caseless literals
// reported once each: all of them made its scan half as slow again, and a
// rule whose every match holds a keyword needs no separate look for one
// (see engine.planPlaced).
type vectorscan struct {
	index *keywordIndex // the fallback, should a scan fail
	db    hyperscan.BlockDatabase
	// scratches holds idle scan scratch spaces. They live in C memory,
	// which a sync.Pool would leak when it drops them, so this is a
	// bounded free list: a scratch returned to a full list is freed.
	scratches chan *hyperscan.Scratch
	ruleOf    []int  // pattern id k is the pattern of rule ruleOf[k]
	loose     []int  // rules without a pattern in the database
	looseSet  []bool // … by rule number
	keywords  bool   // some loose rule has keywords: scan looks for them
	tracked   []int  // pattern id trackedBase+i is keyword number tracked[i]
}

// trackedBase numbers the keyword patterns apart from the rule patterns,
// which are renumbered when one is dropped.
const trackedBase = 1 << 24

// newPrefilter builds the Vectorscan prefilter for the engine's rules, or
// falls back to the keyword index when the database cannot be built.
// cacheDir, when set, keeps compiled databases between runs.
func newPrefilter(e *engine, cacheDir string) prefilter {
	v, err := newVectorscan(e, cacheDir)
	if err != nil {
		return e.index
	}
	return v
}

func newVectorscan(e *engine, cacheDir string) (*vectorscan, error) {
	v := &vectorscan{index: e.index, tracked: e.tracked}
	patterns := make([]*hyperscan.Pattern, 0, len(e.rules)+len(e.tracked))
	for i, kw := range e.tracked {
		p := hyperscan.NewPattern(literal(e.index.words[kw]), hyperscan.Caseless|hyperscan.SingleMatch)
		p.Id = trackedBase + i
		patterns = append(patterns, p)
	}
	for n, pr := range e.rules {
		if pr.syntax == nil || keywordGated(&pr) {
			v.loose = append(v.loose, n)
			continue
		}
		expr, err := hsTranslate(pr.syntax)
		if err != nil {
			v.loose = append(v.loose, n)
			continue
		}
		p := hyperscan.NewPattern(expr, hyperscan.PrefilterMode|hyperscan.AllowEmpty)
		p.Id = len(v.ruleOf)
		patterns = append(patterns, p)
		v.ruleOf = append(v.ruleOf, n)
	}
	db, err := v.database(patterns, cacheDir)
	if err != nil {
		return nil, err
	}
	v.db = db
	v.looseSet = make([]bool, len(e.rules))
	for _, n := range v.loose {
		v.looseSet[n] = true
		pr := &e.rules[n]
		v.keywords = v.keywords || len(pr.kwNums) > 0 && (pr.windowed || !keywordGated(pr))
	}
	v.scratches = make(chan *hyperscan.Scratch, maxIdleScratches)
	return v, nil
}

// keywordGated reports whether a rule is better left out of the database:
// its matches need not hold its keywords, which are tracked, so it runs
// on the whole text when one occurs, and not at all when none does, as
// in gitleaks. Placing its matches would gain little: its keywords are
// rare (facebook, sourcegraph, hooks.slack.com), and its patterns are
// costly (sourcegraph-access-token's bare 40 hex digits alone took 40% of
// the database's scan time).
func keywordGated(pr *plannedRule) bool {
	return !pr.shape.keyed && len(pr.kwNums) > 0
}

// literal escapes every byte of w.
func literal(w string) string {
	out := make([]byte, 0, 4*len(w))
	for i := 0; i < len(w); i++ {
		out = fmt.Appendf(out, `\x%02x`, w[i])
	}
	return string(out)
}

// database compiles the patterns, dropping (and marking loose) the rule
// patterns Vectorscan refuses; a refused keyword fails the whole build.
// Compiling takes seconds, so a database is kept, with the rules whose
// patterns made it in, per process and, with a cache directory, on disk,
// under the key of the patterns asked for.
func (v *vectorscan) database(patterns []*hyperscan.Pattern, cacheDir string) (hyperscan.BlockDatabase, error) {
	key := databaseKey(patterns)
	if c, ok := loadDatabase(key, cacheDir); ok && v.adopt(c.ruleOf) {
		return c.db, nil
	}
	for {
		db, err := hyperscan.NewBlockDatabase(patterns...)
		var ce *hyperscan.CompileError
		if errors.As(err, &ce) && ce.Expression >= 0 && ce.Expression < len(patterns) && patterns[ce.Expression].Id < trackedBase {
			v.dropPattern(patterns, ce.Expression)
			patterns = slices.Delete(patterns, ce.Expression, ce.Expression+1)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("building the Vectorscan database: %w", err)
		}
		storeDatabase(key, cacheDir, compiled{db: db, ruleOf: v.ruleOf})
		return db, nil
	}
}

// adopt takes the rules of a stored database, which must be a subset of
// the rules asked for, in order; the others become loose.
func (v *vectorscan) adopt(ruleOf []int) bool {
	kept := map[int]bool{}
	for _, n := range ruleOf {
		kept[n] = true
	}
	var loose []int
	for _, n := range v.ruleOf {
		if !kept[n] {
			loose = append(loose, n)
		}
	}
	if len(v.ruleOf)-len(loose) != len(ruleOf) {
		return false
	}
	v.ruleOf, v.loose = slices.Clone(ruleOf), append(v.loose, loose...)
	return true
}

// dropPattern marks the rule of patterns[i] loose and renumbers the rule
// patterns after it.
func (v *vectorscan) dropPattern(patterns []*hyperscan.Pattern, i int) {
	k := patterns[i].Id
	v.loose = append(v.loose, v.ruleOf[k])
	v.ruleOf = slices.Delete(v.ruleOf, k, k+1)
	for _, p := range patterns[i+1:] {
		if p.Id < trackedBase {
			p.Id--
		}
	}
}

// databaseKey identifies a set of patterns and the library that compiles
// them.
func databaseKey(patterns []*hyperscan.Pattern) string {
	h := sha256.New()
	line := fmt.Appendf(nil, "imagescan vectorscan 1|%s\n", hyperscan.Version())
	for _, p := range patterns {
		h.Write(line)
		line = strconv.AppendInt(line[:0], int64(p.Id), 10)
		line = append(line, '|')
		line = strconv.AppendUint(line, uint64(p.Flags), 10)
		line = append(line, '|')
		line = strconv.AppendQuote(line, p.Expression)
		line = append(line, '\n')
	}
	h.Write(line)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// compiled is a database and the rule of each of its rule patterns.
type compiled struct {
	db     hyperscan.BlockDatabase
	ruleOf []int
}

var (
	databasesMu sync.Mutex
	databases   = map[string]compiled{} // built or loaded in this process, by key
)

// maxDatabaseFile bounds a cached database file read back.
const maxDatabaseFile = 256 << 20

// loadDatabase returns the database stored under key. The file holds the
// rule numbers, one line of them, then the serialized database.
func loadDatabase(key, cacheDir string) (compiled, bool) {
	databasesMu.Lock()
	defer databasesMu.Unlock()
	if c, ok := databases[key]; ok {
		return c, true
	}
	if cacheDir == "" {
		return compiled{}, false
	}
	f, err := os.Open(databaseFile(key, cacheDir))
	if err != nil {
		return compiled{}, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDatabaseFile))
	if err != nil {
		return compiled{}, false
	}
	head, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return compiled{}, false
	}
	var c compiled
	for _, field := range strings.Fields(string(head)) {
		n, err := strconv.Atoi(field)
		if err != nil {
			return compiled{}, false
		}
		c.ruleOf = append(c.ruleOf, n)
	}
	if c.db, err = hyperscan.UnmarshalBlockDatabase(body); err != nil {
		return compiled{}, false // a corrupt or foreign file is compiled again and replaced
	}
	databases[key] = c
	return c, true
}

func storeDatabase(key, cacheDir string, c compiled) {
	databasesMu.Lock()
	defer databasesMu.Unlock()
	databases[key] = c
	if cacheDir == "" {
		return
	}
	data, err := c.db.Marshal()
	if err != nil || os.MkdirAll(cacheDir, 0o700) != nil {
		return
	}
	_ = outfile.Write(databaseFile(key, cacheDir), func(w io.Writer) error {
		for _, n := range c.ruleOf {
			fmt.Fprintf(w, "%d ", n)
		}
		fmt.Fprintln(w)
		_, err := w.Write(data)
		return err
	})
}

func databaseFile(key, cacheDir string) string {
	return filepath.Join(cacheDir, "vectorscan-"+key+".db")
}

// maxIdleScratches bounds the idle scratch spaces kept, about 80 KiB each
// with the default rules: more than the goroutines that scan at once, so
// that none is built twice (building one costs more than most scans).
const maxIdleScratches = 64

func (v *vectorscan) name() string { return "Vectorscan " + hyperscan.Version() }

func (v *vectorscan) getScratch() *hyperscan.Scratch {
	select {
	case s := <-v.scratches:
		return s
	default:
		s, err := hyperscan.NewScratch(v.db)
		if err != nil {
			return nil
		}
		return s
	}
}

func (v *vectorscan) putScratch(s *hyperscan.Scratch) {
	select {
	case v.scratches <- s:
	default:
		_ = s.Free()
	}
}

// maxEnds is how many match ends of one rule in one text are kept; past
// that, the rule runs on the whole text.
const maxEnds = 1024

// scan implements prefilter.
func (v *vectorscan) scan(text []byte, s *scratch) {
	var hs *hyperscan.Scratch
	if len(text) > 0 {
		hs = v.getScratch()
	}
	if hs == nil {
		v.index.scan(text, s)
		return
	}
	defer v.putScratch(hs)
	for _, n := range s.ended {
		s.ends[n] = s.ends[n][:0]
	}
	s.ended = s.ended[:0]
	clear(s.present)
	err := v.db.Scan(text, hs, func(id uint, _, to uint64, _ uint, _ any) error {
		if id >= trackedBase {
			s.present[v.tracked[id-trackedBase]] = true
			return nil
		}
		n := v.ruleOf[id]
		switch ends := s.ends[n]; {
		case len(ends) == 0:
			s.ended = append(s.ended, n)
			s.ends[n] = append(ends, int(to))
		case len(ends) == 1 && ends[0] < 0: // already the whole text
		case len(ends) >= maxEnds:
			s.ends[n] = append(ends[:0], -1)
		default:
			s.ends[n] = append(ends, int(to))
		}
		return nil
	}, nil)
	if err != nil {
		v.index.scan(text, s)
		return
	}
	if v.keywords {
		start := len(s.hits)
		s.hits = v.index.find(text, s.hits)
		for _, h := range s.hits[start:] {
			s.present[h.kw] = true
		}
	}
	slices.Sort(s.ended)
	copy(s.loose, v.looseSet)
	s.placed = true
}
