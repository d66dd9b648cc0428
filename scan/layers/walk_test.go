package layers_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	. "github.com/imagescan/imagescan/scan/layers"
)

// fakeDetector reports every "SECRET=value" in a file, skips .png files and
// flags .p12 files by path, so that the walker is tested apart from the rule
// set.
type fakeDetector struct{}

const marker = "SECRET="

func (fakeDetector) SkipContent(p string) string {
	if strings.HasSuffix(p, ".png") {
		return finding.SkipAllowlisted
	}
	return ""
}

func (fakeDetector) DetectFile(_ context.Context, f finding.File) []finding.Match {
	var ms []finding.Match
	if strings.HasSuffix(f.Path, ".p12") {
		ms = append(ms, finding.Match{RuleID: "p12-file"})
	}
	for i, line := range bytes.Split(f.Content, []byte("\n")) {
		for off := 0; ; {
			j := bytes.Index(line[off:], []byte(marker))
			if j < 0 {
				break
			}
			start := off + j + len(marker)
			end := start
			for end < len(line) && line[end] != ' ' {
				end++
			}
			ms = append(ms, finding.Match{RuleID: "fake", Secret: finding.NewSecret(string(line[start:end])), Line: i + 1, Column: start + 1})
			off = end
		}
	}
	return ms
}

func (fakeDetector) DetectVariable(context.Context, string, string) []finding.Match { return nil }

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// found is the part of a finding a walk decides.
type found struct {
	Path, Secret string
	Line, Column int
	Status       finding.Status
	RemovedBy    int
	SHA          string
}

func founds(res *Result) []found {
	var out []found
	for _, f := range res.Findings {
		l := f.Location
		out = append(out, found{l.Path, f.Secret.Raw(), l.Line, l.Column, l.Status, l.RemovedByLayer, l.FileSHA256})
	}
	return out
}

func walk(t *testing.T, index int, tarball []byte, opt Options) *Result {
	t.Helper()
	res, err := Walk(context.Background(), index, bytes.NewReader(tarball), fakeDetector{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWalkFindsSecretsAndCountsWhatItSkips(t *testing.T) {
	env := "A=1\nB=2 SECRET=s3cr3t-value-one\n"
	layer := fixture.Tar(t,
		fixture.Dir("./app/"),
		fixture.File("./app/.env", env),
		fixture.File("/app/logo.png", "SECRET=inside-an-allowlisted-png"),
		fixture.File("app/bin/tool", "\x7fELF\x00\x00 SECRET=in-a-binary"),
		fixture.File("app/client.p12", "\x30\x82\x00binary"),
		fixture.Symlink("app/link", "../../etc/shadow"),
		fixture.Symlink("app/cert", "/run/secrets/client.p12"),
		fixture.Hardlink("app/env-copy", "app/.env"),
		fixture.Whiteout("app", "old.txt"),
		fixture.Opaque("cache"),
		fixture.File("app/node_modules/x/index.js", "x SECRET=in-node-modules\n"),
	)
	res := walk(t, 2, layer, Options{SkipBinaries: true})
	want := []found{
		{"app/.env", "s3cr3t-value-one", 2, 12, finding.Visible, -1, sha(env)},
		{"app/client.p12", "", 0, 0, finding.Visible, -1, sha("\x30\x82\x00binary")},
		{"app/cert", "", 0, 0, finding.Visible, -1, ""},
		{"app/node_modules/x/index.js", "in-node-modules", 1, 10, finding.Visible, -1, sha("x SECRET=in-node-modules\n")},
	}
	if diff := cmp.Diff(want, founds(res)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range res.Findings {
		if f.Location.LayerIndex != 2 || f.Location.Kind != finding.KindLayer {
			t.Errorf("%s: layer %d kind %s, want layer 2", f.Location.Path, f.Location.LayerIndex, f.Location.Kind)
		}
	}
	wantCov := finding.Coverage{
		Files: 2, Bytes: int64(len(env) + len("x SECRET=in-node-modules\n")), Links: 3, Removed: 2,
		Skipped:    map[string]int64{finding.SkipAllowlisted: 1, finding.SkipBinary: 2},
		Suppressed: map[string]int64{},
	}
	if diff := cmp.Diff(wantCov, res.Coverage); diff != "" {
		t.Errorf("coverage (-want +got):\n%s", diff)
	}
}

func TestWalkWindowsKeepLinesAndColumnsExact(t *testing.T) {
	var b strings.Builder
	for i := range 400 {
		fmt.Fprintf(&b, "line %d filler text", i+1)
		if i%37 == 0 {
			fmt.Fprintf(&b, " SECRET=value-on-line-%d", i+1)
		}
		b.WriteString("\n")
	}
	// A long line with no newline that spans several windows.
	b.WriteString(strings.Repeat("x", 300) + " SECRET=at-the-end-of-a-long-line")
	content := b.String()
	layer := fixture.Tar(t, fixture.File("big.txt", content))

	whole := founds(walk(t, 0, layer, Options{Window: 1 << 20}))
	if len(whole) != 12 {
		t.Fatalf("one window found %d secrets, want 12", len(whole))
	}
	// The overlap must hold the longest secret (32 bytes with its marker).
	for _, window := range []int{100, 160, 257, 1000} {
		res := walk(t, 0, layer, Options{Window: window, Overlap: 45})
		if diff := cmp.Diff(whole, founds(res)); diff != "" {
			t.Errorf("window %d: findings differ from a single window (-want +got):\n%s", window, diff)
		}
		if res.Coverage.Bytes != int64(len(content)) || res.Coverage.Files != 1 {
			t.Errorf("window %d: coverage %d files %d bytes, want 1 file %d bytes", window, res.Coverage.Files, res.Coverage.Bytes, len(content))
		}
	}
}

func TestWalkSameLayerRewriteOverwrites(t *testing.T) {
	layer := fixture.Tar(t,
		fixture.File("app/.npmrc", "SECRET=first-version"),
		fixture.File("app/.npmrc", "SECRET=second-version"),
	)
	got := founds(walk(t, 4, layer, Options{}))
	want := []found{
		{"app/.npmrc", "first-version", 1, 8, finding.Overwritten, 4, sha("SECRET=first-version")},
		{"app/.npmrc", "second-version", 1, 8, finding.Visible, -1, sha("SECRET=second-version")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestWalkTruncatedLayerKeepsWhatItRead(t *testing.T) {
	layer := fixture.Tar(t,
		fixture.File("a.txt", "SECRET=before-the-cut"),
		fixture.File("b.txt", strings.Repeat("y", 4096)+"SECRET=after-the-cut"),
	)
	cut := layer[:1536+1024] // a's header and block, b's header and part of its content
	res, err := Walk(context.Background(), 0, bytes.NewReader(cut), fakeDetector{}, Options{})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want an unexpected EOF", err)
	}
	if !strings.Contains(err.Error(), "b.txt") {
		t.Errorf("err = %v, want it to name the file being read", err)
	}
	if got := founds(res); len(got) != 1 || got[0].Secret != "before-the-cut" {
		t.Errorf("findings = %v, want the one before the cut", got)
	}
	if res.Coverage.Skipped[finding.SkipUnreadable] != 1 {
		t.Errorf("skipped = %v, want one unreadable", res.Coverage.Skipped)
	}
}

func TestWalkStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Walk(ctx, 0, bytes.NewReader(fixture.Tar(t, fixture.File("a", "b"))), fakeDetector{}, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
