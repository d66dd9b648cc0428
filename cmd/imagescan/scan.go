package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imagescan/imagescan/baseline"
	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/outfile"
	"github.com/imagescan/imagescan/layercache"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/scan/layers"
	"github.com/imagescan/imagescan/scan/secrets"
	"github.com/imagescan/imagescan/source"
)

type scanFlags struct {
	format       string
	output       string
	showSecrets  bool
	exitCode     int
	failOn       string
	jobs         int
	noProgress   bool
	platform     string
	insecure     bool
	allLocal     bool
	rules        string
	maxRatio     int64
	maxDepth     int
	skipBinaries bool
	cpuProfile   string
	noDetect     bool
	noCache      bool
	cacheDir     string
	stall        time.Duration
	cacheURL     string
	cacheTTL     time.Duration
	// layersKept bounds the layer scans a run keeps in memory (0: all).
	layersKept int

	baseline       string
	ignore         string
	showSuppressed bool
}

func newScanCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan [flags] IMAGE...",
		Short: "Scan images for leaked secrets",
		Long: `Scan one or more images for leaked secrets: every file of every layer
(including files a later layer deletes), the build history and the config.

IMAGE is told from what is at the path, or forced by a prefix:
  app.tar, app.tar.gz, docker-archive:app.tar[:repo:tag|:IMAGE_ID]   docker save output
  app.oci.tar, oci-archive:app.oci.tar[:name]                        an OCI archive
  ./layout, oci:./layout[:name]                                      an OCI layout directory
  registry.example/team/app:1.2, docker://…, …@sha256:…              a registry image or index
  docker-daemon:repo:tag, docker-daemon:IMAGE_ID                     an image in the local Docker daemon
  -                                                                  an archive on standard input
A name with no file at its path is a registry reference; credentials come
from the docker config ($DOCKER_CONFIG or ~/.docker) and its helpers.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !f.allLocal {
				return errors.New("name at least one IMAGE, or use --all-local")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), f, args, stdin, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "text", "report format: "+strings.Join(report.Formats, ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` (created with mode 0600) instead of stdout")
	fl.BoolVar(&f.showSecrets, "show-secrets", false, "print raw secret values; without it every output is redacted")
	fl.IntVar(&f.exitCode, "exit-code", exitLeaks, "exit code when secrets are found")
	fl.StringVar(&f.failOn, "fail-on", "low", "the lowest severity that makes the exit code non-zero: critical, high, medium or low")
	fl.IntVarP(&f.jobs, "jobs", "j", 0, "layers scanned at once (default: the number of CPUs)")
	fl.BoolVarP(&f.noProgress, "no-progress", "q", false, "no progress bar (there is never one when stderr is not a terminal)")
	fl.StringVar(&f.rules, "config", "", "gitleaks-format rules `FILE`: extends the defaults with [extend] useDefault = true, else replaces them")
	fl.Int64Var(&f.maxRatio, "max-ratio", scan.DefaultMaxRatio, "stop reading a layer or archive that inflates past this many times its compressed size")
	fl.IntVar(&f.maxDepth, "max-depth", layers.DefaultMaxDepth, "how deep archives inside layers are opened (0: none)")
	fl.BoolVar(&f.skipBinaries, "skip-binaries", false, "scan binary files by their path alone, not their printable strings")
	fl.StringVar(&f.baseline, "baseline", "", "an earlier JSON report `FILE`: findings whose fingerprints it lists are suppressed")
	fl.StringVar(&f.ignore, "ignore", "", "fingerprints to suppress, one per line, # for comments (default: "+baseline.DefaultIgnoreFile+" when present)")
	fl.BoolVar(&f.showSuppressed, "show-suppressed", false, "list suppressed findings in the report (they are always counted)")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither use nor fill the layer cache: read and verify every layer")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where the layer cache and the compiled rule database live (default: the user cache directory's imagescan)")
	cacheURLFlags(fl, &f)
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE` (for the benchmark)")
	_ = fl.MarkHidden("cpuprofile")
	if benchBuild {
		fl.BoolVar(&f.noDetect, "no-detect", false, "read everything but detect nothing: the benchmark's floor")
		_ = fl.MarkHidden("no-detect")
	}
	fl.BoolVar(&f.allLocal, "all-local", false, "scan every image the local Docker daemon holds, dangling build stages included")
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to registries that are not on a loopback address")
	fl.StringVar(&f.platform, "platform", "", "scan only this platform of an index, `os/arch[/variant]` (default: every platform)")
	stallFlag(fl, &f.stall)
	return cmd
}

// stallFlag registers --stall-timeout.
func stallFlag(fl *pflag.FlagSet, d *time.Duration) {
	fl.DurationVar(d, "stall-timeout", source.DefaultStallTimeout, "give up on a registry that sends nothing for this long")
}

func runScan(ctx context.Context, f scanFlags, images []string, stdin io.Reader, stdout, stderr io.Writer) error {
	failOn, err := finding.ParseSeverity(f.failOn)
	if err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	if f.cpuProfile != "" {
		stop, err := startProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := checkExitCode(f.exitCode); err != nil {
		return err
	}
	rep, err := report.For(f.format, reportOptions(f))
	if err != nil {
		return err
	}
	sess, err := newSession(f, stdin, stderr)
	if err != nil {
		return err
	}
	defer sess.close()
	suppress, err := suppressions(f, sess.key, stderr)
	if err != nil {
		return err
	}
	if slices.Contains(images, "-") && isTerminal(stdin) {
		return errors.New("refusing to read an image from a terminal: pipe an archive in (docker save IMAGE | imagescan scan -)")
	}
	var results []*scan.Result
	failed := false
	if f.allLocal {
		rs, ok := sess.scanSet(ctx, "docker-daemon:", func() (*source.Set, error) { return source.LocalImages(ctx, sess.srcOpts...) }, stderr)
		results = append(results, rs...)
		failed = !ok
	}
	rs, ok := sess.scanInputs(ctx, images, stderr)
	results = append(results, rs...)
	failed = failed || !ok
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "imagescan: interrupted; the report covers only what was read before")
		failed = true
	}
	if msg := sess.cacheProblem(); msg != "" {
		fmt.Fprintf(stderr, "imagescan: %s\n", msg)
	}
	for _, res := range results {
		suppress.Apply(res)
	}
	if err := writeReport(rep, f.output, stdout, &report.Report{Tool: tool(sess.det), FingerprintKey: sess.key.ID(), Images: results}); err != nil {
		fmt.Fprintf(stderr, "imagescan: %v\n", err)
		return &exitCodeError{exitError}
	}
	return verdict(results, failed, f.exitCode, failOn)
}

// suppressions reads the baseline and the ignore file: --ignore, or the
// default ignore file when it is present.
func suppressions(f scanFlags, key finding.Key, stderr io.Writer) (*baseline.Set, error) {
	set := baseline.NewSet()
	if f.baseline != "" {
		if err := set.AddBaseline(f.baseline, key.ID()); err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
	}
	if f.ignore != "" {
		if err := set.AddIgnoreFile(f.ignore); err != nil {
			return nil, fmt.Errorf("--ignore: %w", err)
		}
		return set, nil
	}
	found, err := set.AddDefaultIgnore()
	if err != nil {
		return nil, err
	}
	if found {
		fmt.Fprintf(stderr, "imagescan: suppressing the fingerprints in %s\n", baseline.DefaultIgnoreFile)
	}
	return set, nil
}

func scanOptions(f scanFlags) ([]scan.Option, error) {
	if f.maxRatio <= 0 {
		return nil, errors.New("--max-ratio must be greater than zero")
	}
	if f.maxDepth < 0 {
		return nil, errors.New("--max-depth must not be negative")
	}
	opts := []scan.Option{scan.WithMaxRatio(f.maxRatio), scan.WithMaxDepth(f.maxDepth), scan.WithSkipBinaries(f.skipBinaries)}
	if f.jobs != 0 {
		if f.jobs < 0 {
			return nil, errors.New("--jobs must be greater than zero")
		}
		opts = append(opts, scan.WithJobs(f.jobs))
	}
	return opts, nil
}

func checkExitCode(code int) error {
	if code < 0 || code > 255 || code == exitError {
		return fmt.Errorf("--exit-code must be between 0 and 255 and not %d, which means an error", exitError)
	}
	return nil
}

func reportOptions(f scanFlags) report.Options {
	return report.Options{ShowSecrets: f.showSecrets, ShowSuppressed: f.showSuppressed}
}

// session is what a command that scans needs: the detector, the
// fingerprint key, and the scan, source and report options.
type session struct {
	det      *secrets.Detector
	detector finding.Detector // det, or nothing with --no-detect
	key      finding.Key
	opts     []scan.Option
	srcOpts  []source.Option
	ropts    report.Options
	bars     *progress
	close    func()
	// cacheProblem says why the layer cache was given up during the
	// run, or "".
	cacheProblem func() string
	// cacheOpenErr says why the layer cache could not be opened, or "".
	cacheOpenErr string
}

func newSession(f scanFlags, stdin io.Reader, stderr io.Writer) (*session, error) {
	key, err := fingerprintKey(stderr)
	if err != nil {
		return nil, err
	}
	opts, err := scanOptions(f)
	if err != nil {
		return nil, err
	}
	det, err := secrets.New(secrets.WithRules(f.rules), secrets.WithCacheDir(cacheDir(f.cacheDir)))
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	s := &session{
		det: det, detector: det, key: key, close: func() {}, cacheProblem: func() string { return "" },
		srcOpts: []source.Option{source.WithPlatform(f.platform), source.WithInsecure(f.insecure), source.WithStdin(stdin), source.WithStallTimeout(f.stall)},
		ropts:   reportOptions(f),
		bars:    newProgress(stderr, !f.noProgress),
	}
	if f.noDetect {
		s.detector = nothing{}
	}
	switch {
	case f.noCache || f.noDetect:
	case f.cacheURL != "":
		opts = append(opts, s.openRedis(f, key, stderr)...)
	default:
		store, closeStore := openCache(f, det, stderr)
		s.close = closeStore
		if store != nil {
			opts = append(opts, store)
		}
	}
	// One cache for the whole run: a layer several images share is scanned once.
	s.opts = append(opts, scan.WithKey(key), scan.WithLayerCache(scan.NewBoundedLayerCache(f.layersKept)))
	return s, nil
}

// openRedis opens the shared layer cache of --cache-url as scan options.
// A Redis that does not answer is one warning, and the run goes on
// without a cache; one that stops answering is reported by cacheProblem.
func (s *session) openRedis(f scanFlags, key finding.Key, stderr io.Writer) []scan.Option {
	store, err := layercache.OpenRedis(context.Background(), f.cacheURL, f.cacheTTL, key.Derive("redis layer cache"))
	if err != nil {
		fmt.Fprintf(stderr, "imagescan: scanning without the layer cache: %v\n", err)
		s.cacheOpenErr = err.Error() + "; the run went on without it"
		return nil
	}
	s.close = func() { store.Close() }
	s.cacheProblem = func() string {
		if err := store.Err(); err != nil {
			return err.Error()
		}
		return ""
	}
	return []scan.Option{scan.WithLayerStore(store, s.det.Fingerprint()+"|"+executableID(), f.showSecrets)}
}

// scanInputs scans every image that the inputs name. Each error is printed
// on one line as it happens and kept in the results, so that the report
// says what was not scanned. ok is false when anything failed.
func (s *session) scanInputs(ctx context.Context, inputs []string, stderr io.Writer) ([]*scan.Result, bool) {
	var results []*scan.Result
	ok := true
	for _, in := range inputs {
		if ctx.Err() != nil {
			results = append(results, &scan.Result{Input: in, Errors: []string{in + ": not scanned: interrupted"}})
			ok = false
			continue
		}
		rs, rok := s.scanSet(ctx, in, func() (*source.Set, error) { return source.Open(ctx, in, s.srcOpts...) }, stderr)
		results = append(results, rs...)
		ok = ok && rok
	}
	return results, ok
}

// scanSet scans every image of the set that open returns.
func (s *session) scanSet(ctx context.Context, in string, open func() (*source.Set, error), stderr io.Writer) ([]*scan.Result, bool) {
	set, err := open()
	if err != nil {
		fmt.Fprintf(stderr, "imagescan: %v\n", err)
		return []*scan.Result{{Input: in, Errors: []string{err.Error()}}}, false
	}
	defer set.Close()
	var results []*scan.Result
	ok := true
	for _, t := range set.Targets {
		res, err := s.bars.run(ctx, t, s.detector, s.opts)
		if err != nil {
			ok = false
			if ctx.Err() == nil { // an interruption is reported once, by the caller
				printErrors(stderr, res, err, s.ropts)
			}
		}
		if res != nil {
			results = append(results, res)
		}
	}
	return results, ok
}

// cacheDir is where imagescan keeps what it can rebuild: the layer cache
// and the compiled rule database. It is "" (keep nothing) when there is
// no user cache directory.
func cacheDir(flag string) string {
	if flag != "" {
		return flag
	}
	dir, err := layercache.DefaultDir()
	if err != nil {
		return ""
	}
	return dir
}

// openCache opens the layer cache as a scan option, or returns nil (and
// says why on stderr) when it cannot be used: a cache is an optimisation,
// never a reason to fail.
func openCache(f scanFlags, det *secrets.Detector, stderr io.Writer) (scan.Option, func()) {
	dir := cacheDir(f.cacheDir)
	if dir == "" {
		fmt.Fprintln(stderr, "imagescan: no layer cache: there is no user cache directory (set --cache-dir)")
		return nil, func() {}
	}
	store, err := layercache.Open(dir)
	if err != nil {
		fmt.Fprintf(stderr, "imagescan: scanning without the layer cache: %v\n", err)
		return nil, func() {}
	}
	build := executableID()
	det.KeepCleanContents(store, build)
	closeStore := func() {
		if err := det.FlushContents(); err != nil {
			fmt.Fprintf(stderr, "imagescan: layer cache: %v\n", err)
		}
		store.Close()
	}
	return scan.WithLayerStore(store, det.Fingerprint()+"|"+build, f.showSecrets), closeStore
}

// executableID is a digest of the running program, so that cache entries
// written by another build of imagescan are never used.
func executableID() string {
	path, err := os.Executable()
	if err != nil {
		return toolVersion()
	}
	file, err := os.Open(path)
	if err != nil {
		return toolVersion()
	}
	defer file.Close()
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		return toolVersion()
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// nothing is the detector of --no-detect, which only the benchmark's build
// has: every file is read, nothing is looked for, so a run measures the
// cost of reading alone.
type nothing struct{}

func (nothing) SkipContent(string) string { return "" }
func (nothing) DetectFile(context.Context, finding.File) []finding.Match {
	return nil
}
func (nothing) DetectVariable(context.Context, string, string) []finding.Match { return nil }

// startProfile writes a CPU profile to path until stop is called.
func startProfile(path string) (stop func(), err error) {
	file, err := outfile.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(file); err != nil {
		file.Abort()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = file.Commit() }, nil
}

// printErrors prints a scan's errors, one per line, redacted like the
// report.
func printErrors(stderr io.Writer, res *scan.Result, err error, ropts report.Options) {
	lines := strings.Split(err.Error(), "\n")
	if res != nil {
		lines = report.Errors(res, ropts)
	}
	for _, line := range lines {
		fmt.Fprintf(stderr, "imagescan: %s\n", line)
	}
}

func tool(det *secrets.Detector) report.Tool {
	return report.Tool{Name: "imagescan", Version: toolVersion(), Gitleaks: secrets.GitleaksVersion(), Rules: det.Rules()}
}

// writeReport writes to stdout, or to a new 0600 file (see outfile).
func writeReport(rep report.Reporter, output string, stdout io.Writer, r *report.Report) error {
	write := func(w io.Writer) error { return rep.Write(w, r) }
	if output == "" {
		return write(stdout)
	}
	return outfile.Write(output, write)
}

// verdict picks the exit code: an error beats findings, findings at or
// above failOn beat clean.
func verdict(results []*scan.Result, failed bool, leakCode int, failOn finding.Severity) error {
	if failed {
		return &exitCodeError{exitError}
	}
	for _, r := range results {
		for _, f := range r.Findings {
			if f.Severity.AtLeast(failOn) {
				if leakCode == exitClean {
					return nil
				}
				return &exitCodeError{leakCode}
			}
		}
	}
	return nil
}
