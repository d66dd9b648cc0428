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
}

// scan implements prefilter: the index knows keywords only.
func (k *keywordIndex) scan(text []byte, s *scratch) {
	s.hits = k.find(text, s.hits)
	s.placed = false
}
