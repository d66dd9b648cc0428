package secrets

import (
	"bytes"
	"context"
	"math"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/report"
)

// The engine runs gitleaks' rules as gitleaks' detector does and finds what
// it finds, but reads less. gitleaks runs every rule whose keyword occurs
// anywhere in a text over the whole text, and then decodes the whole text
// and runs them all again, up to five times. The engine finds every keyword
// in one pass and runs each rule only on windows around that rule's
// keywords, wide enough to hold any match of the rule (see shape); it
// decodes only the stretches that look encoded (see decodedFindings).
// Rules it cannot bound, and texts whose case folding it does not follow,
// run on the whole text. Either way a finding is judged exactly as gitleaks
// judges it: capture group, entropy, allowlists, stop words.
// checkedGitleaks is the gitleaks release whose detector the engine was
// checked against: the differential tests, the fuzz target and the
// realistic image. The engine reproduces that release's judging (capture
// groups, entropy, allowlists, stop words, the generic-rule filter, the
// decoder); a new release must be checked again before this changes, and
// a test fails until it is.
const checkedGitleaks = "v8.30.1"

type engine struct {
	cfg       config.Config
	rules     []plannedRule
	index     *keywordIndex
	pre       prefilter        // the keyword index, or Vectorscan in the fast build
	byKeyword [][]int          // keyword number → rules that have it
	always    []int            // rules without keywords: they run on every text
	unindexed []int            // rules with a keyword the index cannot hold
	longestKw int              // bytes in the longest indexed keyword
	tracked   []int            // keywords whose presence every prefilter reports (see trackedKeywords)
	composite *detect.Detector // gitleaks itself, for multi-part rules; nil if none
	scratch   sync.Pool
}

type plannedRule struct {
	rule     config.Rule
	shape    shape
	windowed bool // the rule runs on windows, not the whole text
	keywords []string
	syntax   *syntax.Regexp // the regex parsed, for the prefilter; nil when it has none
	kwNums   []int          // the numbers of its keywords in the index; none when it has none or the index cannot hold them
	wide     bool           // its runs may cross spaces (see decodeReach)
}

// windowCallBytes is what one regex call costs beyond the bytes it reads,
// counted in bytes read. A rule whose windows would cost more than the
// whole text runs on the whole text.
const windowCallBytes = 2048

// scratch is one text's working memory.
type scratch struct {
	hits    []keywordHit
	placed  bool     // the prefilter placed the rules' matches: ends and loose hold
	ends    [][]int  // rule number → end offsets of its possible matches
	ended   []int    // the rule numbers with ends, in order
	loose   []bool   // rule number → the prefilter cannot place its matches
	present []bool   // keyword number → occurs in the text; known for the tracked keywords at least
	windows [][]span // rule number → its windows, in order
	touched []int    // rule numbers with windows
}

// span is the byte range [start, end) of a text.
type span struct{ start, end int }

func newEngine(cfg config.Config, cacheDir string) *engine {
	e := &engine{cfg: cfg}
	kwNumber := map[string]int{}
	var words []string
	var composite []string
	for _, id := range cfg.OrderedRules {
		r := cfg.Rules[id]
		if len(r.RequiredRules) > 0 || r.SkipReport {
			composite = append(composite, id)
			continue
		}
		pr := plannedRule{rule: r, keywords: lowerAll(r.Keywords)}
		if r.Regex != nil {
			pr.syntax, _ = syntax.Parse(r.Regex.String(), syntax.Perl)
		}
		if pr.syntax != nil {
			pr.shape = shapeOfRegexp(pr.syntax, pr.keywords)
			pr.windowed = pr.shape.ok && pr.shape.keyed
			pr.wide = pr.shape.ok && pr.shape.runs > 0 && !pr.shape.stop[' ']
		}
		n := len(e.rules)
		e.rules = append(e.rules, pr)
		switch {
		case len(pr.keywords) == 0:
			e.always = append(e.always, n)
		case !indexable(pr.keywords):
			e.unindexed = append(e.unindexed, n)
		default:
			for _, k := range pr.keywords {
				num, ok := kwNumber[k]
				if !ok {
					num = len(words)
					kwNumber[k] = num
					words = append(words, k)
					e.byKeyword = append(e.byKeyword, nil)
				}
				e.byKeyword[num] = append(e.byKeyword[num], n)
				e.rules[n].kwNums = append(e.rules[n].kwNums, num)
				e.longestKw = max(e.longestKw, len(k))
			}
		}
	}
	e.index = newKeywordIndex(words)
	e.tracked = e.trackedKeywords()
	e.pre = newPrefilter(e, cacheDir)
	if len(composite) > 0 {
		e.composite = detect.NewDetector(subset(cfg, withRequired(cfg, composite)))
		e.composite.MaxDecodeDepth = maxDecodeDepth
	}
	e.scratch.New = func() any {
		return &scratch{windows: make([][]span, len(e.rules)), ends: make([][]int, len(e.rules)),
			loose: make([]bool, len(e.rules)), present: make([]bool, len(e.index.words))}
	}
	return e
}

