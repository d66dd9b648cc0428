package history

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Mapping ties layers to the history entries that created them.
type Mapping struct {
	// History[i] is the index of the history entry that created layer i. It
	// is nil when the history cannot be mapped (see Problem).
	History []int
	// Problem explains why the history was not mapped, or is "".
	Problem string
}

// Map maps layers to history entries: the entries that are not empty_layer
// created the layers, in order. When their count differs from the number of
// layers, nothing is mapped and Problem says so; guessing would put the
// wrong Dockerfile step on a finding.
func Map(history []v1.History, layers int) Mapping {
	var idx []int
	for i, h := range history {
		if !h.EmptyLayer {
			idx = append(idx, i)
		}
	}
	switch {
	case len(history) == 0:
		return Mapping{Problem: "the config has no history; layers are not attributed to build steps"}
	case len(idx) != layers:
		return Mapping{Problem: fmt.Sprintf("the config history has %d entries that create layers but the image has %d layers; layers are not attributed to build steps", len(idx), layers)}
	}
	return Mapping{History: idx}
}

// HistoryOf returns the history entry that created layer i, or -1.
func (m Mapping) HistoryOf(layer int) int {
	if layer < 0 || layer >= len(m.History) {
		return -1
	}
	return m.History[layer]
}

// LayerOf returns the layer that history entry h created, or -1 when it
// created none or the history is not mapped.
func (m Mapping) LayerOf(h int) int {
	for l, hi := range m.History {
		if hi == h {
			return l
		}
	}
	return -1
}
