package main

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestREADMEFirstCommand runs the README's first command, the one a new
// user runs to scan a bundled fixture, and checks that it does what the
// README says: report the leak with its layer, step, path and deletion,
// and exit 1.
func TestREADMEFirstCommand(t *testing.T) {
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var first string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "apt-get ") {
			first = sc.Text()
			break
		}
	}
	// It installs what the fast build needs, builds the binary the rest of
	// the README uses (with this test binary's tags), then runs it.
	const prog = "go build -tags gore2regex,re2_cgo,vectorscan -o imagescan ./cmd/imagescan && ./imagescan "
	_, build, _ := strings.Cut(first, " && go build ")
	args, ok := strings.CutPrefix("go build "+build, prog)
	if !ok {
		t.Fatalf("the README's first command is %q, want it to start with %q", first, prog)
	}
	t.Chdir("../..")
	got := imagescan(t, strings.Fields(args)...)
	if got.code != 1 || !strings.Contains(got.stdout, "layer 3 · RUN echo") ||
		!strings.Contains(got.stdout, "private-app/.npmrc:1 · deleted by layer 4 (RUN rm -f .npmrc)") {
		t.Errorf("exit %d, report:\n%s", got.code, got.stdout)
	}
}
