package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/imagescan/imagescan/internal/fixture"
)

// TestScanOfAStallingRegistry: the registry sends half of the image's last
// layer and then nothing. The scan gives up after --stall-timeout with one
// line naming the image and the layer, exits 2, and the report still holds
// what the other layers gave.
func TestScanOfAStallingRegistry(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	img, err := tarball.ImageFromPath(deleted, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	stall := fixture.ServeBlob(fixture.LayerDigest(t, img, 4), fixture.StallAfterHalf)
	srv := httptest.NewServer(stall(reg))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/team/app:1"
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "report.json")
	got := imagescan(t, "scan", "--no-cache", "--stall-timeout", "300ms", "-f", "json", "-o", out, ref)
	if got.code != 2 || strings.Count(got.stderr, "\n") != 1 ||
		!strings.Contains(got.stderr, ref) || !strings.Contains(got.stderr, "layer 4") || !strings.Contains(got.stderr, "stopped sending") {
		t.Fatalf("exit %d, stderr %q; want 2 and one line naming the image, layer 4 and the stall", got.code, got.stderr)
	}
	var rep struct {
		Images []struct {
			Findings []struct {
				Location struct{ Path string } `json:"location"`
			} `json:"findings"`
			Errors []string `json:"errors"`
		} `json:"images"`
	}
	if err := json.Unmarshal(readFile(t, out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != 1 || len(rep.Images[0].Errors) != 1 || len(rep.Images[0].Findings) == 0 ||
		rep.Images[0].Findings[0].Location.Path != "private-app/.npmrc" {
		t.Errorf("report: %+v", rep)
	}
}
