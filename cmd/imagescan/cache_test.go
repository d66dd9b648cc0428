package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/layercache"
)

// TestMain gives the tests a layer cache and a config directory (where the
// fingerprint key is made) of their own.
func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main() // the test binary runs as imagescan itself (see process)
	}
	dir, err := os.MkdirTemp("", "imagescan-test-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	os.Setenv("XDG_CONFIG_HOME", dir)
	os.Unsetenv(keyEnv)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type cachedReport struct {
	Images []struct {
		Layers []struct {
			Integrity struct{ Status string } `json:"integrity"`
			Shared    string                  `json:"shared_with"`
		} `json:"layers"`
		Findings []struct {
			Secret, SecretID, Fingerprint string
			Location                      struct{ Status string }
		} `json:"findings"`
		Coverage struct {
			Layers       int `json:"layers"`
			CachedLayers int `json:"cached_layers"`
			Files        int `json:"files"`
		} `json:"coverage"`
	} `json:"images"`
}

func scanJSON(t *testing.T, args ...string) (cachedReport, outcome) {
	t.Helper()
	got := imagescan(t, append([]string{"scan", "-f", "json"}, args...)...)
	var r cachedReport
	if err := json.Unmarshal([]byte(got.stdout), &r); err != nil {
		t.Fatalf("%v\n%s%s", err, got.stdout, got.stderr)
	}
	return r, got
}

func TestLayerCacheAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	first, _ := scanJSON(t, "--cache-dir", dir, deleted)
	second, out := scanJSON(t, "--cache-dir", dir, deleted)
	if out.code != 1 || second.Images[0].Coverage.CachedLayers != 5 || second.Images[0].Coverage.Layers != 0 {
		t.Fatalf("second run: exit %d, coverage %+v, want all 5 layers from the cache", out.code, second.Images[0].Coverage)
	}
	for i, l := range second.Images[0].Layers {
		if l.Integrity.Status != "verified" || l.Shared != "the layer cache" {
			t.Errorf("layer %d: %+v, want read, verified, and its scan from the cache", i, l)
		}
	}
	a, b := first.Images[0], second.Images[0]
	if len(a.Findings) != len(b.Findings) || a.Coverage.Files != b.Coverage.Files {
		t.Fatalf("findings %d vs %d, files %d vs %d", len(a.Findings), len(b.Findings), a.Coverage.Files, b.Coverage.Files)
	}
	for i := range a.Findings {
		if a.Findings[i] != b.Findings[i] {
			t.Errorf("finding %d: %+v, then from the cache %+v", i, a.Findings[i], b.Findings[i])
		}
	}
	if text := imagescan(t, "scan", "--cache-dir", dir, deleted); !strings.Contains(text.stdout, "in 5 layers (5 with their scan from the layer cache)") {
		t.Errorf("the text summary does not say the cache was used:\n%s", text.stdout)
	}
}

func TestLayerCacheHoldsNoRawSecret(t *testing.T) {
	dir := t.TempDir()
	secrets := answerSecrets(t)
	for archive := range secrets {
		imagescan(t, "scan", "--cache-dir", dir, archive)
	}
	db, err := os.ReadFile(filepath.Join(dir, "layers.db"))
	if err != nil {
		t.Fatal(err)
	}
	for archive, ss := range secrets {
		for _, s := range ss {
			if strings.Contains(string(db), s) {
				t.Errorf("the cache holds the raw secret %s… of %s", s[:6], archive)
			}
		}
	}
	if info, err := os.Stat(filepath.Join(dir, "layers.db")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	// A run that wants the values does not use entries without them.
	shown := imagescan(t, "scan", "--cache-dir", dir, "--show-secrets", deleted)
	if !strings.Contains(shown.stdout, deletedToken) {
		t.Errorf("--show-secrets after a redacted cache lacks the raw secret:\n%s", shown.stdout)
	}
}

func TestLayerCacheNeverHidesTampering(t *testing.T) {
	dir := t.TempDir()
	imagescan(t, "scan", "--cache-dir", dir, deleted) // the clean twin fills the cache
	p := tamperedNpmrc(t)
	r, got := scanJSON(t, "--cache-dir", dir, p)
	if got.code != 2 || !strings.Contains(got.stderr, "layer 3: content does not match diff_id") {
		t.Fatalf("exit %d, stderr %q: a layer claiming a cached diff_id for other content must fail", got.code, got.stderr)
	}
	if img := r.Images[0]; img.Layers[3].Shared != "" || img.Coverage.CachedLayers != 4 || len(img.Findings) == 0 {
		t.Errorf("layer 3 %+v, %d cached layers, %d findings: want layer 3 walked afresh and its secret found", img.Layers[3], img.Coverage.CachedLayers, len(img.Findings))
	}
}

func TestLayerCacheTroubles(t *testing.T) {
	t.Run("a corrupt cache file is rebuilt", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "layers.db"), []byte("not a bbolt file at all"), 0o600); err != nil {
			t.Fatal(err)
		}
		got := imagescan(t, "scan", "--cache-dir", dir, deleted)
		if got.code != 1 || got.stderr != "" {
			t.Errorf("exit %d stderr %q", got.code, got.stderr)
		}
		if again, _ := scanJSON(t, "--cache-dir", dir, deleted); again.Images[0].Coverage.CachedLayers != 5 {
			t.Errorf("the rebuilt cache was not used: %+v", again.Images[0].Coverage)
		}
	})
	t.Run("a cache in use is skipped", func(t *testing.T) {
		dir := t.TempDir()
		held, err := layercache.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		got := imagescan(t, "scan", "--cache-dir", dir, deleted)
		if got.code != 1 || !strings.Contains(got.stderr, "scanning without the layer cache: the layer cache is in use by another imagescan") {
			t.Errorf("exit %d stderr %q", got.code, got.stderr)
		}
	})
	t.Run("--no-cache writes nothing", func(t *testing.T) {
		dir := t.TempDir()
		imagescan(t, "scan", "--no-cache", "--cache-dir", dir, deleted)
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("the cache directory holds %v", entries)
		}
	})
}
