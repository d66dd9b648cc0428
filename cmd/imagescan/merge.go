package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/report"
)

type mergeFlags struct {
	format   string
	output   string
	exitCode int
	failOn   string
}

func newMergeCmd(stdout, stderr io.Writer) *cobra.Command {
	var f mergeFlags
	cmd := &cobra.Command{
		Use:   "merge [flags] REPORT|DIR...",
		Short: "Combine the JSON reports of a sweep's shards into one fleet report",
		Long: `Combine fleet reports that imagescan sweep -f json wrote for the shards of
one sweep into the report one process sweeping everything would give. A
DIR stands for the .json files in it (where an Indexed Job's pods wrote
their reports). The
shards must share their fingerprint key ($IMAGESCAN_FINGERPRINT_KEY); a
missing shard leaves the report incomplete, and a shard given twice is an
error.

Exit codes are those of sweep, for the merged report.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMerge(f, args, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "text", "report format: text, json, sarif or html")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` (created with mode 0600) instead of stdout")
	fl.IntVar(&f.exitCode, "exit-code", exitLeaks, "exit code when secrets are found")
	fl.StringVar(&f.failOn, "fail-on", "low", "the lowest severity that makes the exit code non-zero: critical, high, medium or low")
	return cmd
}

func runMerge(f mergeFlags, paths []string, stdout, stderr io.Writer) error {
	failOn, err := fleetReportFlags(f.format, f.failOn, f.exitCode)
	if err != nil {
		return err
	}
	paths, err = reportFiles(paths)
	if err != nil {
		return err
	}
	merged, err := readFleet(paths[0])
	if err != nil {
		return err
	}
	for _, path := range paths[1:] {
		next, err := readFleet(path)
		if err != nil {
			return err
		}
		if err := merged.Merge(next); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	merged.CheckShards()
	if err := writeFleet(merged, f.format, f.output, stdout); err != nil {
		fmt.Fprintf(stderr, "imagescan: %v\n", err)
		return &exitCodeError{exitError}
	}
	for _, line := range merged.Problems() {
		fmt.Fprintf(stderr, "imagescan: %s\n", line)
	}
	return fleetVerdict(merged, f.exitCode, failOn)
}

// reportFiles expands each directory among paths into the .json files it
// holds, in name order.
func reportFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		found, err := filepath.Glob(filepath.Join(p, "*.json"))
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no .json reports", p)
		}
		out = append(out, found...) // Glob sorts
	}
	return out, nil
}

// fleetReportFlags checks the flags of a fleet report, sweep's and
// merge's, and returns the severity that fails the run.
func fleetReportFlags(format, failOn string, exitCode int) (finding.Severity, error) {
	sev, err := finding.ParseSeverity(failOn)
	if err != nil {
		return "", fmt.Errorf("--fail-on: %w", err)
	}
	if err := checkExitCode(exitCode); err != nil {
		return "", err
	}
	if !slices.Contains(report.Formats, format) {
		return "", fmt.Errorf("--format: %q is not one of %s", format, strings.Join(report.Formats, ", "))
	}
	return sev, nil
}
