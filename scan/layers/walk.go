package layers

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"runtime"
	"slices"

	"github.com/imagescan/imagescan/finding"
)

// Defaults for Options.
const (
	DefaultWindow  = 1 << 20 // bytes of a file handed to the detector at once
	DefaultOverlap = 16 << 10
	sniffLen       = 8000 // bytes looked at for a NUL to call a file binary

	DefaultMaxDepth        = 3
	DefaultMaxArchiveBytes = 512 << 20
	DefaultMaxRatio        = 100
)

// Options tune a walk. The zero value uses the defaults.
type Options struct {
	// Window is how many bytes of a file the detector sees at once. Larger
	// files are scanned in windows that overlap by Overlap bytes, so a secret
	// across a window edge is still seen whole. The default is 1 MiB.
	Window int
	// Overlap is how much consecutive windows share. It must be less than
	// half the window. The default is 16 KiB, room for a PEM private key.
	Overlap int

	// MaxDepth is how deep archives inside layer files are opened: a
	// .tgz in a .jar in a layer is depth 2. Files in archives deeper than
	// that are scanned by their path only, and counted. The default is 3;
	// a negative value opens no archives.
	MaxDepth int
	// MaxArchiveBytes bounds the uncompressed bytes that the archives of
	// one layer file may yield, nested ones included; no more than
	// MaxRatio times the file's own size either. What lies beyond is
	// counted, not scanned. The defaults are 512 MiB and 100.
	MaxArchiveBytes int64
	MaxRatio        int64

	// Workers is how many goroutines detect the windows of the layer's
	// text files while the walk reads on; 0 means one per CPU, a negative
	// value none (every window is detected in the walk's goroutine).
	// Detectors must be safe for concurrent use.
	Workers int
	// SkipBinaries scans binary files by their path alone, as skipped,
	// instead of through their printable strings.
	SkipBinaries bool
	// Slots, when not nil, bounds how many windows are in detection at
	// once across every walk given the same channel (its capacity), so
	// that layers walked in parallel do not run more detections than
	// there are CPUs. Nil gives each walk Workers slots.
	Slots chan struct{}
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Overlap <= 0 || o.Overlap*2 >= o.Window {
		o.Overlap = min(DefaultOverlap, o.Window/4)
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxArchiveBytes <= 0 {
		o.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = DefaultMaxRatio
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// Key identifies the options that shape what a walk finds (not Workers or
// Slots, which change only how fast), for keying stored walks.
func (o Options) Key() string {
	o = o.withDefaults()
	return fmt.Sprintf("window %d overlap %d depth %d archive %d ratio %d skip-binaries %t", o.Window, o.Overlap, o.MaxDepth, o.MaxArchiveBytes, o.MaxRatio, o.SkipBinaries)
}

// archiveBudget is how many uncompressed bytes the archives in a layer file
// of the given size may yield.
func (o Options) archiveBudget(size int64) int64 {
	return min(o.MaxArchiveBytes, o.MaxRatio*max(size, 1<<20))
}

// entry is what a layer writes at one path: the ordinal of its last tar
// entry there and whether that entry is a directory.
type entry struct {
	ord int
	dir bool
}

// Result is what Walk found in one layer.
type Result struct {
	Index    int
	Findings []finding.Finding
	Coverage finding.Coverage

	writes    map[uint64]entry      // paths this layer writes, by pathKey
	whiteouts map[uint64]struct{}   // paths this layer deletes from lower layers, by pathKey
	opaques   map[uint64]struct{}   // directories whose lower content this layer hides, by pathKey
	links     map[uint64][]hardlink // hard links this layer makes, by the pathKey of their target

	// pending holds each finding's tar entry ordinal until the walk ends and
	// rewrites of the same path in the same layer are known.
	pending []int
	// filePaths holds, for each finding, the path of the layer file it is
	// in: its Path, or for a file inside an archive the archive's path.
	filePaths []string
	// holders lists, for each tar entry that findings lie in, the paths of
	// this layer that still hold that entry's content at the layer's end:
	// the file's own path unless the layer writes it again, and the hard
	// links made to it. holderOf points each finding at its entry's list,
	// so that the findings of one file are resolved once.
	holders  [][]string
	holderOf []int
}

// hardlink is a hard link a layer makes: its path and tar entry ordinal.
type hardlink struct {
	path string
	ord  int
}

// walker carries one walk's state.
type walker struct {
	ctx  context.Context
	det  finding.Detector
	opt  Options
	res  *Result
	buf  []byte
	hash hash.Hash
	// unhashed is what windows read of a binary file: binaryFile hashes
	// it when the file's digest is needed.
	unhashed []byte

	// text and runs are the strings of a binary file's current window.
	text []byte
	runs []stringRun

	git    map[string]*gitRepo // the git repositories seen, by git directory
	peek   []*bufio.Reader     // one per archive depth, reused
	budget int64               // uncompressed bytes archives in the current layer file may still yield
	pipe   *pipeline           // the detect workers; nil when files are detected in the walk's goroutine
}

// target is a file being scanned: a layer file, or a file inside an
// archive inside one.
type target struct {
	ord   int    // the layer file's tar entry ordinal
	layer string // the layer file's path
	path  string // the path reported: the layer path, or a chain like a.tgz!package/.npmrc
	depth int    // how many archives the file is inside
	// content is how the file is read when not as plain text: a
	// finding.Content* value.
	content string
}

// Walk reads the uncompressed layer tarball r to its last entry, once, and
// returns the findings in its files, marked visible or (when the same layer
// writes the path again) overwritten; Resolve sets their final status across
// layers. index is the layer's 0-based position in the image.
//
// On a read error Walk returns what it found before the error together with
// the error; the file being read when the stream broke is counted as
// unreadable.
func Walk(ctx context.Context, index int, r io.Reader, det finding.Detector, opt Options) (*Result, error) {
	w := &walker{
		ctx: ctx, det: det, opt: opt.withDefaults(),
		res: &Result{
			Index:     index,
			writes:    map[uint64]entry{},
			whiteouts: map[uint64]struct{}{},
			opaques:   map[uint64]struct{}{},
			links:     map[uint64][]hardlink{},
		},
		hash: sha256.New(),
	}
	w.buf = make([]byte, w.opt.Window)
	w.startPipeline(w.opt.Workers, w.opt.Slots)
	err := w.walk(tar.NewReader(r))
	w.stopPipeline()
	w.res.placeGitFindings(w.git)
	w.res.settleSameLayer()
	return w.res, err
}

func (w *walker) walk(tr *tar.Reader) error {
	for ord := 0; ; ord++ {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar entry %d: %w", ord, err)
		}
		if err := w.entry(ord, hdr, tr); err != nil {
			return err
		}
	}
}

func (w *walker) entry(ord int, hdr *tar.Header, tr *tar.Reader) error {
	p := cleanPath(hdr.Name)
	if target, opaque, ok := whiteout(p); ok {
		w.res.Coverage.Removed++
		if opaque {
			w.res.opaques[pathKey(target)] = struct{}{}
		} else {
			w.res.whiteouts[pathKey(target)] = struct{}{}
		}
		return nil
	}
	w.res.writes[pathKey(p)] = entry{ord: ord, dir: hdr.Typeflag == tar.TypeDir}
	switch hdr.Typeflag {
	case tar.TypeReg:
		w.budget = w.opt.archiveBudget(hdr.Size)
		return w.file(target{ord: ord, layer: p, path: p}, w.gitRef(p, tr))
	case tar.TypeGNUSparse:
		w.budget = w.opt.archiveBudget(hdr.Size)
		return w.file(target{ord: ord, layer: p, path: p}, w.sparse(hdr, tr))
	case tar.TypeLink:
		w.res.Coverage.Links++
		if t := cleanPath(hdr.Linkname); t != p {
			w.res.links[pathKey(t)] = append(w.res.links[pathKey(t)], hardlink{path: p, ord: ord})
		}
		w.link(ord, p, hdr.Linkname)
	case tar.TypeSymlink:
		w.res.Coverage.Links++
		w.link(ord, p, hdr.Linkname)
	case tar.TypeDir, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		w.res.Coverage.Skip(finding.SkipUnknownType)
	}
	return nil
}

// link runs the path rules on a link's name and on its target, and records
// what they find at the link: the target is never followed, and may not
// exist in this layer at all.
func (w *walker) link(ord int, p, linkname string) {
	ms := w.det.DetectFile(w.ctx, finding.File{Path: p})
	if t := cleanPath(linkname); t != "" && t != p {
		ms = append(ms, w.det.DetectFile(w.ctx, finding.File{Path: t})...)
	}
	w.add(target{ord: ord, layer: p, path: p}, "", finding.Best(ms, w.suppressed()))
}

// file scans one file's content: as an archive when its magic bytes say
// it is one, else as text, or by its path alone when it is binary.
func (w *walker) file(t target, r io.Reader) error {
	if reason := w.det.SkipContent(t.path); reason != "" {
		w.res.Coverage.Skip(reason)
		return nil
	}
	br := w.peeker(t.depth, r)
	head, _ := br.Peek(512)
	if k := sniff(head); k != notArchive {
		return w.archive(t, br, k)
	}
	w.hash.Reset()
	ms, lazySum, binary, err := w.windows(t.path, br, true)
	if err != nil {
		w.res.Coverage.Skip(finding.SkipUnreadable)
		w.add(t, "", ms)
		return fmt.Errorf("reading %s: %w", t.path, err)
	}
	if binary {
		return w.notText(t, br)
	}
	sum := "" // taken when the findings are recorded
	if !lazySum {
		sum = hex.EncodeToString(w.hash.Sum(nil))
	}
	w.add(t, sum, ms)
	return nil
}

// sparse returns the content of an old-GNU sparse entry (type S, as
// `tar --sparse --format=gnu` writes), whose holes read as zeros. Its
// size is what the header says, however little data the tarball holds,
// so only its first MaxArchiveBytes are read; a longer one is counted.
// (PAX sparse entries come as regular files, read the same way.)
func (w *walker) sparse(hdr *tar.Header, r io.Reader) io.Reader {
	if hdr.Size > w.opt.MaxArchiveBytes {
		w.res.Coverage.Skip(finding.SkipSparseLimit)
		return io.LimitReader(r, w.opt.MaxArchiveBytes)
	}
	return r
}

// peeker returns the reusable buffered reader of an archive depth, reset
// to read r.
func (w *walker) peeker(depth int, r io.Reader) *bufio.Reader {
	for len(w.peek) <= depth {
		w.peek = append(w.peek, bufio.NewReaderSize(nil, 4096))
	}
	w.peek[depth].Reset(r)
	return w.peek[depth]
}

// binaryFile runs the path rules on a binary file and, when one matches,
// reads the rest of the file to record its digest as evidence.
func (w *walker) binaryFile(t target, r io.Reader) error {
	ms := finding.Best(w.det.DetectFile(w.ctx, finding.File{Path: t.path}), w.suppressed())
	if len(ms) == 0 {
		return nil
	}
	w.hash.Write(w.unhashed)
	if _, err := io.Copy(w.hash, r); err != nil {
		return fmt.Errorf("reading %s: %w", t.path, err)
	}
	w.add(t, hex.EncodeToString(w.hash.Sum(nil)), ms)
	return nil
}

func (w *walker) suppressed() map[string]int64 {
	if w.res.Coverage.Suppressed == nil {
		w.res.Coverage.Suppressed = map[string]int64{}
	}
	return w.res.Coverage.Suppressed
}

// add records the matches found in the file t as findings. With a
// pipeline, they are recorded after what was queued before them, together
// with what t's windows find, so that findings come in the order of the
// walk.
func (w *walker) add(t target, sum string, ms []finding.Match) {
	if w.pipe != nil {
		w.endFile(t, sum, ms)
		return
	}
	w.record(t, sum, ms)
}

// record makes findings of the matches found in the file t.
func (w *walker) record(t target, sum string, ms []finding.Match) {
	for _, m := range ms {
		w.res.Findings = append(w.res.Findings, finding.Finding{
			RuleID:      m.RuleID,
			Description: m.Description,
			Secret:      m.Secret,
			Severity:    m.Severity,
			Location: finding.Location{
				Kind:           finding.KindLayer,
				LayerIndex:     w.res.Index,
				HistoryIndex:   -1,
				Path:           t.path,
				Line:           m.Line,
				Column:         m.Column,
				Content:        t.content,
				Offset:         m.Offset,
				Status:         finding.Visible,
				RemovedByLayer: -1,
				FileSHA256:     sum,
			},
		})
		w.res.pending = append(w.res.pending, t.ord)
		w.res.filePaths = append(w.res.filePaths, t.layer)
	}
}

// settleSameLayer records which paths of the layer still hold each
// finding's content at its end, and marks findings in files that the same
// layer writes again later in its tarball as overwritten by this layer:
// the last entry wins (Resolve may still find the content through a hard
// link).
func (r *Result) settleSameLayer() {
	r.holders, r.holderOf = nil, make([]int, len(r.Findings))
	for i := range r.Findings {
		loc := &r.Findings[i].Location
		if i > 0 && r.pending[i] == r.pending[i-1] && r.filePaths[i] == r.filePaths[i-1] {
			r.holderOf[i] = r.holderOf[i-1]
		} else {
			r.holderOf[i] = len(r.holders)
			r.holders = append(r.holders, r.holdersOf(r.filePaths[i], r.pending[i]))
		}
		if e, ok := r.writes[pathKey(r.filePaths[i])]; ok && e.ord > r.pending[i] {
			loc.Status = finding.Overwritten
			loc.RemovedByLayer = r.Index
		}
	}
	r.pending = nil
}

// Reindexed returns a copy of r for the same layer content standing at
// index i of another image: its findings are copied and pointed at i, with
// their status as the walk left it; the path sets are shared, read-only.
func (r *Result) Reindexed(i int) *Result {
	c := *r
	c.Index = i
	c.Findings = slices.Clone(r.Findings)
	c.filePaths = slices.Clone(r.filePaths)
	for k := range c.Findings {
		loc := &c.Findings[k].Location
		loc.LayerIndex = i
		if loc.RemovedByLayer == r.Index {
			loc.RemovedByLayer = i
		}
	}
	c.Coverage.Skipped = maps.Clone(r.Coverage.Skipped)
	c.Coverage.Suppressed = maps.Clone(r.Coverage.Suppressed)
	return &c
}
