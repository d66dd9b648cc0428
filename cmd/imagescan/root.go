package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/imagescan/imagescan/scan/secrets"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes (README, "Exit codes").
const (
	exitClean = 0
	exitLeaks = 1
	exitError = 2
)

// exitCodeError ends a command with an exit code. Its message, if any, has
// already been printed.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ec *exitCodeError
	switch {
	case err == nil:
		return exitClean
	case errors.As(err, &ec):
		return ec.code
	default:
		fmt.Fprintf(stderr, "imagescan: %v\n", err)
		return exitError
	}
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "imagescan",
		Short:         "Find leaked credentials in container images, including in deleted files and build history",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newScanCmd(stdin, stdout, stderr), newExtractCmd(stdin, stdout, stderr), newDiffCmd(stdin, stdout, stderr),
		newSweepCmd(stdout, stderr), newMergeCmd(stdout, stderr), newVersionCmd(stdout))
	return root
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the gitleaks version and the number of rules",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			det, err := secrets.New(secrets.WithCacheDir(cacheDir("")))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "imagescan %s\ngitleaks %s (%d rules)\nprefilter: %s\n", toolVersion(), secrets.GitleaksVersion(), det.Rules(), det.Prefilter())
			return nil
		},
	}
}

func toolVersion() string {
	if version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return version
}
