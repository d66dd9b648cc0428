package source_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/source"
)

func TestStdinGivesTheFileFindings(t *testing.T) {
	want := where(run(t, open(t, deletedFixture)))
	for _, file := range []string{
		deletedFixture,
		"../fixtures/forms/npm-deleted.tar.gz",
		"../fixtures/forms/npm-deleted.oci.tar",
		"../fixtures/forms/npm-deleted.zstd.oci.tar",
	} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			spool := t.TempDir()
			set, err := source.Open(context.Background(), "-", source.WithStdin(bytes.NewReader(data)), source.WithTempDir(spool))
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			// The spool file is unlinked as soon as it is created: nothing is
			// on disk by name, even while the scan reads it.
			if left, _ := os.ReadDir(spool); len(left) != 0 {
				t.Errorf("the spool directory holds %v", left)
			}
			if len(set.Targets) != 1 || set.Targets[0].Input != "-" {
				t.Fatalf("targets %v", set.Targets)
			}
			if diff := cmp.Diff(want, where(run(t, set.Targets[0]))); diff != "" {
				t.Errorf("findings (-file +stdin):\n%s", diff)
			}
		})
	}
}

func TestStdinErrors(t *testing.T) {
	tests := map[string]struct {
		opts []source.Option
		want string
	}{
		"no reader":     {nil, "-: no standard input to read"},
		"empty":         {[]source.Option{source.WithStdin(strings.NewReader(""))}, "-: reading standard input: it is empty"},
		"not a tar":     {[]source.Option{source.WithStdin(strings.NewReader(strings.Repeat("garbage ", 100)))}, "-: not a readable tar archive"},
		"broken stream": {[]source.Option{source.WithStdin(iotest.ErrReader(os.ErrClosed))}, "-: reading standard input: file already closed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := source.Open(context.Background(), "-", append(tc.opts, source.WithTempDir(t.TempDir()))...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStdinSpoolStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := source.Open(ctx, "-", source.WithStdin(endless{}), source.WithTempDir(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("err = %v, want the cancellation", err)
	}
}

// endless is a standard input that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }
