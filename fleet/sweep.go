// Package fleet sweeps a registry: it lists the repositories (the
// catalog, or a list the caller gives), their tags and the digests the
// tags name, scans each distinct image once, and adds a row per image to a
// report.Fleet. A sweep can be split by repository into shards, one per
// machine or Kubernetes pod, whose reports report.Fleet.Merge combines.
// Like every library package here it prints nothing.
package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/source"
)

// Config says what to sweep and how.
type Config struct {
	Registry *source.Registry
	Prefix   string
	// Repositories, when set, are swept instead of the catalog's (for
	// registries without a catalog API).
	Repositories []string
	Shard        report.Shard
	// TagsLimit keeps the newest TagsLimit images of each repository, by
	// their config's created time; 0 keeps every tag.
	TagsLimit int
	// Jobs is how many images are scanned at once.
	Jobs     int
	Platform string
	// Done reports whether an earlier report already holds digest for
	// repository repo (for any repository when repo is ""): it is not
	// scanned again (--resume).
	Done func(repo, digest string) bool
	// Scan scans one image.
	Scan func(context.Context, *scan.Target) (*scan.Result, error)
	// Progress, when set, is called after each change of the counts.
	Progress func(Progress)
}

// Progress counts a sweep's images so far.
type Progress struct {
	Found, Done, Skipped int // images (distinct digests) found, scanned, skipped as done before
	LayersShared         int64
	Findings             int
}

// InShard reports whether repo belongs to shard s: a sweep split into
// s.Count shards gives each repository to exactly one, whatever the
// catalog's order or which repositories each shard sees.
func InShard(repo string, s report.Shard) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(repo))
	return h.Sum64()%uint64(s.Count) == uint64(s.Index)
}

// unit is one image to scan: a digest some tags of a repository name.
type unit struct {
	repo   string
	tags   []string
	digest v1.Hash
}

// sweeper holds one Sweep's state.
type sweeper struct {
	cfg   Config
	fleet *report.Fleet

	mu       sync.Mutex
	seen     map[v1.Hash]bool // digests already given to a worker
	aliases  []unit           // units whose digest another repository's unit scans
	progress Progress
}

// Sweep sweeps the registry cfg names into f. It returns when every
// repository of the shard is swept or ctx ends; what could not be read is
// in f as error rows, and an interruption leaves f incomplete.
func Sweep(ctx context.Context, cfg Config, f *report.Fleet) {
	start := time.Now()
	s := &sweeper{cfg: cfg, fleet: f, seen: map[v1.Hash]bool{}}
	repos := cfg.Repositories
	if repos == nil {
		var err error
		repos, err = cfg.Registry.Repositories(ctx, cfg.Prefix)
		if err != nil {
			f.Fail(err)
			f.Complete = false
		}
	}
	repos = slices.DeleteFunc(slices.Clone(repos), func(r string) bool { return !InShard(r, cfg.Shard) })
	units := make(chan unit)
	var g errgroup.Group
	g.Go(func() error {
		defer close(units)
		s.list(ctx, repos, units)
		return nil
	})
	for range max(cfg.Jobs, 1) {
		g.Go(func() error {
			for u := range units {
				s.scan(ctx, u)
			}
			return nil
		})
	}
	_ = g.Wait()
	for _, u := range s.aliases {
		if !f.AddTags(report.ImageRef{Repository: u.repo, Tags: u.tags}, u.digest.String()) {
			f.AddError(report.ImageRef{Repository: u.repo, Tags: u.tags}, u.digest.String(), fmt.Errorf("%s: not scanned", u.digest))
		}
	}
	if ctx.Err() != nil {
		f.Complete = false
		f.Fail(fmt.Errorf("interrupted after %d of %d images; the report holds those read before (--resume continues)", s.progress.Done, s.progress.Found))
	}
	f.Seconds += time.Since(start).Seconds()
}

// list sends the images of each repository, a unit per distinct digest.
func (s *sweeper) list(ctx context.Context, repos []string, units chan<- unit) {
	for _, repo := range repos {
		if ctx.Err() != nil {
			return
		}
		us, err := s.images(ctx, repo)
		if err != nil {
			s.mu.Lock()
			s.fleet.AddError(report.ImageRef{Repository: repo}, "", err)
			s.mu.Unlock()
		}
		for _, u := range us {
			if !s.take(u) {
				continue
			}
			select {
			case units <- u:
			case <-ctx.Done():
				return
			}
		}
	}
}

// take counts u and reports whether a worker should scan it: not when an
// earlier report holds it, nor when another repository's unit scans it.
func (s *sweeper) take(u unit) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := func(repo string) bool { return s.cfg.Done != nil && s.cfg.Done(repo, u.digest.String()) }
	switch {
	case done(u.repo):
		s.progress.Skipped++
	case s.seen[u.digest] || done(""):
		s.aliases = append(s.aliases, u)
	default:
		s.seen[u.digest] = true
		s.progress.Found++
		s.report()
		return true
	}
	s.report()
	return false
}