// trackedKeywords returns the keywords whose presence in a text the
// engine must know when the prefilter places the rules: those of the
// rules whose matches need not hold one (see planPlaced), and those of
// the wide rules (see decodeReach).
func (e *engine) trackedKeywords() []int {
	var out []int
	for _, pr := range e.rules {
		if pr.rule.Regex != nil && (!pr.shape.keyed || pr.wide) {
			out = append(out, pr.kwNums...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// indexable reports whether the keyword index can hold every keyword: it
// needs two ASCII bytes at least.
func indexable(keywords []string) bool {
	for _, k := range keywords {
		if len(k) < 2 || !isASCII(k) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func lowerAll(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = strings.ToLower(w)
	}
	return out
}

// widest returns a shape that reaches at least as far as a and b.
func widest(a, b shape) shape {
	out := shape{bounded: max(a.bounded, b.bounded), runs: max(a.runs, b.runs), ok: true}
	for i := range out.stop {
		out.stop[i] = (a.stop[i] || a.bounded == 0 && a.runs == 0) && b.stop[i]
	}
	return out
}

// withRequired returns ids and the rules they require, transitively.
func withRequired(cfg config.Config, ids []string) []string {
	seen := map[string]bool{}
	var out []string
	var add func(id string)
	add = func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		out = append(out, id)
		for _, req := range cfg.Rules[id].RequiredRules {
			add(req.RuleID)
		}
	}
	for _, id := range ids {
		add(id)
	}
	return out
}

// subset returns cfg with only the rules ids.
func subset(cfg config.Config, ids []string) config.Config {
	out := cfg
	out.Rules = map[string]config.Rule{}
	out.Keywords = map[string]struct{}{}
	out.OrderedRules = nil
	for _, id := range ids {
		r, ok := cfg.Rules[id]
		if !ok {
			continue
		}
		out.Rules[id] = r
		out.OrderedRules = append(out.OrderedRules, id)
		for _, k := range r.Keywords {
			out.Keywords[strings.ToLower(k)] = struct{}{}
		}
	}
	return out
}

// detect returns gitleaks' findings in text, the content of the file at
// path, with 1-based lines and columns.
func (e *engine) detect(ctx context.Context, path string, text []byte) []report.Finding {
	if pathAllowed(e.cfg.Allowlists, path) {
		return nil
	}
	s := e.scratch.Get().(*scratch)
	defer e.release(s)
	lines := &lineIndex{text: text}
	folding := hasFoldingRunes(text)
	e.plan(s, text, folding)
	var out []report.Finding
	for _, n := range s.touched {
		if ctx.Err() != nil {
			return out
		}
		out = append(out, e.runRule(&e.rules[n], path, text, s.windows[n], lines)...)
	}
	out = append(out, e.decodedFindings(ctx, path, text, folding, s.present, lines)...)
	if e.composite != nil {
		out = append(out, e.gitleaks(ctx, e.composite, path, text, span{0, len(text)}, lines)...)
	}
	return dropGenericDuplicates(out)
}

// dropGenericDuplicates drops, as gitleaks does, a generic rule's finding
// when another rule found a secret on the same line that contains it.
func dropGenericDuplicates(fs []report.Finding) []report.Finding {
	generic := func(f report.Finding) bool { return strings.Contains(strings.ToLower(f.RuleID), "generic") }
	out := fs[:0:0]
	for _, f := range fs {
		dup := false
		for _, g := range fs {
			if generic(f) && !generic(g) && g.StartLine == f.StartLine && strings.Contains(g.Secret, f.Secret) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}

func (e *engine) release(s *scratch) {
	for _, n := range s.touched {
		s.windows[n] = s.windows[n][:0]
	}
	s.touched = s.touched[:0]
	s.hits = s.hits[:0]
	e.scratch.Put(s)
}

// plan decides which rules run on text, and where: s.touched lists them,
// s.windows holds their windows. A text with folding runes (see
// hasFoldingRunes) has no windows and no placement. Where the prefilter
// places a rule's possible matches, the rule runs around them alone, and
// not at all when there are none; gitleaks' condition that a keyword of
// the rule occurs in the text still holds.
func (e *engine) plan(s *scratch, text []byte, folding bool) {
	e.pre.scan(text, s)
	// The prefilter folds ASCII letters only: a text with the runes that
	// fold to them is not placed.
	placed := s.placed && !folding
	runs := func(n int) bool { return !placed || s.loose[n] || len(s.ends[n]) > 0 }
	whole := span{0, len(text)}
	for _, n := range e.always {
		if runs(n) {
			e.addWindow(s, n, whole)
		}
	}
	var lower []byte
	for _, n := range e.unindexed {
		if !runs(n) {
			continue
		}
		if lower == nil {
			lower = bytes.ToLower(text)
		}
		if containsAny(string(lower), e.rules[n].keywords) {
			e.addWindow(s, n, whole)
		}
	}
	if folding {
		for _, kw := range e.index.keywordsOf(text) {
			for _, n := range e.byKeyword[kw] {
				if runs(n) {
					e.addWindow(s, n, whole)
				}
			}
		}
		return
	}
	if placed {
		e.planPlaced(s, text)
	} else {
		e.planByKeywords(s, text, func(int) bool { return true })
	}
	for _, n := range s.touched {
		s.windows[n] = cheaper(s.windows[n], len(text))
	}
}

// planByKeywords opens, for each rule that runs, windows around its
// keywords.
func (e *engine) planByKeywords(s *scratch, text []byte, runs func(n int) bool) {
	for _, h := range s.hits {
		for _, n := range e.byKeyword[h.kw] {
			if runs(n) {
				e.addWindow(s, n, e.window(s, n, text, h))
			}
		}
	}
}

// planPlaced opens windows where the prefilter placed the rules' possible
// matches, for the rules one of whose keywords occurs in the text; the
// rules it could not place get windows around their keywords, or the
// whole text when their matches cannot be bounded around one. A rule
// every match of which holds one of its keywords (shape.keyed) needs no
// look for them: a match found is one. For the others (six of gitleaks'
// rules) the prefilter tracks its keywords.
func (e *engine) planPlaced(s *scratch, text []byte) {
	for n := range e.rules {
		pr := &e.rules[n]
		if s.loose[n] && !pr.windowed && slices.ContainsFunc(pr.kwNums, func(kw int) bool { return s.present[kw] }) {
			e.addWindow(s, n, span{0, len(text)})
		}
	}
	for _, n := range s.ended {
		pr := &e.rules[n]
		if len(pr.kwNums) == 0 {
			continue // without keywords, or with keywords the index cannot hold: plan runs it
		}
		if !pr.shape.keyed && !slices.ContainsFunc(pr.kwNums, func(kw int) bool { return s.present[kw] }) {
			continue
		}
		e.placeWindows(s, n, text, s.ends[n])
	}
	e.planByKeywords(s, text, func(n int) bool { return s.loose[n] && e.rules[n].windowed })
}

// placeWindows opens rule n's windows around the ends of its possible
// matches: each holds every match that takes the byte before the end.
func (e *engine) placeWindows(s *scratch, n int, text []byte, ends []int) {
	whole := span{0, len(text)}
	pr := &e.rules[n]
	if !pr.shape.ok {
		e.addWindow(s, n, whole)
		return
	}
	if ends[0] < 0 { // too many to place
		e.addWindow(s, n, whole)
		return
	}
	for _, end := range ends {
		if ws := s.windows[n]; len(ws) > 0 && ws[len(ws)-1] == whole {
			return
		}
		w, ok := pr.shape.around(text, max(end-1, 0), end)
		if !ok {
			w = whole
		}
		e.addWindow(s, n, w)
	}
}

// window returns rule n's window around keyword hit h: the whole text for
// a rule that cannot be bounded, or that already runs on the whole text.
func (e *engine) window(s *scratch, n int, text []byte, h keywordHit) span {
	whole := span{0, len(text)}
	pr := &e.rules[n]
	if ws := s.windows[n]; !pr.windowed || len(ws) > 0 && ws[len(ws)-1] == whole {
		return whole
	}
	w, ok := pr.shape.around(text, h.pos, h.pos+len(e.index.words[h.kw]))
	if !ok {
		return whole
	}
	return w
}

// addWindow adds w to rule n's windows, merging it with the last one when
// the gap between them costs less to read than a regex call. Windows come
// in order of their keywords, so only the last one can be that close.
// A window that spans two is still exact: every true match lies in one of
// them, and what the regex finds between them, away from the edges, is a
// true match too.
func (e *engine) addWindow(s *scratch, n int, w span) {
	ws := s.windows[n]
	if len(ws) == 0 {
		s.touched = append(s.touched, n)
		s.windows[n] = append(ws, w)
		return
	}
	last := &ws[len(ws)-1]
	if w.start <= last.end+windowCallBytes {
		last.start = min(last.start, w.start)
		last.end = max(last.end, w.end)
		return
	}
	s.windows[n] = append(ws, w)
}

// cheaper returns the windows, or the whole text when reading it at once
// costs less than the windows' calls.
func cheaper(ws []span, size int) []span {
	cost := 0
	for _, w := range ws {
		cost += w.end - w.start + windowCallBytes
	}
	if cost < size || len(ws) == 1 && ws[0] == (span{0, size}) {
		return ws
	}
	return append(ws[:0], span{0, size})
}

// around returns the window that holds every match of the shape's regex
// that contains the keyword at text[start:end], with a byte to spare on
// each side (see matches). It returns false when a run is longer than
// maxRunBytes: stepping over such runs for every keyword in them would
// cost more than reading the whole text.
func (sh *shape) around(text []byte, start, end int) (span, bool) {
	for range sh.runs {
		start = max(0, start-sh.bounded)
		for from := start; start > 0 && !sh.stop[text[start-1]]; start-- {
			if from-start > maxRunBytes {
				return span{}, false
			}
		}
		end = min(len(text), end+sh.bounded)
		for from := end; end < len(text) && !sh.stop[text[end]]; end++ {
			if end-from > maxRunBytes {
				return span{}, false
			}
		}
	}
	return span{max(0, start-sh.bounded-1), min(len(text), end+sh.bounded+1)}, true
}

// runRule runs one rule on its windows of text.
func (e *engine) runRule(pr *plannedRule, path string, text []byte, windows []span, lines *lineIndex) []report.Finding {
	r := &pr.rule
	if pathAllowed(r.Allowlists, path) {
		return nil
	}
	if r.Path != nil {
		if !r.Path.MatchString(path) {
			return nil
		}
		if r.Regex == nil {
			return []report.Finding{{RuleID: r.RuleID, Description: r.Description, File: path,
				Match: "file detected: " + path, Tags: r.Tags}}
		}
	}
	if r.Regex == nil {
		return nil
	}
	var out []report.Finding
	for _, m := range e.matches(r, text, windows) {
		if f, ok := e.judgeMatch(r, path, text, m, lines); ok {
			out = append(out, f)
		}
	}
	return out
}

// matches returns the rule's matches in its windows. A window is cut out
// of the text, so its edges can make the regex match where it would not in
// the whole text (a \b, ^ or $ at the cut). The windows are built to hold
// every true match with a byte to spare, so a match that touches a cut is
// such an artefact; when one appears, the rule runs on the whole text
// instead, which is always exact.
func (e *engine) matches(r *config.Rule, text []byte, windows []span) []span {
	var out []span
	for _, w := range windows {
		for _, m := range r.Regex.FindAllIndex(text[w.start:w.end], -1) {
			s := span{w.start + m[0], w.start + m[1]}
			if s.start == w.start && w.start > 0 || s.end == w.end && w.end < len(text) {
				return e.matches(r, text, []span{{0, len(text)}})
			}
			out = append(out, s)
		}
	}
	return out
}

// candidate is a match on its way to a finding.
type candidate struct {
	secret  string // the match, without surrounding newlines
	start   int    // where it starts in the original text
	end     int    // … and ends: the finding's line is the original lines of start:end
	decoded bool   // the regex saw decoded text …
	context string // … whose lines these are, which allowlists see
	tags    []string
}

// judgeMatch judges one match of the rule in the original text.
func (e *engine) judgeMatch(r *config.Rule, path string, text []byte, m span, lines *lineIndex) (report.Finding, bool) {
	raw := string(text[m.start:m.end])
	secret := strings.Trim(raw, "\n")
	start := m.start + strings.Index(raw, secret)
	return e.judge(r, path, candidate{secret: secret, start: start, end: start + len(secret), tags: r.Tags}, lines)
}

// judge turns a match into a finding, or rejects it, by gitleaks' rules:
// the secret is the match, or its first non-empty capture group (or the
// rule's secretGroup); it must beat the rule's entropy and pass the global
// and the rule's allowlists; a line marked gitleaks:allow is skipped.
//
// The checks are pure, so their order does not change the verdict: the
// secret's own (capture group, entropy) come first, and the text's lines
// are found only for a match that passes them. Most matches of the
// generic rule fail on entropy.
func (e *engine) judge(r *config.Rule, path string, c candidate, lines *lineIndex) (report.Finding, bool) {
	f := report.Finding{
		RuleID: r.RuleID, Description: r.Description, File: path, Tags: c.tags,
		Match: c.secret, Secret: c.secret,
	}
	if groups := r.Regex.FindStringSubmatch(c.secret); len(groups) >= 2 {
		if r.SecretGroup > 0 {
			if len(groups) <= r.SecretGroup {
				return f, false
			}
			f.Secret = groups[r.SecretGroup]
		} else {
			for _, g := range groups[1:] {
				if g != "" {
					f.Secret = g
					break
				}
			}
		}
	}
	h := entropy(f.Secret)
	f.Entropy = float32(h)
	if r.Entropy != 0 && h <= r.Entropy {
		return f, false
	}
	f.Line = string(lines.around(c.start, max(c.start, c.end)))
	if strings.Contains(f.Line, "gitleaks:allow") {
		return f, false
	}
	f.StartLine, f.StartColumn = lines.position(c.start)
	withContext := f
	if c.decoded {
		withContext.Line = c.context
	}
	if findingAllowed(e.cfg.Allowlists, withContext, path) || findingAllowed(r.Allowlists, withContext, path) {
		return f, false
	}
	return f, true
}

// gitleaks runs gitleaks' own detector d on text[w.start:w.end] and
// places its findings in the whole text, with 1-based columns.
func (e *engine) gitleaks(ctx context.Context, d *detect.Detector, path string, text []byte, w span, lines *lineIndex) []report.Finding {
	first, _ := lines.position(w.start)
	fs := d.DetectContext(ctx, detect.Fragment{Raw: string(text[w.start:w.end]), FilePath: path, StartLine: first})
	for i := range fs {
		// gitleaks counts columns from the window's start on its first
		// line, and from the newline before them on the others.
		if fs[i].StartLine == first {
			fs[i].StartColumn += w.start - lines.lineStart(first-1)
		} else {
			fs[i].StartColumn--
		}
	}
	return fs
}

// entropy is the Shannon entropy of s's runes, in bits.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	counts := map[rune]int{}
	for _, r := range s {
		counts[r]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}

// pathAllowed reports whether an allowlist skips the file at path
// outright: by path alone, or, when all its conditions must hold, by path
// and commit when it has no regexes or stop words to check per finding.
// Images have no commits, so a commit condition never holds.
func pathAllowed(lists []*config.Allowlist, path string) bool {
	if path == "" {
		return false
	}
	for _, a := range lists {
		if a.MatchCondition != config.AllowlistMatchAnd {
			if a.PathAllowed(path) {
				return true
			}
			continue
		}
		if len(a.Regexes) > 0 || len(a.StopWords) > 0 {
			continue
		}
		if len(a.Commits) == 0 && (len(a.Paths) == 0 || a.PathAllowed(path)) {
			return true
		}
	}
	return false
}

// findingAllowed reports whether an allowlist lets a finding go: by a
// regex on its secret, match or line, or a stop word in its secret; when
// all conditions must hold, by all of those it has, path included.
func findingAllowed(lists []*config.Allowlist, f report.Finding, path string) bool {
	for _, a := range lists {
		target := f.Secret
		switch a.RegexTarget {
		case "match":
			target = f.Match
		case "line":
			target = f.Line
		}
		regex := a.RegexAllowed(target)
		stop, _ := a.ContainsStopWord(f.Secret)
		if a.MatchCondition != config.AllowlistMatchAnd {
			if regex || stop {
				return true
			}
			continue
		}
		all := len(a.Commits) == 0 &&
			(len(a.Paths) == 0 || a.PathAllowed(path)) &&
			(len(a.Regexes) == 0 || regex) &&
			(len(a.StopWords) == 0 || stop)
		if all {
			return true
		}
	}
	return false
}
