package scan

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan/history"
	"github.com/imagescan/imagescan/scan/layers"
)

// Run scans one image: every layer, in parallel up to WithJobs, and the
// config. It returns the Result together with every error met on the way,
// joined; a layer that fails does not stop the others, and the Result holds
// everything that was read. Each error names the input and, where there is
// one, the layer.
func Run(ctx context.Context, t *Target, det finding.Detector, opts ...Option) (*Result, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.walk.Slots == nil {
		// Layers walked in parallel share their detect slots: no more
		// windows in detection than layers at once.
		o.walk.Slots = make(chan struct{}, o.jobs)
	}
	r := &run{ctx: ctx, t: t, det: det, o: o, res: newResult(t)}
	r.readConfig()
	r.scan()
	r.assemble()
	return r.res, errors.Join(r.errs...)
}

// run holds one Run's state.
type run struct {
	ctx context.Context
	t   *Target
	det finding.Detector
	o   options
	res *Result

	cfg     *history.Config
	diffIDs []v1.Hash
	walks   []*layers.Result
	hist    *history.Result
	docs    []finding.Finding // in the manifest, indexes and attestations
	errs    []error

	warnMu sync.Mutex // layer goroutines add warnings
}

// warn records a warning, once per text.
func (r *run) warn(msg string) {
	r.warnMu.Lock()
	defer r.warnMu.Unlock()
	if !slices.Contains(r.res.Warnings, msg) {
		r.res.Warnings = append(r.res.Warnings, msg)
	}
}

func newResult(t *Target) *Result {
	res := &Result{Input: t.Input, Reference: t.Reference, Layers: make([]Layer, len(t.Layers)), Warnings: slices.Clone(t.Warnings)}
	if t.Digest != (v1.Hash{}) {
		res.Digest = t.Digest.String()
	}
	for i, b := range t.Layers {
		res.Layers[i] = Layer{
			Index:        i,
			Digest:       hashString(b.Descriptor.Digest),
			MediaType:    string(b.Descriptor.MediaType),
			Size:         b.Descriptor.Size,
			HistoryIndex: -1,
		}
	}
	return res
}

// fail records an error that names the input.
func (r *run) fail(format string, args ...any) {
	err := fmt.Errorf("%s: "+format, append([]any{r.t.Input}, args...)...)
	r.errs = append(r.errs, err)
	r.res.Errors = append(r.res.Errors, err.Error())
}

func (r *run) readConfig() {
	sum := sha256.Sum256(r.t.Config)
	got := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)}
	r.res.ConfigDigest = got.String()
	if r.t.ConfigDigest != (v1.Hash{}) && r.t.ConfigDigest != got {
		r.fail("config does not match its digest %s (read %s)", r.t.ConfigDigest, got)
	}
	cfg, err := history.ParseConfig(r.t.Config)
	if err != nil {
		r.fail("config %s: %w", got, err)
		r.res.Findings = history.ScanRaw(r.ctx, r.t.Config, r.det)
		return
	}
	r.cfg, r.diffIDs = cfg, cfg.RootFS.DiffIDs
	r.res.Platform = platform(cfg)
	if len(r.diffIDs) != len(r.t.Layers) {
		r.fail("config lists %d diff_ids but the image has %d layers", len(r.diffIDs), len(r.t.Layers))
	}
}

func platform(cfg *history.Config) string {
	p := cfg.OS + "/" + cfg.Architecture
	if cfg.Variant != "" {
		p += "/" + cfg.Variant
	}
	return p
}

// scanDocuments searches the target's manifest, indexes and attestations.
func (r *run) scanDocuments() {
	for _, d := range r.t.Documents {
		found, deeper := history.ScanDocument(r.ctx, d.Name, d.Raw, r.det)
		r.docs = append(r.docs, found...)
		if deeper > 0 {
			r.warn(fmt.Sprintf("%s: %d values nested more than %d levels deep were not searched", d.Name, deeper, history.MaxDocumentDepth))
		}
	}
}

