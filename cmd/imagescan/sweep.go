package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/fleet"
	"github.com/imagescan/imagescan/internal/outfile"
	"github.com/imagescan/imagescan/layercache"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/scan/layers"
	"github.com/imagescan/imagescan/source"
)

type sweepFlags struct {
	scanFlags
	allTags bool
	// allTagsSet says that --all-tags was given.
	allTagsSet bool
	tagsLimit  int
	reposFile  string
	shard      string
	shards     int
	resume     string
}

// completionIndexEnv is the variable a Kubernetes Indexed Job sets in each
// pod: its index, from 0.
const completionIndexEnv = "JOB_COMPLETION_INDEX"

// sweepLayersKept bounds how many layer scans a sweep keeps in memory;
// the layer cache (local or Redis) keeps the rest.
const sweepLayersKept = 512

func newSweepCmd(stdout, stderr io.Writer) *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep [flags] REGISTRY[/PREFIX]",
		Short: "Scan every repository and tag of a registry into one fleet report",
		Long: `Sweep a registry: list its repositories (the catalog API, or --repos-file)
under PREFIX, their tags and the digests the tags name, scan each distinct
image once (every platform of an index, or --platform), and write one
fleet report: a row per image, every secret with the images that hold it,
and totals. A layer that several images share is detected once.

Split a sweep across machines with --shard I/N (I from 1), or --shards N
in a Kubernetes Indexed Job (the pod's $JOB_COMPLETION_INDEX picks the
shard); share layer scans between them with --cache-url redis://HOST:PORT/DB,
give every shard the same $IMAGESCAN_FINGERPRINT_KEY, and combine the shard
reports with imagescan merge. In --output, {shard} stands for the shard's
number, from 1.

Exit 0 when clean, 1 (or --exit-code) when secrets are found, 2 when an
image, a repository or the catalog could not be read, or the sweep was
interrupted: the report still holds everything read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.allTagsSet = cmd.Flags().Changed("all-tags")
			return runSweep(cmd.Context(), &f, args[0], stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "text", "report format: text, json, sarif or html")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` (created with mode 0600; {shard} is the shard's number)")
	fl.BoolVar(&f.showSecrets, "show-secrets", false, "print raw secret values; without it every output is redacted")
	fl.IntVar(&f.exitCode, "exit-code", exitLeaks, "exit code when secrets are found")
	fl.StringVar(&f.failOn, "fail-on", "low", "the lowest severity that makes the exit code non-zero: critical, high, medium or low")
	fl.IntVarP(&f.jobs, "jobs", "j", 0, "images scanned at once, and layers of each (default: the number of CPUs)")
	fl.BoolVarP(&f.noProgress, "no-progress", "q", false, "no progress line (there is never one when stderr is not a terminal)")
	fl.StringVar(&f.platform, "platform", "", "scan only this platform of each index, `os/arch[/variant]` (default: every platform)")
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to registries that are not on a loopback address")
	fl.StringVar(&f.rules, "config", "", "gitleaks-format rules `FILE`, as for scan")
	fl.BoolVar(&f.skipBinaries, "skip-binaries", false, "scan binary files by their path alone, not their printable strings")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither use nor fill a layer cache")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where the local layer cache and the compiled rule database live")
	cacheURLFlags(fl, &f.scanFlags)
	stallFlag(fl, &f.stall)
	fl.BoolVar(&f.allTags, "all-tags", true, "scan the image of every tag (the default; see --tags-limit)")
	fl.IntVar(&f.tagsLimit, "tags-limit", 0, "scan only the newest `N` images of each repository, by their created time")
	fl.StringVar(&f.reposFile, "repos-file", "", "sweep the repositories listed in `FILE`, one per line, instead of the catalog's")
	fl.StringVar(&f.shard, "shard", "", "sweep only shard `I/N` of the repositories (I from 1 to N)")
	fl.IntVar(&f.shards, "shards", 0, "split the sweep into `N` shards and sweep the one $JOB_COMPLETION_INDEX (from 0) names")
	fl.StringVar(&f.resume, "resume", "", "an earlier fleet report (JSON) of this sweep: its images read without errors are kept, not scanned again")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE` (for the benchmark)")
	_ = fl.MarkHidden("cpuprofile")
	f.maxRatio, f.maxDepth = scan.DefaultMaxRatio, layers.DefaultMaxDepth
	return cmd
}

func runSweep(ctx context.Context, f *sweepFlags, target string, stdout, stderr io.Writer) error {
	failOn, err := fleetReportFlags(f.format, f.failOn, f.exitCode)
	if err != nil {
		return err
	}
	cfg, err := sweepConfig(f, target)
	if err != nil {
		return err
	}
	if f.cpuProfile != "" {
		stop, err := startProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	f.layersKept = sweepLayersKept
	sess, err := newSession(f.scanFlags, nil, stderr)
	if err != nil {
		return err
	}
	defer sess.close()
	out := report.NewFleet(tool(sess.det), sess.key.ID(), cfg.Registry.Name(), cfg.Prefix, cfg.Shard, f.showSecrets)
	if err := resume(f.resume, out, &cfg); err != nil {
		return err
	}
	cfg.Scan = func(ctx context.Context, t *scan.Target) (*scan.Result, error) {
		return scan.Run(ctx, t, sess.detector, sess.opts...)
	}
	line := newSweepLine(stderr, !f.noProgress)
	cfg.Progress = line.update
	fleet.Sweep(ctx, cfg, out)
	line.finish()
	for _, msg := range []string{sess.cacheOpenErr, sess.cacheProblem()} {
		if msg != "" {
			out.Warnings = append(out.Warnings, msg)
		}
	}
	if msg := sess.cacheProblem(); msg != "" {
		fmt.Fprintf(stderr, "imagescan: %s\n", msg)
	}
	output := strings.ReplaceAll(f.output, "{shard}", strconv.Itoa(cfg.Shard.Index+1))
	if err := writeFleet(out, f.format, output, stdout); err != nil {
		fmt.Fprintf(stderr, "imagescan: %v\n", err)
		return &exitCodeError{exitError}
	}
	for _, line := range out.Problems() {
		fmt.Fprintf(stderr, "imagescan: %s\n", line)
	}
	return fleetVerdict(out, f.exitCode, failOn)
}

// sweepConfig reads the sweep's target and flags.
func sweepConfig(f *sweepFlags, target string) (fleet.Config, error) {
	host, prefix, _ := strings.Cut(strings.TrimPrefix(target, "docker://"), "/")
	reg, err := source.NewRegistry(host, source.WithInsecure(f.insecure), source.WithStallTimeout(f.stall))
	if err != nil {
		return fleet.Config{}, err
	}
	cfg := fleet.Config{Registry: reg, Prefix: strings.Trim(prefix, "/"), Platform: f.platform, Jobs: f.jobs}
	if cfg.Jobs == 0 {
		cfg.Jobs = runtime.NumCPU()
	}
	if cfg.Jobs < 0 {
		return cfg, errors.New("--jobs must be greater than zero")
	}
	switch {
	case f.tagsLimit < 0:
		return cfg, errors.New("--tags-limit must not be negative")
	case f.tagsLimit > 0 && f.allTagsSet && f.allTags:
		return cfg, errors.New("use --all-tags or --tags-limit N, not both")
	case f.tagsLimit == 0 && !f.allTags:
		return cfg, errors.New("--all-tags=false needs --tags-limit N: how many of each repository's newest images to scan")
	}
	cfg.TagsLimit = f.tagsLimit
	if cfg.Shard, err = shardOf(f.shard, f.shards); err != nil {
		return cfg, err
	}
	if f.reposFile != "" {
		if cfg.Repositories, err = readRepos(f.reposFile, cfg.Prefix); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// shardOf reads --shard I/N, or --shards N with $JOB_COMPLETION_INDEX.
func shardOf(flag string, shards int) (report.Shard, error) {
	switch {
	case flag != "" && shards != 0:
		return report.Shard{}, errors.New("use --shard I/N or --shards N, not both")
	case flag != "":
		i, n, ok := strings.Cut(flag, "/")
		index, err1 := strconv.Atoi(i)
		count, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || count < 1 || index < 1 || index > count {
			return report.Shard{}, fmt.Errorf("--shard %q is not I/N with 1 <= I <= N", flag)
		}
		return report.Shard{Index: index - 1, Count: count}, nil
	case shards < 0:
		return report.Shard{}, errors.New("--shards must be greater than zero")
	case shards > 0:
		v, ok := os.LookupEnv(completionIndexEnv)
		index, err := strconv.Atoi(v)
		if !ok || err != nil || index < 0 || index >= shards {
			return report.Shard{}, fmt.Errorf("--shards %d needs $%s set to the shard's index, from 0 to %d (a Kubernetes Indexed Job sets it); it is %q", shards, completionIndexEnv, shards-1, v)
		}
		return report.Shard{Index: index, Count: shards}, nil
	}
	return report.Shard{Index: 0, Count: 1}, nil
}

// readRepos reads --repos-file: a repository per line, # for comments,
// kept when under prefix.
func readRepos(path, prefix string) ([]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--repos-file: %w", err)
	}
	defer file.Close()
	repos := []string{}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.Trim(strings.TrimSpace(line), "/")
		if line != "" && (prefix == "" || line == prefix || strings.HasPrefix(line, prefix+"/")) {
			repos = append(repos, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--repos-file %s: %w", path, err)
	}
	return repos, nil
}

// resume keeps, from the earlier report path names, the images read
// without errors, and tells the sweep not to scan them again.
func resume(path string, out *report.Fleet, cfg *fleet.Config) error {
	if path == "" {
		return nil
	}
	earlier, err := readFleet(path)
	if err != nil {
		return fmt.Errorf("--resume: %w", err)
	}
	if err := out.Resume(earlier); err != nil {
		return fmt.Errorf("--resume %s: %w", path, err)
	}
	cfg.Done = out.Has
	return nil
}

func readFleet(path string) (*report.Fleet, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	f, err := report.ReadFleet(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// writeFleet writes to stdout, or to a new 0600 file.
func writeFleet(f *report.Fleet, format, output string, stdout io.Writer) error {
	write := func(w io.Writer) error { return report.WriteFleet(w, format, f) }
	if output == "" {
		return write(stdout)
	}
	return outfile.Write(output, write)
}

// fleetVerdict picks the exit code as verdict does for scan.
func fleetVerdict(f *report.Fleet, leakCode int, failOn finding.Severity) error {
	switch {
	case f.Failed():
		return &exitCodeError{exitError}
	case f.Leaks(failOn) && leakCode != exitClean:
		return &exitCodeError{leakCode}
	}
	return nil
}

// cacheURLFlags registers the shared layer cache's flags.
func cacheURLFlags(fl interface {
	StringVar(*string, string, string, string)
	DurationVar(p *time.Duration, name string, value time.Duration, usage string)
}, f *scanFlags) {
	fl.StringVar(&f.cacheURL, "cache-url", "", "keep layer scans in the Redis server at `URL` (redis://HOST:PORT/DB, rediss:// for TLS), shared by every imagescan that uses it")
	fl.DurationVar(&f.cacheTTL, "cache-ttl", layercache.DefaultTTL, "how long a layer scan stays in the Redis cache")
}
