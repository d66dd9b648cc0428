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

// reuse fills layer i from a cached scan of the same content, reporting its
// bytes as read, or returns false.
func (r *run) reuse(i int, diffID v1.Hash, total int64) (*layers.Result, bool) {
	if r.o.cache == nil || diffID == (v1.Hash{}) {
		return nil, false
	}
	hit, ok := r.o.cache.get(diffID)
	if !ok {
		return nil, false
	}
	l := &r.res.Layers[i]
	l.Integrity, l.SharedWith = hit.layer.Integrity, hit.scannedIn
	if l.Digest == "" {
		l.Digest = hit.layer.Digest
	}
	if l.MediaType == "" {
		l.MediaType = hit.layer.MediaType
	}
	if r.o.progress != nil {
		select {
		case r.o.progress <- Progress{Layer: i, Bytes: r.t.Layers[i].Descriptor.Size, Total: total}:
		case <-r.ctx.Done():
		}
	}
	return hit.walk.Reindexed(i), true
}