// scan reads the config's history and every layer, in parallel.
func (r *run) scan() {
	n := len(r.t.Layers)
	r.walks = make([]*layers.Result, n)
	errs := make([]error, n)
	var total int64
	for _, b := range r.t.Layers {
		total += b.Descriptor.Size
	}
	var g errgroup.Group
	g.SetLimit(r.o.jobs)
	if r.cfg != nil {
		g.Go(func() error {
			r.hist = history.Scan(r.ctx, r.cfg, n, r.det)
			return nil
		})
	}
	g.Go(func() error {
		r.scanDocuments()
		return nil
	})
	for i := range n {
		g.Go(func() error {
			r.walks[i], errs[i] = r.scanLayer(i, total)
			return nil
		})
	}
	_ = g.Wait() // the tasks return nil; their errors are in errs
	for i, err := range errs {
		if err != nil {
			r.fail("layer %d%s: %w", i, short(r.res.Layers[i].Digest), err)
		}
		if in := r.res.Layers[i].Integrity; in.Status == Mismatch {
			for _, p := range in.Problems {
				r.fail("layer %d: %s", i, p)
			}
		}
	}
}

// scanLayer walks layer i and records in its Layer how the read went.
//
// A scan of the same content found in this run's LayerCache or in the
// LayerStore spares the detection, never the reading: the layer is still
// read and checked against its digests, and only when it matches the
// content that was scanned (its diff_id) is that scan used. An image that
// claims a cached diff_id for other content is walked afresh.
func (r *run) scanLayer(i int, total int64) (*layers.Result, error) {
	l := &r.res.Layers[i]
	defer r.claim(r.diffID(i))()
	if walk, from := r.cachedWalk(i, r.diffID(i)); walk != nil {
		verified, err := r.readOnly(i, total)
		if err != nil {
			return walk, err
		}
		if verified {
			l.SharedWith = from
			return walk, nil
		}
	}
	return r.walkLayer(i, total)
}

// readOnly reads layer i through its digests without walking it, and
// reports whether it verified.
func (r *run) readOnly(i int, total int64) (bool, error) {
	l := &r.res.Layers[i]
	l.Integrity = Integrity{Status: Unverified, Problems: []string{notReadToEnd}}
	s, err := openLayer(r.ctx, i, r.t.Layers[i], r.o, total)
	if err != nil {
		return false, err
	}
	defer s.close()
	if err := s.readAll(); err != nil {
		return false, err
	}
	s.verify(l, r.t.Layers[i], r.diffID(i))
	return l.Integrity.Status == Verified, nil
}

// walkLayer reads and walks layer i, and keeps a verified walk for reuse.
func (r *run) walkLayer(i int, total int64) (*layers.Result, error) {
	l := &r.res.Layers[i]
	l.Integrity = Integrity{Status: Unverified, Problems: []string{notReadToEnd}}
	s, err := openLayer(r.ctx, i, r.t.Layers[i], r.o, total)
	if err != nil {
		return nil, err
	}
	defer s.close()
	walk, err := layers.Walk(r.ctx, i, s.tar, r.det, r.o.walk)
	if err == nil {
		err = s.drain()
	}
	if err != nil {
		return walk, err
	}
	s.verify(l, r.t.Layers[i], r.diffID(i))
	if l.Integrity.Status == Verified {
		if r.o.cache != nil {
			r.o.cache.put(r.diffID(i), walk, *l, r.t.Input)
		}
		r.toStore(r.diffID(i), walk)
	}
	return walk, nil
}

func (r *run) diffID(i int) v1.Hash {
	if i < len(r.diffIDs) {
		return r.diffIDs[i]
	}
	return v1.Hash{}
}

