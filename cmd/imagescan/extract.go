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
where you say. Existing files are never overwritten.`,
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
	if provPath != "" {
		if _, err := os.Lstat(provPath); err == nil {
			return fmt.Errorf("provenance: %s exists (an existing file is never overwritten)", provPath)
		}
	}
	t, closeSet, err := openOne(ctx, in, f, stdin)
	if err != nil {
		return err
	}
	defer closeSet()
	det, err := secrets.New()
	if err != nil {
		return err
	}
	out, finish, err := createOutput(f.output, stdout)
	if err != nil {
		return err
	}
	ev, xerr := scan.Extract(ctx, t, f.layer, f.path, out, det)
	if err := finish(ev != nil && ev.SHA256 != ""); err != nil {
		return err
	}
	if ev == nil || ev.SHA256 == "" { // nothing was copied whole
		return xerr
	}
	p := report.Provenance{Tool: tool(det), Evidence: ev, Output: orDash(f.output), ExtractedAt: time.Now(), ShowSecrets: f.showSecrets}
	if err := writeProvenance(provPath, stderr, p); err != nil {
		return err
	}
	return xerr
}

// openOne opens the input and returns its one image; an input with several
// (an archive of two images, an index without --platform) must name one.
func openOne(ctx context.Context, in string, f extractFlags, stdin io.Reader) (*scan.Target, func(), error) {
	set, err := source.Open(ctx, in, source.WithPlatform(f.platform), source.WithInsecure(f.insecure), source.WithStdin(stdin))
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

// createOutput opens where the bytes go. finish closes it and, when the
// copy did not complete, removes the file, so that no partial copy passes
// for evidence.
func createOutput(path string, stdout io.Writer) (io.Writer, func(complete bool) error, error) {
	if path == "" {
		return stdout, func(bool) error { return nil }, nil
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("-o: %w (an existing file is never overwritten)", err)
	}
	return file, func(complete bool) error {
		err := file.Close()
		if !complete {
			os.Remove(path)
			return nil
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}, nil
}

func writeProvenance(path string, stderr io.Writer, p report.Provenance) error {
	write := func(w io.Writer) error { return report.WriteProvenance(w, p) }
	if path == "" {
		return write(stderr)
	}
	if err := writeFile(path, os.O_EXCL, write); err != nil {
		return fmt.Errorf("provenance: %w (an existing file is never overwritten)", err)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
