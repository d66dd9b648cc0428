package scan_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/internal/testenv"
	"github.com/imagescan/imagescan/layercache"
	"github.com/imagescan/imagescan/scan"
)

func TestLayerCacheScansSharedLayersOnceAndKeepsStatusPerImage(t *testing.T) {
	tok := npmToken(30)
	base := fixture.Layer{Tar: fixture.Tar(t, fixture.File("app/.npmrc", npmrc(tok)), fixture.File("app/index.js", "ok")), CreatedBy: "COPY . /app # buildkit"}
	kept := fixture.Image(t, base)
	removed := fixture.Image(t, base, fixture.Layer{Tar: fixture.Tar(t, fixture.Whiteout("app", ".npmrc")), CreatedBy: "RUN rm app/.npmrc # buildkit"})

	det := fixture.NewCountingDetector(t)
	cache := scan.NewLayerCache()
	first, err := scan.Run(context.Background(), fixture.Target(t, "kept", kept), det, scan.WithLayerCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	second, err := scan.Run(context.Background(), fixture.Target(t, "removed", removed), det, scan.WithLayerCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	if det.Files("app/index.js") != 1 {
		t.Errorf("the shared layer's files were scanned %d times, want once", det.Files("app/index.js"))
	}
	if l := first.Findings[0].Location; l.Status != finding.Visible {
		t.Errorf("first image: %s, want visible", l.Status)
	}
	if l := second.Findings[0].Location; l.Status != finding.Deleted || l.RemovedByLayer != 1 {
		t.Errorf("second image: %s by %d, want deleted by layer 1", l.Status, l.RemovedByLayer)
	}
	if second.Layers[0].SharedWith != "kept layer 0" || second.Layers[0].Integrity.Status != scan.Verified {
		t.Errorf("shared layer: %+v", second.Layers[0])
	}
	if c := second.Coverage; c.Layers != 1 || c.SharedLayers != 1 {
		t.Errorf("coverage: %d layers read, %d shared; want 1 and 1", c.Layers, c.SharedLayers)
	}

	// Without the cache, the same findings.
	alone, err := scan.Run(context.Background(), fixture.Target(t, "removed", removed), fixture.Detector(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(summarize(alone), summarize(second)); diff != "" {
		t.Errorf("cached scan differs (-alone +cached):\n%s", diff)
	}
}

// gatedDetector holds the first detection of one path until the test
// lets it go.
type gatedDetector struct {
	*fixture.CountingDetector
	path string
	once sync.Once
	held chan struct{} // closed when the gate holds a detection
	gate chan struct{}
}

func (g *gatedDetector) DetectFile(ctx context.Context, f finding.File) []finding.Match {
	if f.Path == g.path {
		g.once.Do(func() {
			close(g.held)
			<-g.gate
		})
	}
	return g.CountingDetector.DetectFile(ctx, f)
}

// racingRuns scans two images that share their first layer at once, the
// first held in the middle of walking that layer, with the options each
// Run gets, and returns the results and how many times the shared layer
// was detected. The second Run reads the layer at once only if it does
// not wait for the first's walk; the first is let go then, or after
// 500 ms.
func racingRuns(t *testing.T, opts func(i int) []scan.Option) ([2]*scan.Result, int) {
	t.Helper()
	base := fixture.Layer{Tar: fixture.Tar(t, fixture.File("app/index.js", "ok")), CreatedBy: "COPY . /app"}
	first := fixture.Target(t, "first", fixture.Image(t, base))
	second := fixture.Target(t, "second", fixture.Image(t, base, fixture.Layer{Tar: fixture.Tar(t, fixture.File("app/other.js", "ok")), CreatedBy: "COPY other.js /app"}))
	opened := make(chan struct{})
	open := second.Layers[0].Open
	second.Layers[0].Open = func() (io.ReadCloser, error) {
		close(opened)
		return open()
	}
	det := &gatedDetector{CountingDetector: fixture.NewCountingDetector(t), path: "app/index.js", held: make(chan struct{}), gate: make(chan struct{})}
	var g errgroup.Group
	var res [2]*scan.Result
	for i, target := range []*scan.Target{first, second} {
		g.Go(func() (err error) {
			res[i], err = scan.Run(context.Background(), target, det, opts(i)...)
			return err
		})
		if i == 0 {
			<-det.held // the first Run is walking the shared layer
		}
	}
	select {
	case <-opened:
	case <-time.After(500 * time.Millisecond):
	}
	close(det.gate)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return res, det.Files("app/index.js")
}

func TestARunWaitsForTheWalkOfALayerAnotherRunIsWalking(t *testing.T) {
	cache := scan.NewLayerCache()
	res, n := racingRuns(t, func(int) []scan.Option { return []scan.Option{scan.WithLayerCache(cache)} })
	if n != 1 {
		t.Errorf("the shared layer was detected %d times, want once", n)
	}
	if res[1].Layers[0].SharedWith != "first layer 0" {
		t.Errorf("second image's layer 0: shared with %q", res[1].Layers[0].SharedWith)
	}
}

func TestABoundedLayerCacheKeepsTheLatestLayers(t *testing.T) {
	a := fixture.Target(t, "a", fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("a.txt", "a")), CreatedBy: "COPY a"}))
	b := fixture.Target(t, "b", fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("b.txt", "b")), CreatedBy: "COPY b"}))
	for bound, want := range map[int]int{1: 2, 2: 1} {
		det := fixture.NewCountingDetector(t)
		cache := scan.NewBoundedLayerCache(bound)
		for _, target := range []*scan.Target{a, b, a} {
			if _, err := scan.Run(context.Background(), target, det, scan.WithLayerCache(cache)); err != nil {
				t.Fatal(err)
			}
		}
		if n := det.Files("a.txt"); n != want {
			t.Errorf("bound %d: a's layer detected %d times, want %d", bound, n, want)
		}
	}
}

// TestTwoProcessesSharingALayerStoreWalkALayerOnce: two Runs with caches
// of their own, as two processes have, and one Redis layer store: while
// the first walks a layer, the second waits for its entry instead of
// walking it too.
func TestTwoProcessesSharingALayerStoreWalkALayerOnce(t *testing.T) {
	srv := testenv.StartRedis(t)
	key := []byte("0123456789abcdef0123456789abcdef")
	stores := make([]*layercache.Redis, 2)
	for i := range stores {
		s, err := layercache.OpenRedis(context.Background(), srv.URL(0), time.Hour, key)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	res, n := racingRuns(t, func(i int) []scan.Option {
		return []scan.Option{scan.WithLayerCache(scan.NewLayerCache()), scan.WithLayerStore(stores[i], "rules", false)}
	})
	if n != 1 {
		t.Errorf("the shared layer was detected %d times, want once", n)
	}
	if l := res[1].Layers[0]; l.SharedWith != "the layer cache" || l.Integrity.Status != scan.Verified {
		t.Errorf("the second process's layer 0: shared with %q, %s", l.SharedWith, l.Integrity.Status)
	}
}
