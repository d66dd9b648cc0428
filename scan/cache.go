package scan

import (
	"context"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/scan/layers"
)

// LayerCache lets the Runs of one process scan a layer they share only
// once: images built on one base, or a daemon's images and the dangling
// stages beside them. Layers are keyed by diff_id, and only a layer that
// was read to its end and verified is shared. A Run that meets a layer
// another Run is walking waits for that walk rather than repeating it. It
// is safe for concurrent use and holds the shared layers' path sets: all
// of them, or the latest ones up to a bound.
type LayerCache struct {
	mu    sync.Mutex
	walks map[v1.Hash]cachedLayer
	order []v1.Hash // oldest first, when bounded
	max   int       // 0: no bound
	busy  map[v1.Hash]chan struct{}
}

type cachedLayer struct {
	walk      *layers.Result // as the walk left it, before any Resolve
	layer     Layer
	scannedIn string
}

// NewLayerCache returns an empty cache that keeps every layer.
func NewLayerCache() *LayerCache {
	return NewBoundedLayerCache(0)
}

// NewBoundedLayerCache returns an empty cache that keeps the latest max
// layers (every layer when max is 0), so that a long run, a registry
// sweep, holds a bounded memory. A layer it no longer holds is scanned
// again, unless a LayerStore keeps it.
func NewBoundedLayerCache(max int) *LayerCache {
	return &LayerCache{walks: map[v1.Hash]cachedLayer{}, max: max, busy: map[v1.Hash]chan struct{}{}}
}

// WithLayerCache shares layer scans through c. By default every layer is
// scanned.
func WithLayerCache(c *LayerCache) Option {
	return func(o *options) error {
		o.cache = c
		return nil
	}
}

func (c *LayerCache) get(diffID v1.Hash) (cachedLayer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	hit, ok := c.walks[diffID]
	return hit, ok
}

func (c *LayerCache) put(diffID v1.Hash, walk *layers.Result, l Layer, input string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.walks[diffID]; ok {
		return
	}
	c.walks[diffID] = cachedLayer{walk: walk.Reindexed(walk.Index), layer: l, scannedIn: fmt.Sprintf("%s layer %d", input, l.Index)}
	if c.max == 0 {
		return
	}
	c.order = append(c.order, diffID)
	for len(c.order) > c.max {
		delete(c.walks, c.order[0])
		c.order = c.order[1:]
	}
}

// claim marks diffID as being walked by the caller and returns the
// function that ends the claim, or hit when the cache holds the layer.
// While another caller holds the claim, claim waits (or until ctx ends):
// its walk, once cached, spares this one.
func (c *LayerCache) claim(ctx context.Context, diffID v1.Hash) (release func(), hit bool) {
	for {
		c.mu.Lock()
		if _, ok := c.walks[diffID]; ok {
			c.mu.Unlock()
			return func() {}, true
		}
		wait, busy := c.busy[diffID]
		if !busy {
			done := make(chan struct{})
			c.busy[diffID] = done
			c.mu.Unlock()
			return func() {
				c.mu.Lock()
				delete(c.busy, diffID)
				c.mu.Unlock()
				close(done)
			}, false
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return func() {}, false
		}
	}
}

// LayerClaimer is a LayerStore that several processes share and that
// lets one of them scan a layer while the others wait for its entry (see
// layercache.Redis.Claim).
type LayerClaimer interface {
	Claim(ctx context.Context, key string) (release func())
}

// claim waits while another Run of this process, or another process
// sharing the LayerStore, walks layer content diffID, and returns the
// function that ends this Run's own claim on it.
func (r *run) claim(diffID v1.Hash) func() {
	if diffID == (v1.Hash{}) {
		return func() {}
	}
	release := func() {}
	if r.o.cache != nil {
		var hit bool
		if release, hit = r.o.cache.claim(r.ctx, diffID); hit {
			return release
		}
	}
	if c, ok := r.o.store.(LayerClaimer); ok {
		mine := c.Claim(r.ctx, r.storeKey(diffID))
		return func() { mine(); release() }
	}
	return release
}

// cachedWalk returns a scan of layer i's content (by its diff_id) from
// this run's LayerCache or from the LayerStore, with where it came from,
// or nil. The caller still reads and verifies the layer.
func (r *run) cachedWalk(i int, diffID v1.Hash) (*layers.Result, string) {
	if diffID == (v1.Hash{}) {
		return nil, ""
	}
	if r.o.cache != nil {
		if hit, ok := r.o.cache.get(diffID); ok {
			return hit.walk.Reindexed(i), hit.scannedIn
		}
	}
	if walk := r.fromStore(i, diffID); walk != nil {
		return walk, fromLayerCache
	}
	return nil, ""
}

// fromLayerCache is Layer.SharedWith for a scan the LayerStore held.
const fromLayerCache = "the layer cache"

// LayerStore keeps layer scans between runs (package layercache).
type LayerStore interface {
	Get(key string) ([]byte, bool)
	Put(key string, data []byte) error
	Delete(key string) error
}

// WithLayerStore keeps layer scans in s between runs. rules identifies the
// detector's rule set, so that entries of other rules are never used.
// Entries hold redacted secrets only unless withSecrets; a run with
// withSecrets does not use entries without them, and rescans those layers.
// By default nothing is stored.
func WithLayerStore(s LayerStore, rules string, withSecrets bool) Option {
	return func(o *options) error {
		o.store, o.storeRules, o.storeSecrets = s, rules, withSecrets
		return nil
	}
}

// storeKey identifies a layer scan: its content, the rules and the options
// that shape what a walk finds.
func (r *run) storeKey(diffID v1.Hash) string {
	return fmt.Sprintf("%s|%s|%s|%d", diffID, r.o.storeRules, r.o.walk.Key(), r.o.maxRatio)
}

// fromStore returns layer i's scan from the LayerStore, or nil.
func (r *run) fromStore(i int, diffID v1.Hash) *layers.Result {
	if r.o.store == nil {
		return nil
	}
	key := r.storeKey(diffID)
	data, ok := r.o.store.Get(key)
	if !ok {
		return nil
	}
	walk, withheld, err := layers.FromSnapshot(data, i)
	if err != nil {
		_ = r.o.store.Delete(key) // unreadable: rescan, and store it anew
		return nil
	}
	if withheld && r.o.storeSecrets {
		return nil // the run wants the values, which the entry does not hold
	}
	return walk
}

// toStore keeps a verified layer's walk in the layer cache.
func (r *run) toStore(diffID v1.Hash, walk *layers.Result) {
	if r.o.store == nil || diffID == (v1.Hash{}) {
		return
	}
	data, ok, err := walk.Snapshot(r.o.storeSecrets)
	if err == nil && ok {
		err = r.o.store.Put(r.storeKey(diffID), data)
	}
	if err != nil {
		r.warn("layer cache: " + err.Error())
	}
}
