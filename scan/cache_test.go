package scan_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/scan"
)

func TestLayerCacheScansSharedLayersOnceAndKeepsStatusPerImage(t *testing.T) {
	tok := npmToken(30)
	base := fixture.Layer{Tar: fixture.Tar(t, fixture.File("app/.npmrc", npmrc(tok)), fixture.File("app/index.js", "ok")), CreatedBy: "COPY . /app # buildkit"}
	kept := fixture.Image(t, base)
	removed := fixture.Image(t, base, fixture.Layer{Tar: fixture.Tar(t, fixture.Whiteout("app", ".npmrc")), CreatedBy: "RUN rm app/.npmrc # buildkit"})

	det := fixture.NewCountingDetector(t)
	cache := scan.NewLayerCache()
	first, err := scan.Run(context.Background(), fixture.Target(t, "kept", kept), det, scan.WithLayerCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	second, err := scan.Run(context.Background(), fixture.Target(t, "removed", removed), det, scan.WithLayerCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	if det.Files("app/index.js") != 1 {
		t.Errorf("the shared layer's files were scanned %d times, want once", det.Files("app/index.js"))
	}
	if l := first.Findings[0].Location; l.Status != finding.Visible {
		t.Errorf("first image: %s, want visible", l.Status)
	}
	if l := second.Findings[0].Location; l.Status != finding.Deleted || l.RemovedByLayer != 1 {
		t.Errorf("second image: %s by %d, want deleted by layer 1", l.Status, l.RemovedByLayer)
	}
	if second.Layers[0].SharedWith != "kept layer 0" || second.Layers[0].Integrity.Status != scan.Verified {
		t.Errorf("shared layer: %+v", second.Layers[0])
	}
	if c := second.Coverage; c.Layers != 1 || c.SharedLayers != 1 {
		t.Errorf("coverage: %d layers read, %d shared; want 1 and 1", c.Layers, c.SharedLayers)
	}

	// Without the cache, the same findings.
	alone, err := scan.Run(context.Background(), fixture.Target(t, "removed", removed), fixture.Detector(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(summarize(alone), summarize(second)); diff != "" {
		t.Errorf("cached scan differs (-alone +cached):\n%s", diff)
	}
}
