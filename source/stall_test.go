package source_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/source"
)

// TestARegistryThatStallsMidBlobIsOneErrorOnItsLayer: the registry sends
// half of one layer blob and then nothing, holding the connection open.
// The read is given up after the stall timeout, the error names the
// layer, and the other layers' findings are kept.
func TestARegistryThatStallsMidBlobIsOneErrorOnItsLayer(t *testing.T) {
	dockerConfig(t, "nowhere.invalid", "x", "y")
	img := imageOf(t, open(t, deletedFixture))
	host := serve(t, fixture.ServeBlob(fixture.LayerDigest(t, img, 4), fixture.StallAfterHalf))
	push(t, host+"/team/app:1", img)
	targets, err := fixture.Open(t, host+"/team/app:1", source.WithStallTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := scanRun(t, targets[0])
	if err == nil || !errors.Is(err, source.ErrStalled) || !strings.Contains(err.Error(), "layer 4") {
		t.Fatalf("err = %v, want a stall on layer 4", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("gave up after %s", took)
	}
	if len(res.Findings) == 0 || res.Findings[0].Location.Path != "private-app/.npmrc" {
		t.Errorf("the other layers' findings were lost: %v", where(res))
	}
	if res.Layers[4].Integrity.Status == scan.Verified {
		t.Error("the stalled layer is marked verified")
	}
}

// TestARegistryThatNeverAnswersIsGivenUp: the registry accepts the
// connection and never sends response headers.
func TestARegistryThatNeverAnswersIsGivenUp(t *testing.T) {
	dockerConfig(t, "nowhere.invalid", "x", "y")
	host := serve(t, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	})
	_, err := withTimeout(t, func() (string, error) {
		_, err := source.Open(context.Background(), host+"/team/app:1", source.WithStallTimeout(300*time.Millisecond))
		return "", err
	})
	if err == nil || !strings.Contains(err.Error(), "300ms") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line naming the stall timeout", err)
	}
}

// TestOversizedRegistryManifestIsRefused: a manifest response larger than
// any real one is cut at the metadata cap, as from every other source.
func TestOversizedRegistryManifestIsRefused(t *testing.T) {
	dockerConfig(t, "nowhere.invalid", "x", "y")
	host := serve(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.Contains(r.URL.Path, "/manifests/") {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("0", 64))
			// No Content-Length: the body is streamed until the client stops.
			chunk := bytes.Repeat([]byte(" "), 1<<20)
			for i := 0; i < 64; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		})
	})
	_, err := source.Open(context.Background(), host+"/team/app:1")
	if err == nil || !strings.Contains(err.Error(), "too large for image metadata") {
		t.Fatalf("err = %v, want the manifest refused as too large", err)
	}
}
