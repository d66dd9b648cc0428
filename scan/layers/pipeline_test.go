package layers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	. "github.com/imagescan/imagescan/scan/layers"
)

// slowDetector is fakeDetector made to finish files out of order: files
// whose name ends in an even digit take longer.
type slowDetector struct{ fakeDetector }

func (d slowDetector) DetectFile(ctx context.Context, f finding.File) []finding.Match {
	if len(f.Path) > 0 && strings.ContainsRune("02468", rune(f.Path[len(f.Path)-1])) {
		time.Sleep(2 * time.Millisecond)
	}
	return d.fakeDetector.DetectFile(ctx, f)
}

// TestPipelineChangesNothing walks one layer with detection in the walk's
// goroutine and with detect workers, and wants the same result: findings
// in walk order, with their statuses and digests, and the same coverage.
func TestPipelineChangesNothing(t *testing.T) {
	var files []fixture.Entry
	big := strings.Repeat("filler line\n", 3000) + "SECRET=in-a-big-file\n"
	for i := range 60 {
		files = append(files, fixture.File(fmt.Sprintf("app/src/file%d", i), fmt.Sprintf("x\nSECRET=value-%d\n", i)))
		switch i % 10 {
		case 3:
			files = append(files, fixture.File(fmt.Sprintf("app/bin/tool%d", i), "\x7fELF\x00 SECRET=in-a-binary"))
		case 5:
			files = append(files, fixture.File(fmt.Sprintf("app/big%d", i), big))
		case 7:
			tgz := fixture.Gz(t, fixture.Tar(t, fixture.File("package/.npmrc", fmt.Sprintf("SECRET=in-tgz-%d\n", i)), fixture.File("package/x.p12", "\x30\x82\x00")))
			files = append(files, fixture.File(fmt.Sprintf("app/pkg%d.tgz", i), string(tgz)))
		case 9:
			files = append(files, fixture.File(fmt.Sprintf("app/src/file%d", i-1), "rewritten SECRET=second-copy\n"))
		}
	}
	layer := fixture.Tar(t, files...)
	walkWith := func(workers int) *Result {
		res, err := Walk(context.Background(), 1, strings.NewReader(string(layer)), slowDetector{}, Options{Window: 4096, Overlap: 512, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	alone := walkWith(-1)
	if len(alone.Findings) < 80 {
		t.Fatalf("%d findings: the layer is not what the test means", len(alone.Findings))
	}
	checkDigests(t, alone, files)
	for _, workers := range []int{1, 2, 8} {
		piped := walkWith(workers)
		if diff := cmp.Diff(founds(alone), founds(piped)); diff != "" {
			t.Errorf("%d workers: findings differ (-alone +piped):\n%s", workers, diff)
		}
		checkDigests(t, piped, files)
		if diff := cmp.Diff(alone.Coverage, piped.Coverage); diff != "" {
			t.Errorf("%d workers: coverage differs (-alone +piped):\n%s", workers, diff)
		}
	}
}

// TestOptionsKeyIgnoresSpeed keeps stored walks usable whatever the
// workers: only options that change what a walk finds are in the key.
func TestOptionsKeyIgnoresSpeed(t *testing.T) {
	a := Options{Workers: 1}
	b := Options{Workers: 8, Slots: make(chan struct{}, 2)}
	if a.Key() != b.Key() {
		t.Errorf("keys differ with the workers: %q, %q", a.Key(), b.Key())
	}
	if a.Key() == (Options{Window: 4096}).Key() || a.Key() == (Options{MaxDepth: -1}).Key() {
		t.Error("the window or depth does not change the key")
	}
	if a.Key() != (Options{Window: DefaultWindow}).Key() {
		t.Error("the default window and the zero value have different keys")
	}
}

// checkDigests checks that each finding in a layer file carries the
// digest of one of the contents written at its path (the layer writes
// some twice): files read in one window or in several, and binary files
// found by their path inside an archive.
func checkDigests(t *testing.T, res *Result, files []fixture.Entry) {
	t.Helper()
	content := map[string][]string{}
	for _, f := range files {
		content[f.Name] = append(content[f.Name], f.Content)
	}
	content["package/x.p12"] = []string{"\x30\x82\x00"}
	kinds := map[string]int{}
	for _, f := range res.Findings {
		path := f.Location.Path
		if i := strings.LastIndex(path, "!"); i >= 0 {
			path = path[i+1:]
		}
		cs, ok := content[path]
		if !ok {
			continue
		}
		i := slices.IndexFunc(cs, func(c string) bool { return sha(c) == f.Location.FileSHA256 })
		if i < 0 {
			t.Errorf("%s: digest %q, want that of its content", f.Location.Path, f.Location.FileSHA256)
		}
		c := cs[i]
		kinds[map[bool]string{true: "several windows", false: "one window"}[len(c) > 4096]+map[bool]string{true: " binary", false: ""}[strings.HasSuffix(path, ".p12")]]++
	}
	for _, k := range []string{"one window", "several windows", "one window binary"} {
		if kinds[k] == 0 {
			t.Errorf("no finding in a file of %s: the layer is not what the test means (%v)", k, kinds)
		}
	}
}
