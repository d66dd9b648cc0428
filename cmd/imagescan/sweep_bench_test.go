package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/internal/testenv"
)

// ruleCache is a cache directory with the compiled rule database in it,
// as a user's is after the first run: the benchmark measures sweeping,
// not the one-off compilation.
func ruleCache(b *testing.B) string {
	b.Helper()
	if ruleCacheDir == "" {
		ruleCacheDir = b.TempDir()
		cmd := exec.Command(os.Args[0], "version")
		cmd.Env = append(os.Environ(), asMainEnv+"=1", "XDG_CACHE_HOME="+ruleCacheDir)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, msg)
		}
	}
	return ruleCacheDir
}

var ruleCacheDir string

// sweepProcess runs one sweep as its own process, as a user would, and
// returns the images its report holds, its wall time, and its peak RSS in
// MB and CPU time.
func sweepProcess(b *testing.B, args ...string) (images int, wall time.Duration, rssMB float64, cpu time.Duration) {
	b.Helper()
	return sweepTo(b, filepath.Join(b.TempDir(), "fleet.json"), args...)
}

// sweepTo is sweepProcess writing the JSON report to out.
func sweepTo(b *testing.B, out string, args ...string) (images int, wall time.Duration, rssMB float64, cpu time.Duration) {
	b.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"sweep", "-q", "-f", "json", "-o", out, "--exit-code", "0"}, args...)...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1", "XDG_CACHE_HOME="+ruleCache(b))
	start := time.Now()
	msg, err := cmd.CombinedOutput()
	wall = time.Since(start)
	if err != nil {
		b.Fatalf("sweep %v: %v\n%s", args, err, msg)
	}
	f, err := readFleet(out)
	if err != nil {
		b.Fatal(err)
	}
	cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return f.Totals.Images, wall, float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024, cpu
}

// BenchmarkSweep sweeps the test fleet (fixture.PushFleet: 202 images in
// 41 repositories of docker-registry) as a process: cold, with no layer
// cache, and warm, with the Redis cache a cold sweep filled. It reports
// images and distinct layers swept per second, and the sweep's own CPU
// time: on a machine of two cores the registry, which checks a bcrypt
// password on every request, is busier than the sweep. bench/run.sh runs
// it.
func BenchmarkSweep(b *testing.B) {
	tf := startFleet(b, fixture.FleetOptions{})
	warmURL := tf.redis.URL(1)
	sweepProcess(b, "--cache-url", warmURL, tf.direct) // fills the cache
	for _, c := range []struct {
		name string
		args []string
	}{
		{"cold", []string{"--no-cache", tf.direct}},
		{"warm", []string{"--cache-url", warmURL, tf.direct}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var images int
			var wall, cpu time.Duration
			var rss float64
			for range b.N {
				n, w, r, c := sweepProcess(b, c.args...)
				images, wall, rss, cpu = n, wall+w, max(rss, r), cpu+c
			}
			per := wall.Seconds() / float64(b.N)
			b.ReportMetric(float64(images)/per, "images/s")
			b.ReportMetric(float64(tf.fleet.Layers)/per, "layers/s")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "sweep-CPU-s")
			b.ReportMetric(rss, "peak-RSS-MB")
		})
	}
}

// BenchmarkSweepMemory sweeps fleets of 250 and 1,000 images (the same
// shape: 5 images a repository on three shared bases) and reports the
// peak RSS of each: it must stay flat in the number of images. It also
// reports the size of each sweep's HTML report and the time chromium
// takes to open it (to its load event, as the page's own navigation
// timing says).
func BenchmarkSweepMemory(b *testing.B) {
	for _, repos := range []int{50, 200} {
		tf := startFleet(b, fixture.FleetOptions{Repositories: repos})
		b.Run(fmt.Sprintf("images=%d", repos*5), func(b *testing.B) {
			var rss float64
			report := filepath.Join(b.TempDir(), "fleet.json")
			for range b.N {
				_, _, r, _ := sweepTo(b, report, "--no-cache", tf.direct)
				rss = max(rss, r)
			}
			b.ReportMetric(rss, "peak-RSS-MB")
			size, open := htmlOpen(b, report)
			b.ReportMetric(float64(size)/1e6, "html-MB")
			b.ReportMetric(open.Seconds(), "html-open-s")
		})
	}
}

// htmlOpen writes the fleet report's HTML page and opens it in chromium,
// and returns the page's size and the time to its load event.
func htmlOpen(b *testing.B, report string) (int64, time.Duration) {
	b.Helper()
	page := filepath.Join(b.TempDir(), "fleet.html")
	cmd := exec.Command(os.Args[0], "merge", "-f", "html", "-o", page, "--exit-code", "0", report)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("merge -f html: %v\n%s", err, msg)
	}
	info, err := os.Stat(page)
	if err != nil {
		b.Fatal(err)
	}
	br := testenv.NewBrowser(b)
	if events := br.Open(b, page); len(events) > 0 {
		b.Errorf("the page did %q", events)
	}
	ms := testenv.Run(b, br, chromedp.Evaluate[float64](`performance.getEntriesByType("navigation")[0].loadEventEnd`))
	return info.Size(), time.Duration(ms * float64(time.Millisecond))
}
