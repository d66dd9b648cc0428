package layers

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/imagescan/imagescan/finding"
)

// A secret found in a git object is placed in its repository's history:
// which commits hold the blob, at which path, and whether the commit
// checked out (HEAD) holds it or only history does. The walk keeps, for
// each repository in the layer, its commits, trees and refs as their
// objects and files go by, and places the findings when it ends.

// maxGitMeta bounds a commit, tree or ref file kept to place findings.
const maxGitMeta = 1 << 20

// maxPlacedCommits bounds the commits named for one blob.
const maxPlacedCommits = 3

// gitObjectPath matches where a finding in a git object lies: a loose
// object (REPO/objects/ab/cdef…!blob) or an object in a pack
// (REPO/objects/pack/pack-….pack!blob/abcdef…).
var gitObjectPath = regexp.MustCompile(`^(.+)/objects/(?:([0-9a-f]{2})/([0-9a-f]{38})!(?:blob|commit|tag|tree)|pack/[^/!]+\.pack!(?:blob|commit|tag|tree)/([0-9a-f]{40}))`)

// gitRefPath matches a repository's HEAD, packed-refs and loose refs.
var gitRefPath = regexp.MustCompile(`^(.+)/(HEAD|packed-refs|refs/.+)$`)

// gitRepo is what the walk knows of one repository.
type gitRepo struct {
	commits map[string]gitCommit
	trees   map[string][]gitEntry
	refs    map[string]string // ref name (or HEAD) → its content: an id, or "ref: NAME"
	sorted  []string          // the commits' ids, newest first, once placing begins
}

type gitCommit struct {
	tree string
	time int64
}

type gitEntry struct {
	name, id string
	tree     bool
}

func (w *walker) repo(dir string) *gitRepo {
	if w.git == nil {
		w.git = map[string]*gitRepo{}
	}
	r := w.git[dir]
	if r == nil {
		r = &gitRepo{commits: map[string]gitCommit{}, trees: map[string][]gitEntry{}, refs: map[string]string{}}
		w.git[dir] = r
	}
	return r
}

// keepGitObject keeps a commit or tree of the repository whose objects
// directory holds the object at path, named by its type (commit, tree)
// and id. content is the object's content.
func (w *walker) keepGitObject(repoDir, kind, id string, content []byte) {
	r := w.repo(repoDir)
	switch kind {
	case "commit":
		if c, ok := parseCommit(content); ok {
			r.commits[id] = c
		}
	case "tree":
		r.trees[id] = parseTree(content)
	}
}

// gitMeta reads a commit or tree object whole, up to maxGitMeta, to keep
// it, and returns a reader of the same content for scanning.
func (w *walker) gitMeta(repoDir, kind, id string, r io.Reader) io.Reader {
	if kind != "commit" && kind != "tree" {
		return r
	}
	head, err := io.ReadAll(io.LimitReader(r, maxGitMeta))
	if err == nil && len(head) < maxGitMeta {
		w.keepGitObject(repoDir, kind, id, head)
	}
	return io.MultiReader(bytes.NewReader(head), r)
}

// gitRef reads a ref file (HEAD, packed-refs, refs/…) at path to keep it,
// and returns a reader of the same content for scanning.
func (w *walker) gitRef(path string, r io.Reader) io.Reader {
	if !strings.Contains(path, "HEAD") && !strings.Contains(path, "refs") {
		return r
	}
	m := gitRefPath.FindStringSubmatch(path)
	if m == nil || !strings.HasSuffix(m[1], ".git") && !strings.Contains(path, ".git/") {
		return r
	}
	head, err := io.ReadAll(io.LimitReader(r, maxGitMeta))
	if err != nil {
		return io.MultiReader(bytes.NewReader(head), r)
	}
	repo := w.repo(m[1])
	if m[2] == "packed-refs" {
		sc := bufio.NewScanner(bytes.NewReader(head))
		for sc.Scan() {
			if id, name, ok := strings.Cut(sc.Text(), " "); ok && isObjectID(id) {
				repo.refs[name] = id
			}
		}
	} else {
		repo.refs[m[2]] = strings.TrimSpace(string(head))
	}
	return io.MultiReader(bytes.NewReader(head), r)
}