// assemble resolves file status, attaches history to layers and findings,
// computes ids and fingerprints, and sorts.
func (r *run) assemble() {
	layers.Resolve(r.walks)
	mapping := history.Mapping{}
	if r.hist != nil {
		mapping = r.hist.Layers
		if mapping.Problem != "" {
			r.res.Warnings = append(r.res.Warnings, mapping.Problem)
		}
	}
	for i := range r.res.Layers {
		r.describeLayer(&r.res.Layers[i], mapping)
	}
	r.describeHistory(mapping)
	for _, l := range r.res.Layers {
		switch {
		case l.SharedWith == fromLayerCache:
			r.res.Coverage.CachedLayers++
		case l.SharedWith != "":
			r.res.Coverage.SharedLayers++
		case slices.Contains(l.Integrity.Problems, notReadToEnd):
			r.res.Coverage.Unread++
		default:
			r.res.Coverage.Layers++
		}
	}
	for _, w := range r.walks {
		if w == nil {
			continue
		}
		r.res.Coverage.Add(w.Coverage)
		r.res.Layers[w.Index].Coverage = w.Coverage
		r.res.Findings = append(r.res.Findings, w.Findings...)
	}
	if r.hist != nil {
		r.res.Findings = append(r.res.Findings, r.hist.Findings...)
		if r.hist.Deeper > 0 {
			r.warn(fmt.Sprintf("config: %d values nested more than %d levels deep were not searched", r.hist.Deeper, history.MaxDocumentDepth))
		}
	}
	r.res.Findings = append(r.res.Findings, r.docs...)
	for i := range r.res.Findings {
		r.complete(&r.res.Findings[i])
	}
	slices.SortStableFunc(r.res.Findings, finding.Compare)
}

func (r *run) describeLayer(l *Layer, m history.Mapping) {
	if d := r.diffID(l.Index); d != (v1.Hash{}) {
		l.DiffID = d.String()
	}
	l.HistoryIndex = m.HistoryOf(l.Index)
	if l.HistoryIndex >= 0 {
		l.CreatedBy = r.cfg.History[l.HistoryIndex].CreatedBy
		l.Step = r.hist.Steps[l.HistoryIndex].String()
	}
}

func (r *run) describeHistory(m history.Mapping) {
	if r.hist == nil {
		return
	}
	for i, h := range r.cfg.History {
		st := r.hist.Steps[i]
		e := HistoryEntry{Index: i, CreatedBy: h.CreatedBy, Instruction: st.Instruction, Step: st.String(), LayerIndex: m.LayerOf(i)}
		for _, a := range st.BuildArgs {
			e.BuildArgs = append(e.BuildArgs, a.Name)
		}
		r.res.History = append(r.res.History, e)
	}
}

// complete fills in a finding's layer details, secret id and fingerprint.
func (r *run) complete(f *finding.Finding) {
	loc := &f.Location
	if loc.LayerIndex >= 0 && loc.LayerIndex < len(r.res.Layers) {
		l := r.res.Layers[loc.LayerIndex]
		loc.LayerDigest, loc.DiffID = l.Digest, l.DiffID
		if loc.Kind == finding.KindLayer {
			loc.HistoryIndex, loc.CreatedBy = l.HistoryIndex, l.CreatedBy
			loc.Unverified = l.Integrity.Status != Verified
		}
	}
	var internal string
	switch {
	case !f.Secret.IsZero():
		internal = f.Secret.ID()
	case loc.FileSHA256 != "":
		internal = finding.FileID(loc.FileSHA256)
	default:
		internal = finding.FileID("path:" + loc.Path)
	}
	f.SecretID = r.o.key.SecretID(internal)
	f.Fingerprint = r.o.key.Fingerprint(internal, f.RuleID, *loc)
}

func hashString(h v1.Hash) string {
	if h == (v1.Hash{}) {
		return ""
	}
	return h.String()
}

// short abbreviates a digest for messages: " (sha256:0123456789ab)", or
// "" when the digest is not known.
func short(digest string) string {
	if digest == "" {
		return ""
	}
	return " (" + digest[:min(len(digest), 19)] + ")"
}
