package secrets

// prefilter finds, in one pass over a text, every occurrence of the rules'
// keywords and, where it can tell, where each rule may match. Two builds
// provide one: the keyword index (pure Go: every rule may match wherever
// its keywords are), and Vectorscan (-tags vectorscan), which also runs
// every rule's pattern, loosened into a prefilter (see hsPattern), and
// reports where those matches end.
type prefilter interface {
	// scan appends every keyword occurrence in text to s.hits, in order
	// of position. When it can place the rules' matches it sets s.placed,
	// and for each placed rule n the end offsets of its possible matches
	// in s.ends[n] (none: the rule cannot match); s.loose[n] is set for
	// the rules it cannot place, which may match wherever their keywords
	// are.
	scan(text []byte, s *scratch)
	// name says which prefilter this is, for `imagescan version`.
	name() string
}

func (k *keywordIndex) name() string { return "keyword index (pure Go)" }

// Prefilter names the prefilter the Detector runs: the fast build's
// Vectorscan, or the keyword index (the pure-Go build's, or the fast
// build's when its database could not be built).
func (d *Detector) Prefilter() string { return d.engine.pre.name() }

// scan implements prefilter: the index knows keywords only.
func (k *keywordIndex) scan(text []byte, s *scratch) {
	s.hits = k.find(text, s.hits)
	s.placed = false
}