func isObjectID(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// parseCommit reads a commit's tree and committer time.
func parseCommit(content []byte) (gitCommit, bool) {
	var c gitCommit
	for _, line := range strings.Split(string(content), "\n") {
		if line == "" {
			break // the message follows
		}
		if id, ok := strings.CutPrefix(line, "tree "); ok && isObjectID(id) {
			c.tree = id
		}
		if who, ok := strings.CutPrefix(line, "committer "); ok {
			f := strings.Fields(who)
			if len(f) >= 2 {
				c.time, _ = strconv.ParseInt(f[len(f)-2], 10, 64)
			}
		}
	}
	return c, c.tree != ""
}

// parseTree reads a tree's entries: "MODE NAME\0" and a 20-byte id each.
func parseTree(content []byte) []gitEntry {
	var out []gitEntry
	for len(content) > 0 {
		sp := bytes.IndexByte(content, ' ')
		nul := bytes.IndexByte(content, 0)
		if sp < 0 || nul < sp || nul+21 > len(content) {
			break
		}
		mode := string(content[:sp])
		out = append(out, gitEntry{name: string(content[sp+1 : nul]), id: hexID(content[nul+1 : nul+21]), tree: mode == "40000"})
		content = content[nul+21:]
	}
	return out
}

func hexID(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 40)
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// placeGitFindings names, for each finding in a git blob, its repository,
// the blob's id, the newest commits that hold it and at which path, and
// whether HEAD's commit holds it.
// The findings of one object share its place, worked out once.
func (r *Result) placeGitFindings(repos map[string]*gitRepo) {
	placed := map[[2]string]*finding.GitPlace{}
	for i := range r.Findings {
		loc := &r.Findings[i].Location
		m := gitObjectPath.FindStringSubmatch(loc.Path)
		if m == nil {
			continue
		}
		key := [2]string{m[1], m[2] + m[3] + m[4]}
		if placed[key] == nil {
			placed[key] = &finding.GitPlace{Repository: key[0], Object: key[1]}
			if repo := repos[key[0]]; repo != nil {
				repo.place(placed[key])
			}
		}
		loc.Git = placed[key]
	}
}

// newestFirst returns the repository's commits, newest first.
func (g *gitRepo) newestFirst() []string {
	if g.sorted == nil {
		g.sorted = make([]string, 0, len(g.commits))
		for id := range g.commits {
			g.sorted = append(g.sorted, id)
		}
		slices.SortFunc(g.sorted, func(a, b string) int {
			if d := g.commits[b].time - g.commits[a].time; d != 0 {
				return int(max(min(d, 1), -1))
			}
			return strings.Compare(a, b)
		})
	}
	return g.sorted
}

// place finds the commits that hold blob p.Object, newest first.
func (g *gitRepo) place(p *finding.GitPlace) {
	paths := map[string]string{} // tree id → the blob's path in it, "" when absent
	for _, id := range g.newestFirst() {
		at := g.pathIn(g.commits[id].tree, p.Object, paths, 0)
		if at == "" {
			continue
		}
		if len(p.Commits) < maxPlacedCommits {
			p.Commits = append(p.Commits, finding.GitCommit{ID: id, Path: at})
		} else {
			p.MoreCommits++
		}
	}
	if head := g.resolve("HEAD", 0); head != "" {
		if c, ok := g.commits[head]; ok {
			p.CheckedOut = g.pathIn(c.tree, p.Object, paths, 0) != ""
			p.HeadKnown = true
		}
	}
}

// pathIn returns the path of blob in tree, or "", remembering each tree's
// answer: a tree seen in many commits is read once.
func (g *gitRepo) pathIn(tree, blob string, memo map[string]string, depth int) string {
	if at, ok := memo[tree]; ok || depth > 64 {
		return at
	}
	memo[tree] = "" // a tree that contains itself is not followed again
	for _, e := range g.trees[tree] {
		switch {
		case !e.tree && e.id == blob:
			memo[tree] = e.name
		case e.tree:
			if at := g.pathIn(e.id, blob, memo, depth+1); at != "" {
				memo[tree] = e.name + "/" + at
			}
		}
		if memo[tree] != "" {
			break
		}
	}
	return memo[tree]
}

// resolve follows a ref ("ref: refs/heads/main") to a commit id.
func (g *gitRepo) resolve(name string, depth int) string {
	v, ok := g.refs[name]
	if !ok || depth > 8 {
		return ""
	}
	if target, ok := strings.CutPrefix(v, "ref: "); ok {
		return g.resolve(target, depth+1)
	}
	if isObjectID(v) {
		return v
	}
	return ""
}
