package secrets

// prefilter finds, in one pass over a text, where the rules may match.
// Two builds provide one: the keyword index (pure Go: every rule may
// match wherever its keywords are), and Vectorscan (-tags vectorscan),
// which runs every rule's pattern, loosened into a prefilter (see
// hsPattern), and reports where those matches end.
type prefilter interface {
	// scan appends keyword occurrences in text to s.hits, in order of
	// position. When it cannot place the rules' matches, those are every
	// occurrence of every keyword. Either way it sets s.present for the
	// keywords that occur in text: the engine's tracked keywords at
	// least (see trackedKeywords). When it can, it sets s.placed, lists
	// the placed rules that may match in s.ended, with the end offsets
	// of their possible matches in s.ends[n] (a rule not listed cannot
	// match), sets s.loose[n] for the rules it cannot place, and appends
	// the occurrences of their keywords, which they run around.
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
	start := len(s.hits)
	s.hits = k.find(text, s.hits)
	clear(s.present)
	for _, h := range s.hits[start:] {
		s.present[h.kw] = true
	}
	s.placed = false
}
