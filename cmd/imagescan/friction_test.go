package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/report"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/source"
)

// TestTextReportGrammar: counts agree with their nouns, an input that could
// not be opened gets no empty header lines, and no two parenthesised
// groups stand back to back.
func TestTextReportGrammar(t *testing.T) {
	img := fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("etc/motd", "hello\n")), CreatedBy: "ADD motd /etc/"})
	one := filepath.Join(t.TempDir(), "one.tar")
	fixture.DockerArchive(t, one, "example.test/one:1", img)
	if got := imagescan(t, "scan", "--no-cache", one).stdout; !strings.Contains(got, "linux/amd64, 1 layer\n") && !strings.Contains(got, ", 1 layer\n") || strings.Contains(got, "1 layers") {
		t.Errorf("one layer:\n%s", got)
	}

	missing := imagescan(t, "scan", "no-such-image.tar")
	if strings.Contains(missing.stdout, "image id  \n") || strings.Contains(missing.stdout, "platform") {
		t.Errorf("an input that could not be opened has an empty header:\n%s", missing.stdout)
	}

	// Layers both shared within the run and from the layer cache.
	set, err := source.Open(context.Background(), deleted)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	res, err := scan.Run(context.Background(), set.Targets[0], fixture.Detector(t))
	if err != nil {
		t.Fatal(err)
	}
	res.Coverage.Layers, res.Coverage.SharedLayers, res.Coverage.CachedLayers = 2, 1, 2
	var out bytes.Buffer
	rep, _ := report.For("text", report.Options{})
	if err := rep.Write(&out, &report.Report{Images: []*scan.Result{res}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "in 5 layers (1 shared with an image scanned before; 2 with their scan from the layer cache)") {
		t.Errorf("the reused layers are not said in one group:\n%s", out.String())
	}
	if regexp.MustCompile(`\)\s*\(`).MatchString(out.String()) {
		t.Errorf("parenthesised groups back to back:\n%s", out.String())
	}
}

// TestProgressBarStartsBeforeTheFirstByte: the bar is drawn, empty, when
// the scan starts, so that its rate is bytes over the time since then
// (it used to start its clock at the first tick, showing rates of hundreds
// of GB/s).
func TestProgressBarStartsBeforeTheFirstByte(t *testing.T) {
	tty, screen := recordTerminal(t)
	set, err := source.Open(context.Background(), deleted)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	sess, err := newSession(scanFlags{noCache: true, maxRatio: 100, maxDepth: 3}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p := newProgress(tty, true)
	if !p.enabled {
		t.Fatal("no bar on a terminal")
	}
	if _, err := p.run(context.Background(), set.Targets[0], sess.detector, sess.opts); err != nil {
		t.Fatal(err)
	}
	shown := screen()
	first, _, _ := strings.Cut(shown, "\r")
	if strings.TrimSpace(first) == "" {
		first, _, _ = strings.Cut(strings.TrimLeft(shown, "\r"), "\r")
	}
	if !strings.Contains(first, "0%") {
		t.Errorf("the first frame is %q, want the empty bar at 0%%", first)
	}
}
