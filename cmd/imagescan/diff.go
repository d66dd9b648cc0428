package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/imagescan/imagescan/baseline"
	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/outfile"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/scan/layers"
)

func newDiffCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "diff [flags] OLD NEW",
		Short: "Compare two images' findings: fixed, still present, new",
		Long: `Scan OLD and NEW (any IMAGE form, as for scan) and compare their findings
by fingerprint: fixed (in OLD only), still present (in both), new (in NEW
only). It verifies a fix, e.g. that a rebuild with a multi-stage build or a
BuildKit secret mount really removed a token.

Exit 0 when nothing is still present or new, 1 (or --exit-code) when
something is, 2 on an error. A multi-stage rebuild leaves its first stage
behind as a dangling image, which may still hold the token: scan it too
(imagescan scan --all-local, or the stage's image ID).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), f, args[0], args[1], stdin, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "text", "report format: text, json or html")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` (created with mode 0600) instead of stdout")
	fl.BoolVar(&f.showSecrets, "show-secrets", false, "print raw secret values; without it every output is redacted")
	fl.IntVar(&f.exitCode, "exit-code", exitLeaks, "exit code when a finding is still present or new")
	fl.StringVar(&f.failOn, "fail-on", "low", "the lowest severity of a still present or new finding that makes the exit code non-zero")
	fl.StringVar(&f.rules, "config", "", "gitleaks-format rules `FILE`, as for scan")
	fl.StringVar(&f.platform, "platform", "", "compare only this platform of an index, `os/arch[/variant]`")
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to registries that are not on a loopback address")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither use nor fill the layer cache")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where the layer cache and the compiled rule database live")
	fl.IntVarP(&f.jobs, "jobs", "j", 0, "layers scanned at once (default: the number of CPUs)")
	fl.BoolVarP(&f.noProgress, "no-progress", "q", false, "no progress bar")
	stallFlag(fl, &f.stall)
	f.maxRatio, f.maxDepth = scan.DefaultMaxRatio, layers.DefaultMaxDepth
	return cmd
}

func runDiff(ctx context.Context, f scanFlags, old, new string, stdin io.Reader, stdout, stderr io.Writer) error {
	failOn, err := finding.ParseSeverity(f.failOn)
	if err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	if err := checkExitCode(f.exitCode); err != nil {
		return err
	}
	if f.format != "text" && f.format != "json" && f.format != "html" {
		return fmt.Errorf("unknown format %q (want text, json or html)", f.format)
	}
	sess, err := newSession(f, stdin, stderr)
	if err != nil {
		return err
	}
	defer sess.close()
	oldResults, okOld := sess.scanInputs(ctx, []string{old}, stderr)
	newResults, okNew := sess.scanInputs(ctx, []string{new}, stderr)
	d := &report.Diff{
		Tool: tool(sess.det), FingerprintKey: sess.key.ID(), Old: oldResults, New: newResults,
		Changes: baseline.Compare(oldResults, newResults),
	}
	if err := writeDiff(f, stdout, d, sess.ropts); err != nil {
		fmt.Fprintf(stderr, "imagescan: %v\n", err)
		return &exitCodeError{exitError}
	}
	if !okOld || !okNew || ctx.Err() != nil {
		return &exitCodeError{exitError}
	}
	for _, e := range append(d.Changes.Present, d.Changes.New...) {
		if e.Finding.Severity.AtLeast(failOn) && f.exitCode != exitClean {
			return &exitCodeError{f.exitCode}
		}
	}
	return nil
}

func writeDiff(f scanFlags, stdout io.Writer, d *report.Diff, o report.Options) error {
	write := func(w io.Writer) error { return report.WriteDiff(w, f.format, d, o) }
	if f.output == "" {
		return write(stdout)
	}
	return outfile.Write(f.output, write)
}