func (s *sweeper) report() {
	if s.cfg.Progress != nil {
		s.cfg.Progress(s.progress)
	}
}

// images lists a repository's tags and groups them by the digest each
// names, newest first when TagsLimit keeps some.
func (s *sweeper) images(ctx context.Context, repo string) ([]unit, error) {
	tags, err := s.cfg.Registry.Tags(ctx, repo)
	if len(tags) == 0 && err != nil {
		return nil, err
	}
	var errs []error
	if err != nil {
		errs = append(errs, err) // the tags listed are swept all the same
	}
	slices.Sort(tags)
	digests, resolveErrs := s.resolve(ctx, repo, tags)
	var us []unit
	at := map[v1.Hash]int{}
	for i, tag := range tags {
		d := digests[i]
		if resolveErrs[i] != nil {
			errs = append(errs, fmt.Errorf("tag %s: %w", tag, resolveErrs[i]))
			continue
		}
		if i, ok := at[d]; ok {
			us[i].tags = append(us[i].tags, tag)
			continue
		}
		at[d] = len(us)
		us = append(us, unit{repo: repo, tags: []string{tag}, digest: d})
	}
	if s.cfg.TagsLimit > 0 && len(us) > s.cfg.TagsLimit {
		us = s.newest(ctx, us)
	}
	if len(errs) > 0 {
		return us, errors.Join(errs...) // a line each
	}
	return us, nil
}

// resolvers is how many tags of a repository are resolved at once: each
// is a round trip to the registry.
const resolvers = 8

// resolve returns the digest each tag names, or why not.
func (s *sweeper) resolve(ctx context.Context, repo string, tags []string) ([]v1.Hash, []error) {
	digests, errs := make([]v1.Hash, len(tags)), make([]error, len(tags))
	var g errgroup.Group
	g.SetLimit(resolvers)
	for i, tag := range tags {
		g.Go(func() error {
			digests[i], errs[i] = s.cfg.Registry.Resolve(ctx, repo, tag)
			return nil
		})
	}
	_ = g.Wait()
	return digests, errs
}

// newest keeps the TagsLimit units whose images were created last.
func (s *sweeper) newest(ctx context.Context, us []unit) []unit {
	created := map[v1.Hash]time.Time{}
	for _, u := range us {
		created[u.digest] = s.created(ctx, u)
	}
	slices.SortStableFunc(us, func(a, b unit) int { return created[b.digest].Compare(created[a.digest]) })
	return us[:s.cfg.TagsLimit]
}

// created is when u's image was made, by its config (the newest of an
// index's platforms); the zero time when it cannot be read, which the
// scan then reports.
func (s *sweeper) created(ctx context.Context, u unit) time.Time {
	set, err := s.cfg.Registry.Open(ctx, u.repo, u.digest, source.WithPlatform(s.cfg.Platform))
	if err != nil {
		return time.Time{}
	}
	defer set.Close()
	var newest time.Time
	for _, t := range set.Targets {
		var cfg struct {
			Created time.Time `json:"created"`
		}
		if json.Unmarshal(t.Config, &cfg) == nil && cfg.Created.After(newest) {
			newest = cfg.Created
		}
	}
	return newest
}

// scan scans every platform image of u and adds their rows.
func (s *sweeper) scan(ctx context.Context, u unit) {
	ref := report.ImageRef{Repository: u.repo, Tags: u.tags}
	set, err := s.cfg.Registry.Open(ctx, u.repo, u.digest, source.WithPlatform(s.cfg.Platform))
	switch {
	case errors.Is(err, source.ErrNoPlatform):
		s.done(func() {
			s.fleet.AddNotScanned(ref, u.digest.String(), err.Error())
			s.progress.Done++
		})
		return
	case err != nil:
		s.done(func() {
			s.fleet.AddError(ref, u.digest.String(), err)
			s.progress.Done++
		})
		return
	}
	defer set.Close()
	for _, t := range set.Targets {
		if t.Digest != u.digest {
			ref.IndexDigest = u.digest.String()
		}
		res, err := s.cfg.Scan(ctx, t)
		if res == nil {
			s.done(func() { s.fleet.AddError(ref, t.Digest.String(), err) })
			continue
		}
		s.done(func() {
			s.fleet.Add(ref, res)
			s.progress.LayersShared += res.Coverage.SharedLayers + res.Coverage.CachedLayers
			s.progress.Findings += len(res.Findings)
		})
	}
	s.done(func() { s.progress.Done++ })
}

// done runs add under the sweep's lock and reports progress.
func (s *sweeper) done(add func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	add()
	s.report()
}
