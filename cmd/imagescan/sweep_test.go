package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/chromedp/chromedp"
	"github.com/imagescan/imagescan/fleet"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/internal/testenv"
	"github.com/imagescan/imagescan/report"
	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"
)

// sweepKey is the fingerprint key every sweep of these tests shares, as
// the pods of one Job share theirs.
const sweepKey = "sweep-test-fingerprint-key-0123456789"

// testFleet is the registry every sweep test runs against: Debian's
// docker-registry with htpasswd auth, holding fixture.PushFleet's images,
// reached through a proxy that a test can make fail.
type testFleet struct {
	host   string // the proxy's
	direct string // the registry's
	fleet  *fixture.Fleet
	redis  *testenv.Redis

	mu   sync.Mutex
	hook func(r *http.Request) int // a status to answer with instead, or 0
}

func startFleet(t testing.TB, o fixture.FleetOptions) *testFleet {
	t.Helper()
	direct := testenv.StartRegistry(t, "sweeper", "sweep-pass")
	auth := remote.WithAuth(&authn.Basic{Username: "sweeper", Password: "sweep-pass"})
	tf := &testFleet{fleet: fixture.PushFleet(t, direct, o, auth), redis: testenv.StartRedis(t)}
	target, err := url.Parse("http://" + direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // a cancelled sweep's requests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tf.mu.Lock()
		hook := tf.hook
		tf.mu.Unlock()
		if hook != nil {
			if code := hook(r); code != 0 {
				http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"injected by the test"}]}`, code)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tf.host, tf.direct = strings.TrimPrefix(srv.URL, "http://"), direct
	dockerLogin(t, "sweeper", "sweep-pass", direct, tf.host)
	t.Setenv(keyEnv, sweepKey)
	return tf
}

// setHook makes the proxy answer the requests hook picks with a status.
func (tf *testFleet) setHook(hook func(r *http.Request) int) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	tf.hook = hook
}

// dockerLogin points the default keychain at credentials for hosts.
func dockerLogin(t testing.TB, user, pass string, hosts ...string) {
	t.Helper()
	auths := map[string]map[string]string{}
	for _, h := range hosts {
		auths[h] = map[string]string{"username": user, "password": pass}
	}
	data, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

// sweep runs imagescan sweep in this process and reads its JSON report.
func sweepJSON(t *testing.T, ctx context.Context, args ...string) (*report.Fleet, outcome) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "fleet.json")
	got := imagescanCtx(t, ctx, append([]string{"sweep", "-q", "-f", "json", "-o", out, "--cache-dir", t.TempDir()}, args...)...)
	return readFleetFile(t, out), got
}

func readFleetFile(t *testing.T, path string) *report.Fleet {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	defer file.Close()
	f, err := report.ReadFleet(file)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// where is every place a report shows a raw secret, as "secret|repository|tag|platform|layer|path-or-field".
func where(f *report.Fleet) map[string]bool {
	out := map[string]bool{}
	for _, s := range f.Secrets {
		for _, l := range s.Locations {
			for _, im := range f.Images {
				if im.Digest != l.Digest {
					continue
				}
				at := l.Path
				if at == "" {
					at = l.Field
					if i := strings.IndexByte(at, '['); i >= 0 {
						at = at[:i]
					}
				}
				layer := -1
				if l.LayerIndex != nil {
					layer = *l.LayerIndex
				}
				for _, tag := range im.Tags {
					out[fmt.Sprintf("%s|%s|%s|%s|%d|%s", s.Secret, im.Repository, tag, im.Platform, layer, at)] = true
				}
			}
		}
	}
	return out
}

func (tf *testFleet) checkPlanted(t *testing.T, f *report.Fleet) {
	t.Helper()
	got := where(f)
	for _, p := range tf.fleet.Planted {
		at := p.Path
		if at == "" {
			at = p.Field
		}
		key := fmt.Sprintf("%s|%s|%s|%s|%d|%s", p.Secret, p.Repository, p.Tag, p.Platform, p.Layer, at)
		if !got[key] {
			t.Errorf("planted leak not found: %s:%s %s layer %d %s", p.Repository, p.Tag, p.Platform, p.Layer, at)
		}
	}
}

// comparable strips what differs between equal sweeps: timings, how each
// layer was had (detected, shared or cached) and so the bytes read, and
// which shards ran.
func comparable(f *report.Fleet) *report.Fleet {
	c := *f
	c.Seconds, c.Shards, c.Warnings = 0, nil, nil
	c.Totals.LayersDetected, c.Totals.LayersShared, c.Totals.LayersCached, c.Totals.Bytes = 0, 0, 0, 0
	c.Images = slices.Clone(f.Images)
	for i := range c.Images {
		c.Images[i].Coverage = report.FleetCoverage{}
	}
	return &c
}

func diffFleets(a, b *report.Fleet) string {
	return cmp.Diff(comparable(a), comparable(b), cmpopts.IgnoreUnexported(report.Fleet{}), cmpopts.EquateEmpty())
}

func TestSweep(t *testing.T) {
	tf := startFleet(t, fixture.FleetOptions{})
	whole, got := sweepJSON(t, context.Background(), "--show-secrets", tf.host)
	wholeFile := filepath.Join(t.TempDir(), "whole.json")
	if err := os.WriteFile(wholeFile, must(json.Marshal(whole)), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("every planted leak with its repository, tag, layer and path", func(t *testing.T) {
		if got.code != exitLeaks {
			t.Fatalf("exit %d, stderr %s", got.code, got.stderr)
		}
		tf.checkPlanted(t, whole)
		tot := whole.Totals
		if tot.Images != tf.fleet.Images+1 || tot.Repositories != len(tf.fleet.Repositories) || tot.DistinctLayers != tf.fleet.Layers {
			t.Errorf("totals %+v; want %d images (one in two repositories), %d repositories, %d distinct layers", tot, tf.fleet.Images+1, len(tf.fleet.Repositories), tf.fleet.Layers)
		}
		if tot.LayersDetected != int64(tf.fleet.Layers) {
			t.Errorf("%d layers detected; each of the %d distinct layers must be detected once", tot.LayersDetected, tf.fleet.Layers)
		}
		if !whole.Complete || whole.Failed() {
			t.Errorf("complete %v, errors %v", whole.Complete, whole.Errors)
		}
	})

	t.Run("the text report leads with what leaks and where to fix it", func(t *testing.T) {
		got := imagescan(t, "sweep", "-q", "--cache-dir", t.TempDir(), tf.host)
		lines := strings.Split(got.stdout, "\n")
		want := fmt.Sprintf("LEAKS: %d of %d images in %d of %d repositories hold %d secrets", whole.Totals.ImagesWithFindings, whole.Totals.Images,
			whole.Totals.RepositoriesLeaking, whole.Totals.Repositories, whole.Totals.Secrets)
		if got.code != exitLeaks || len(lines) < 2 || !strings.HasPrefix(lines[1], want) {
			t.Fatalf("exit %d; want the second line to start %q:\n%s", got.code, want, got.stdout)
		}
		fix := got.stdout[strings.Index(got.stdout, "Repositories to fix:"):]
		for _, p := range tf.fleet.Planted {
			if !strings.Contains(fix, "\n  "+p.Repository+": ") {
				t.Errorf("%s is not among the repositories to fix:\n%s", p.Repository, fix)
			}
			if strings.Contains(got.stdout, p.Secret) {
				t.Errorf("the text report shows a raw secret of %s", p.Repository)
			}
		}
	})

	t.Run("two and four shards merged equal one sweep, each layer detected once", func(t *testing.T) {
		for db, n := range []int{2, 4} {
			dir := t.TempDir()
			jobPods(t, n, tf.redis.URL(db+1), dir, tf.host+"/", "--show-secrets")
			var files []string
			var detected int64
			for i := range n {
				path := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i+1))
				files = append(files, path)
				detected += readFleetFile(t, path).Totals.LayersDetected
			}
			merged := filepath.Join(dir, "merged.json")
			got := imagescan(t, append([]string{"merge", "-f", "json", "-o", merged}, files...)...)
			if got.code != exitLeaks {
				t.Fatalf("%d shards: merge exit %d: %s", n, got.code, got.stderr)
			}
			m := readFleetFile(t, merged)
			if d := diffFleets(whole, m); d != "" {
				t.Errorf("%d shards merged differ from one sweep (-one +merged):\n%s", n, d)
			}
			if detected != int64(tf.fleet.Layers) {
				t.Errorf("%d shards detected %d layers; each of the %d distinct layers must be detected once across them", n, detected, tf.fleet.Layers)
			}
			if len(m.Shards) != n || !m.Complete {
				t.Errorf("%d shards: merged report covers %v, complete %v", n, m.Shards, m.Complete)
			}
		}
	})

	t.Run("the HTML report in a browser: every image, every leaking repository marked", func(t *testing.T) {
		page := filepath.Join(t.TempDir(), "sweep.html")
		if got := imagescan(t, "merge", "-f", "html", "-o", page, wholeFile); got.code != exitLeaks {
			t.Fatalf("merge -f html: exit %d: %s", got.code, got.stderr)
		}
		b := testenv.NewBrowser(t)
		if events := b.Open(t, page); len(events) > 0 {
			t.Errorf("the sweep page did %q", events)
		}
		rows := testenv.Run(t, b, chromedp.Evaluate[[]map[string]string](`[...document.querySelectorAll("#matrix tbody tr")].map(r => ({repo: r.dataset.repo, secrets: r.dataset.secrets}))`))
		if len(rows) != len(whole.Images) {
			t.Errorf("%d rows, want %d", len(rows), len(whole.Images))
		}
		leaking := map[string]bool{}
		for _, r := range rows {
			if r["secrets"] != "0" {
				leaking[r["repo"]] = true
			}
		}
		for _, p := range tf.fleet.Planted {
			if !leaking[p.Repository] {
				t.Errorf("%s is not marked as leaking", p.Repository)
			}
		}
	})

	t.Run("a second sweep with the Redis cache warm detects nothing again", func(t *testing.T) {
		url := tf.redis.URL(5)
		cold, _ := sweepJSON(t, context.Background(), "--show-secrets", "--cache-url", url, tf.host)
		warm, got := sweepJSON(t, context.Background(), "--show-secrets", "--cache-url", url, tf.host)
		uses := whole.Totals.LayersDetected + whole.Totals.LayersShared
		if got.code != exitLeaks || warm.Totals.LayersDetected != 0 || warm.Totals.LayersCached+warm.Totals.LayersShared != uses {
			t.Errorf("warm sweep: exit %d, %d layers detected, %d from the cache, %d shared; want 0 and %d in all\n%s", got.code,
				warm.Totals.LayersDetected, warm.Totals.LayersCached, warm.Totals.LayersShared, uses, got.stderr)
		}
		if cold.Totals.LayersDetected != int64(tf.fleet.Layers) {
			t.Errorf("cold sweep detected %d layers, want %d", cold.Totals.LayersDetected, tf.fleet.Layers)
		}
		if d := diffFleets(whole, warm); d != "" {
			t.Errorf("the warm sweep differs (-one +warm):\n%s", d)
		}
		ttl := tf.redis.TTLs(t, 5)
		if len(ttl) != tf.fleet.Layers || slices.Max(ttl) > 7*24*time.Hour || slices.Min(ttl) < 7*24*time.Hour-time.Hour {
			t.Errorf("%d entries, TTLs from %v to %v; want one per distinct layer (%d), expiring in a week", len(ttl), slices.Min(ttl), slices.Max(ttl), tf.fleet.Layers)
		}
		sweepJSON(t, context.Background(), "--cache-url", tf.redis.URL(6), "--cache-ttl", "2h", tf.host)
		if ttl := tf.redis.TTLs(t, 6); len(ttl) == 0 || slices.Max(ttl) > 2*time.Hour {
			t.Errorf("--cache-ttl 2h: TTLs %v", ttl)
		}
	})

	t.Run("a 401 and a registry error on one repository each are error rows", func(t *testing.T) {
		denied, broken := fixture.FleetRepo(1), fixture.FleetRepo(2)
		tf.setHook(func(r *http.Request) int {
			switch {
			case strings.HasPrefix(r.URL.Path, "/v2/"+denied+"/"):
				return http.StatusUnauthorized
			case strings.HasPrefix(r.URL.Path, "/v2/"+broken+"/manifests/sha256:"):
				return http.StatusBadGateway
			}
			return 0
		})
		defer tf.setHook(nil)
		f, got := sweepJSON(t, context.Background(), "--show-secrets", tf.host)
		if got.code != exitError {
			t.Fatalf("exit %d, want %d", got.code, exitError)
		}
		tf.checkPlanted(t, f)
		rows := map[string]int{}
		for _, im := range f.Images {
			if len(im.Errors) > 0 {
				rows[im.Repository]++
			}
		}
		if rows[denied] != 1 || rows[broken] != 5 || len(rows) != 2 {
			t.Errorf("error rows by repository %v; want one for %s (its tags cannot be listed) and five for %s", rows, denied, broken)
		}
		if !strings.Contains(got.stderr, denied) || !strings.Contains(got.stderr, "401") || !strings.Contains(got.stderr, broken) {
			t.Errorf("stderr does not name both repositories and the 401:\n%s", got.stderr)
		}
		if !f.Complete || f.Totals.Images != whole.Totals.Images-5 {
			t.Errorf("complete %v, %d images; want the other %d", f.Complete, f.Totals.Images, whole.Totals.Images-5)
		}
	})

	t.Run("a Redis killed mid-sweep is one warning and the sweep goes on", func(t *testing.T) {
		redis := testenv.StartRedis(t)
		var once sync.Once
		tf.setHook(func(r *http.Request) int {
			if strings.HasPrefix(r.URL.Path, "/v2/"+fixture.FleetRepo(10)+"/") {
				once.Do(redis.Kill)
			}
			return 0
		})
		defer tf.setHook(nil)
		f, got := sweepJSON(t, context.Background(), "--show-secrets", "--cache-url", redis.URL(0), tf.host)
		if got.code != exitLeaks {
			t.Fatalf("exit %d: %s", got.code, got.stderr)
		}
		if d := diffFleets(whole, f); d != "" {
			t.Errorf("the sweep differs (-one +redis killed):\n%s", d)
		}
		if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], "stopped answering") || strings.Count(got.stderr, "Redis") != 1 || strings.Count(got.stderr, "\n") != 1 {
			t.Errorf("warnings %q, stderr %q; want one about Redis", f.Warnings, got.stderr)
		}
	})

	t.Run("an interrupted sweep leaves a valid partial report that --resume completes", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tf.setHook(func(r *http.Request) int {
			if strings.HasPrefix(r.URL.Path, "/v2/"+fixture.FleetRepo(20)+"/") {
				cancel()
			}
			return 0
		})
		defer tf.setHook(nil)
		partial, got := sweepJSON(t, ctx, "--show-secrets", tf.host)
		if got.code != exitError || partial.Complete || partial.Totals.Images == 0 || partial.Totals.Images >= whole.Totals.Images {
			t.Fatalf("exit %d, complete %v, %d images; want 2, false, and some of %d", got.code, partial.Complete, partial.Totals.Images, whole.Totals.Images)
		}
		dir := t.TempDir()
		earlier := filepath.Join(dir, "partial.json")
		data, err := json.Marshal(partial)
		if err != nil {
			t.Fatal(err)
		}
		write(t, earlier, string(data))
		var fetched sync.Map
		tf.setHook(func(r *http.Request) int {
			fetched.Store(r.URL.Path, true)
			return 0
		})
		resumed, got := sweepJSON(t, context.Background(), "--show-secrets", "--resume", earlier, tf.host)
		if got.code != exitLeaks || !resumed.Complete {
			t.Fatalf("resumed: exit %d, complete %v: %s", got.code, resumed.Complete, got.stderr)
		}
		if d := diffFleets(whole, resumed); d != "" {
			t.Errorf("the resumed sweep differs (-one +resumed):\n%s", d)
		}
		kept := 0
		for _, im := range partial.Images {
			if len(im.Errors) > 0 {
				continue
			}
			kept++
			if _, ok := fetched.Load("/v2/" + im.Repository + "/manifests/" + im.Digest); ok {
				t.Errorf("%s@%s, read without errors before, was read again", im.Repository, im.Digest)
			}
		}
		if kept == 0 {
			t.Error("the partial report kept no image")
		}
	})

	t.Run("SIGINT to the process leaves a valid partial report", func(t *testing.T) {
		reached, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		tf.setHook(func(r *http.Request) int {
			if strings.HasPrefix(r.URL.Path, "/v2/"+fixture.FleetRepo(20)+"/") {
				once.Do(func() { close(reached) })
				<-release // the registry hangs: the sweep is mid-way when the signal comes
			}
			return 0
		})
		defer tf.setHook(nil)
		defer close(release)
		out := filepath.Join(t.TempDir(), "partial.json")
		cmd := exec.Command(os.Args[0], "sweep", "-q", "-f", "json", "-o", out, "--no-cache", tf.host)
		cmd.Env = append(os.Environ(), asMainEnv+"=1", "XDG_CACHE_HOME="+t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-reached:
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatal("the sweep never reached the hanging repository")
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		f := readFleetFile(t, out)
		if code := cmd.ProcessState.ExitCode(); code != exitError || f.Complete || f.Totals.Images == 0 || !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("exit %d, complete %v, %d images; want 2, an incomplete report of some images, and why on stderr:\n%s", code, f.Complete, f.Totals.Images, stderr.String())
		}
	})

	t.Run("--platform scans that platform and counts the images of others", func(t *testing.T) {
		f, got := sweepJSON(t, context.Background(), "--show-secrets", "--platform", "linux/arm64", tf.host+"/team-d")
		if got.code != exitLeaks || f.Totals.Images != 1 || f.Totals.ImagesNotScanned != 49 || f.Failed() {
			t.Fatalf("exit %d, %d images, %d not scanned, failed %v; want 1, the arm64 image of the index, and 49\n%s", got.code, f.Totals.Images, f.Totals.ImagesNotScanned, f.Failed(), got.stderr)
		}
		arm := tf.fleet.Planted[len(tf.fleet.Planted)-1]
		if p := where(f); len(p) != 2 || !p[fmt.Sprintf("%s|%s|latest|linux/arm64|1|%s", arm.Secret, arm.Repository, arm.Path)] {
			t.Errorf("places %v; want the arm64 image's private key under both its tags", p)
		}
		text := imagescan(t, "sweep", "-q", "--no-cache", "--platform", "linux/arm64", tf.host+"/team-d")
		if !strings.Contains(text.stdout, "not scanned: 49 images of other platforms") {
			t.Errorf("the text report does not count the images of other platforms:\n%s", text.stdout)
		}
	})

	t.Run("--repos-file sweeps the repositories it lists", func(t *testing.T) {
		list := filepath.Join(t.TempDir(), "repos.txt")
		npm := fixture.FleetRepo(3)
		write(t, list, "# the repositories to sweep\n"+npm+"\n\n/"+fixture.FleetRepo(4)+"/  # a comment\n"+fixture.FleetRepo(8)+"\n")
		tf.setHook(func(r *http.Request) int {
			if r.URL.Path == "/v2/_catalog" {
				return http.StatusNotFound // as a registry without a catalog answers
			}
			return 0
		})
		defer tf.setHook(nil)
		f, got := sweepJSON(t, context.Background(), "--repos-file", list, tf.host+"/team-a")
		if got.code != exitClean || f.Totals.Repositories != 2 || f.Totals.Images != 10 {
			t.Errorf("exit %d, %d repositories, %d images; want 0, and the two under team-a (svc-04, svc-08), 10 images\n%s", got.code, f.Totals.Repositories, f.Totals.Images, got.stderr)
		}
		f, got = sweepJSON(t, context.Background(), "--repos-file", list, tf.host)
		if got.code != exitLeaks || f.Totals.Repositories != 3 || f.Totals.ImagesWithFindings != 1 {
			t.Errorf("exit %d, %d repositories, %d leaking; want 1, 3 and the npm image of %s", got.code, f.Totals.Repositories, f.Totals.ImagesWithFindings, npm)
		}
	})

	t.Run("--tags-limit keeps the newest images of each repository", func(t *testing.T) {
		f, got := sweepJSON(t, context.Background(), "--tags-limit", "2", tf.host+"/team-b")
		if got.code != exitClean { // team-b's leak is in an older image
			t.Fatalf("exit %d: %s", got.code, got.stderr)
		}
		for _, im := range f.Images {
			if !slices.Contains(im.Tags, "v4") && !slices.Contains(im.Tags, "v5") {
				t.Errorf("%s:%v is not among the two newest", im.Repository, im.Tags)
			}
		}
		if f.Totals.Images != 2*f.Totals.Repositories || f.Totals.Repositories != 10 {
			t.Errorf("%d images in %d repositories; want 2 in each of 10", f.Totals.Images, f.Totals.Repositories)
		}
	})
}

// jobPods runs the n pods of deploy/kubernetes/sweep-job.yaml as the
// Indexed Job would: imagescan processes started at once with the Job's
// arguments and environment, each with its $JOB_COMPLETION_INDEX. What
// the cluster provides is replaced: the registry by target, the Redis
// Service by cacheURL, the reports volume by dir, the mounted secrets and
// volumes by the test's; the shard count by n. extra are added.
func jobPods(t *testing.T, n int, cacheURL, dir, target string, extra ...string) {
	t.Helper()
	args, env := jobSpec(t)
	var wg sync.WaitGroup
	outs := make([]outcome, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			podArgs := slices.Clone(args)
			for j, a := range podArgs {
				switch {
				case strings.HasPrefix(a, "--shards="):
					podArgs[j] = fmt.Sprintf("--shards=%d", n)
				case strings.HasPrefix(a, "--cache-url="):
					podArgs[j] = "--cache-url=" + cacheURL
				case strings.HasPrefix(a, "--output="):
					podArgs[j] = "--output=" + filepath.Join(dir, filepath.Base(strings.TrimPrefix(a, "--output=")))
				case j == len(podArgs)-1:
					podArgs[j] = target
				}
			}
			podEnv := append(slices.Clone(env), fmt.Sprintf("%s=%d", completionIndexEnv, i), "XDG_CACHE_HOME="+t.TempDir(),
				keyEnv+"="+sweepKey, "DOCKER_CONFIG="+os.Getenv("DOCKER_CONFIG"))
			outs[i] = processEnv(t, podEnv, append(podArgs, extra...)...)
		}()
	}
	wg.Wait()
	for i, o := range outs {
		if o.code != exitClean {
			t.Fatalf("pod %d of %d: exit %d (the Job's --exit-code=0 makes findings exit 0): %s", i, n, o.code, o.stderr)
		}
	}
}

// jobSpec returns the sweep Job's container arguments and the
// environment it sets by value.
func jobSpec(t *testing.T) (args, env []string) {
	t.Helper()
	data, err := os.ReadFile("../../deploy/kubernetes/sweep-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := yaml.Unmarshal(data, &job); err != nil {
		t.Fatal(err)
	}
	c := job.Spec.Template.Spec.Containers[0]
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	return c.Args, env
}

// TestSweepProgressOnATerminal: the line says images done out of those
// found, layers shared and findings so far; off a terminal there is none.
func TestSweepProgressOnATerminal(t *testing.T) {
	tty, screen := recordTerminal(t)
	line := newSweepLine(tty, true)
	line.update(fleet.Progress{Found: 10, Done: 2})
	time.Sleep(300 * time.Millisecond) // past the line's throttle
	line.update(fleet.Progress{Found: 12, Done: 7, LayersShared: 31, Findings: 4})
	time.Sleep(300 * time.Millisecond)
	line.update(fleet.Progress{Found: 12, Done: 7, LayersShared: 31, Findings: 4})
	line.finish()
	if shown := screen(); !strings.Contains(shown, "images 7/12 · layers shared 31 · findings 4") {
		t.Errorf("the terminal shows %q", shown)
	}
	var off bytes.Buffer
	quiet := newSweepLine(&off, true)
	quiet.update(fleet.Progress{Found: 1})
	quiet.finish()
	if off.Len() != 0 {
		t.Errorf("off a terminal: %q", off.String())
	}
}

// TestSweepBadUsage: each mistake is one line and exit 2, before anything
// is asked of the registry.
func TestSweepBadUsage(t *testing.T) {
	for args, want := range map[string]string{
		"--shard 0/2":                    `--shard "0/2" is not I/N`,
		"--shard 3/2":                    `--shard "3/2" is not I/N`,
		"--shard 1/2 --shards 2":         "not both",
		"--shards 2":                     "needs $JOB_COMPLETION_INDEX",
		"--all-tags --tags-limit 2":      "not both",
		"--all-tags=false":               "needs --tags-limit",
		"--tags-limit -1":                "must not be negative",
		"-f xml":                         `"xml" is not one of text, json, sarif, html`,
		"--repos-file /nonexistent/list": "--repos-file",
		"--resume /nonexistent/r.json":   "--resume",
	} {
		got := imagescan(t, append(append([]string{"sweep", "--no-cache"}, strings.Fields(args)...), "127.0.0.1:1")...)
		if got.code != exitError || strings.Count(got.stderr, "\n") != 1 || !strings.Contains(got.stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and one line with %q", args, got.code, got.stderr, want)
		}
	}
}

// TestMergeBadInput: a report that is not a fleet report, or a directory
// without reports, is one line and exit 2.
func TestMergeBadInput(t *testing.T) {
	dir := t.TempDir()
	image := filepath.Join(dir, "image.json")
	if got := imagescan(t, "scan", "-f", "json", "-o", image, "--no-cache", clean); got.code != exitClean {
		t.Fatalf("scan: %d %s", got.code, got.stderr)
	}
	for name, args := range map[string][]string{
		"an image report": {image},
		"an empty dir":    {t.TempDir()},
		"a missing file":  {filepath.Join(dir, "nothing.json")},
	} {
		got := imagescan(t, append([]string{"merge"}, args...)...)
		if got.code != exitError || strings.Count(got.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and one line", name, got.code, got.stderr)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
