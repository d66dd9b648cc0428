package main

import (
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/report"
)

// answerSecrets returns every raw secret of the fixtures' answer keys, by
// the archive that holds it.
func answerSecrets(t *testing.T) map[string][]string {
	t.Helper()
	keys, err := filepath.Glob("../../fixtures/*/*.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, k := range keys {
		data, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		var key struct {
			Findings []struct{ Secret string } `json:"findings"`
		}
		if err := json.Unmarshal(data, &key); err != nil {
			t.Fatal(err)
		}
		archive := strings.TrimSuffix(k, ".expected.json") + ".tar"
		for _, f := range key.Findings {
			out[archive] = append(out[archive], f.Secret)
		}
	}
	return out
}

// cutLastLayer copies an archive with its last layer member cut in half,
// so that the scan takes an error path after finding what came before.
func cutLastLayer(t *testing.T, archive string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(filepath.Dir(archive))+"-cut.tar")
	fixture.Rewrite(t, archive, p, func(ms []fixture.Member) []fixture.Member {
		layers := layerMembers(t, ms)
		last := layers[len(layers)-1]
		for i := range ms {
			if ms[i].Header.Name == last {
				ms[i].Data = ms[i].Data[:len(ms[i].Data)/2]
			}
		}
		return ms
	})
	return p
}

// TestNoOutputLeaksASecret runs every fixture, whole and broken, through
// every format, and through diff, and checks both streams: no raw secret without
// --show-secrets.
func TestNoOutputLeaksASecret(t *testing.T) {
	for archive, secrets := range answerSecrets(t) {
		if len(secrets) == 0 {
			continue
		}
		for _, input := range []string{archive, cutLastLayer(t, archive)} {
			for _, format := range report.Formats {
				got := imagescan(t, "scan", "-f", format, input)
				if strings.HasSuffix(input, "-cut.tar") && got.code != 2 {
					t.Errorf("%s: exit %d, want 2 for the broken layer", input, got.code)
				}
				// A page holds a secret however its characters are escaped.
				stdout := html.UnescapeString(got.stdout)
				for _, s := range secrets {
					if strings.Contains(stdout, s) || strings.Contains(got.stderr, s) {
						t.Errorf("%s -f %s prints the raw secret %s…", input, format, s[:6])
					}
				}
			}
		}
		for _, format := range []string{"text", "json", "html"} {
			got := imagescan(t, "diff", "-f", format, archive, clean)
			stdout := html.UnescapeString(got.stdout)
			for _, s := range secrets {
				if strings.Contains(stdout, s) || strings.Contains(got.stderr, s) {
					t.Errorf("diff %s -f %s prints the raw secret %s…", archive, format, s[:6])
				}
			}
		}
		shown := imagescan(t, "scan", "--show-secrets", archive)
		for _, s := range secrets {
			if !strings.Contains(shown.stdout, s) {
				t.Errorf("%s --show-secrets lacks %s…", archive, s[:6])
			}
		}
	}
}
