package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/imagescan/imagescan/internal/outfile"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/scan/secrets"
	"github.com/imagescan/imagescan/source"
)

type extractFlags struct {
	layer       int
	path        string
	output      string
	provenance  string
	platform    string
	insecure    bool
	showSecrets bool
	stall       time.Duration
}

func newExtractCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f extractFlags
	cmd := &cobra.Command{
		Use:   "extract IMAGE --layer N --path PATH [-o FILE]",
		Short: "Copy one file out of one layer, even one a later layer deletes, with its provenance",
		Long: `Copy the file at PATH in layer N of IMAGE: the bytes that layer holds, even
when a later layer deletes or overwrites the file. The layer is read to its
end and checked against its digests.

Beside the file, FILE.provenance.json records where the bytes came from:
the image, the layer's digest and diff_id, the history step that made the
layer (redacted unless --show-secrets), the path, size, SHA-256, and when
they were extracted. Without -o the bytes go to stdout, which must not be
a terminal, and the provenance to --provenance FILE, else to stderr.

This is the one imagescan command that writes image content, and only
where you say. Like every file imagescan writes, each is a new file with
mode 0600 renamed into place: an existing regular file is replaced, and a
symlink or special file at the path is refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExtract(cmd.Context(), f, args[0], stdin, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.layer, "layer", -1, "the layer's index, 0-based as in the scan report")
	fl.StringVar(&f.path, "path", "", "the file's path in the layer, as in the scan report")
	fl.StringVarP(&f.output, "output", "o", "", "write the file to `FILE` (created with mode 0600; required when stdout is a terminal)")
	fl.StringVar(&f.provenance, "provenance", "", "write the provenance to `FILE` (default: the output file's name plus .provenance.json)")
	fl.StringVar(&f.platform, "platform", "", "the platform of an index to read, `os/arch[/variant]`")
	fl.BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to registries that are not on a loopback address")
	fl.BoolVar(&f.showSecrets, "show-secrets", false, "do not redact the history step in the provenance")
	stallFlag(fl, &f.stall)
	_ = cmd.MarkFlagRequired("layer")
	_ = cmd.MarkFlagRequired("path")
	return cmd
}

func runExtract(ctx context.Context, f extractFlags, in string, stdin io.Reader, stdout, stderr io.Writer) error {
	if f.output == "" && isTerminal(stdout) {
		return errors.New("refusing to write file content to a terminal: name a file with -o FILE")
	}
	provPath := f.provenance
	if provPath == "" && f.output != "" {
		provPath = f.output + ".provenance.json"
	}
	t, closeSet, err := openOne(ctx, in, f, stdin)
	if err != nil {
		return err
	}
	defer closeSet()
	det, err := secrets.New(secrets.WithCacheDir(cacheDir("")))
	if err != nil {
		return err
	}
	// Both files are started before anything is read, so that a refused
	// destination leaves nothing behind.
	out, finish, err := createOutput(f.output, stdout)
	if err != nil {
		return err
	}
	prov, finishProv, err := createOutput(provPath, stderr)
	if err != nil {
		_ = finish(false)
		return fmt.Errorf("provenance: %w", err)
	}
	ev, xerr := scan.Extract(ctx, t, f.layer, f.path, out, det)
	complete := ev != nil && ev.SHA256 != "" // copied whole
	if err := finish(complete); err != nil {
		_ = finishProv(false)
		return err
	}
	if !complete {
		_ = finishProv(false)
		return xerr
	}
	p := report.Provenance{Tool: tool(det), Evidence: ev, Output: orDash(f.output), ExtractedAt: time.Now(), ShowSecrets: f.showSecrets}
	if err := report.WriteProvenance(prov, p); err != nil {
		_ = finishProv(false)
		return fmt.Errorf("provenance: %w", err)
	}
	if err := finishProv(true); err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	return xerr
}

// openOne opens the input and returns its one image; an input with several
// (an archive of two images, an index without --platform) must name one.
func openOne(ctx context.Context, in string, f extractFlags, stdin io.Reader) (*scan.Target, func(), error) {
	set, err := source.Open(ctx, in, source.WithPlatform(f.platform), source.WithInsecure(f.insecure), source.WithStdin(stdin), source.WithStallTimeout(f.stall))
	if err != nil {
		return nil, nil, err
	}
	if len(set.Targets) != 1 {
		var names []string
		for _, t := range set.Targets {
			names = append(names, t.Reference)
		}
		set.Close()
		return nil, nil, fmt.Errorf("%s holds %d images (%s): name one, with --platform for an index or docker-archive:FILE:NAME for an archive", in, len(names), strings.Join(names, ", "))
	}
	return set.Targets[0], func() { set.Close() }, nil
}

// createOutput opens where output goes: a new file at path (see outfile),
// or std when path is empty. finish renames the file into place or, when
// the output did not complete, removes it, so that no partial copy passes
// for evidence.
func createOutput(path string, std io.Writer) (io.Writer, func(complete bool) error, error) {
	if path == "" {
		return std, func(bool) error { return nil }, nil
	}
	file, err := outfile.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return file, func(complete bool) error {
		if !complete {
			file.Abort()
			return nil
		}
		return file.Commit()
	}, nil
}

// isTerminal reports whether a stream (stdin, stdout) is a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
