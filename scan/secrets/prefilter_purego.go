//go:build !vectorscan

package secrets

// newPrefilter returns the keyword index: this build has no Vectorscan.
func newPrefilter(e *engine, _ string) prefilter { return e.index }
