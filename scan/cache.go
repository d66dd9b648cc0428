package scan

import (
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/scan/layers"
)

// LayerCache lets the Runs of one process scan a layer they share only
// once: images built on one base, or a daemon's images and the dangling
// stages beside them. Layers are keyed by diff_id, and only a layer that
// was read to its end and verified is shared. It is safe for concurrent
// use and holds every shared layer's path set until it is dropped.
type LayerCache struct {
	mu    sync.Mutex
	walks map[v1.Hash]cachedLayer
}

type cachedLayer struct {
	walk      *layers.Result // as the walk left it, before any Resolve
	layer     Layer
	scannedIn string
}

// NewLayerCache returns an empty cache.
func NewLayerCache() *LayerCache {
	return &LayerCache{walks: map[v1.Hash]cachedLayer{}}
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
	if _, ok := c.walks[diffID]; !ok {
		c.walks[diffID] = cachedLayer{walk: walk.Reindexed(walk.Index), layer: l, scannedIn: fmt.Sprintf("%s layer %d", input, l.Index)}
	}
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
