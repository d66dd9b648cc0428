package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagescan/imagescan/internal/fixture"
)

// layerMembers lists the fixture archive's layer members in image order.
func layerMembers(t *testing.T, ms []fixture.Member) []string {
	t.Helper()
	for _, m := range ms {
		if m.Header.Name == "manifest.json" {
			var manifest []struct{ Layers []string }
			if err := json.Unmarshal(m.Data, &manifest); err != nil {
				t.Fatal(err)
			}
			return manifest[0].Layers
		}
	}
	t.Fatal("no manifest.json")
	return nil
}

// rewriteFile returns the layer tarball data with fn applied to the
// content of the file at name; the result is a valid tarball.
func rewriteFile(t *testing.T, layer []byte, name string, fn func([]byte) []byte) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(layer))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == name {
			data = fn(data)
			hdr.Size = int64(len(data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// changeNpmrc changes one byte inside the .npmrc of npm-deleted's layer
// 3; the layer stays a valid tarball but no longer matches its diff_id.
func changeNpmrc(t *testing.T, ms []fixture.Member) []fixture.Member {
	layers := layerMembers(t, ms)
	for i, m := range ms {
		if m.Header.Name == layers[3] {
			ms[i].Data = rewriteFile(t, m.Data, "private-app/.npmrc", func(b []byte) []byte {
				return bytes.Replace(b, []byte("registry.npmjs.org"), []byte("registry.npmjs.orG"), 1)
			})
		}
	}
	return ms
}

// tamperedNpmrc writes a copy of npm-deleted changed by changeNpmrc and
// returns its path.
func tamperedNpmrc(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tampered.tar")
	fixture.Rewrite(t, deleted, p, func(ms []fixture.Member) []fixture.Member { return changeNpmrc(t, ms) })
	return p
}

func TestTamperedFixtures(t *testing.T) {
	tests := map[string]struct {
		tamper  func(t *testing.T, ms []fixture.Member) []fixture.Member
		stderr  string
		layer   int // the layer whose integrity fails, or -1
		visible bool
	}{
		"a byte changed inside a layer file, the tar still valid": {
			changeNpmrc,
			"layer 3: content does not match diff_id sha256:4e86403aebd556c8352200cf11d98b69a8efb7d9a792a63b5fc6c79e532b02f7", 3, false,
		},
		"a layer blob swapped for another valid one": {
			func(t *testing.T, ms []fixture.Member) []fixture.Member {
				layers := layerMembers(t, ms)
				var other []byte
				for _, m := range ms {
					if m.Header.Name == layers[2] {
						other = m.Data
					}
				}
				for i, m := range ms {
					if m.Header.Name == layers[4] {
						ms[i].Data = other
					}
				}
				return ms
			},
			// Without the rm layer's whiteout, the .npmrc now looks visible:
			// a tampered layer changes what the image seems to hide.
			"layer 4: content does not match diff_id sha256:df6e3766721ebcbdb88c21af4039da418e85e94e0166e230b82aec474e8a88f6", 4, true,
		},
		"a config edited after the fact": {
			func(t *testing.T, ms []fixture.Member) []fixture.Member {
				for i, m := range ms {
					if strings.HasSuffix(m.Header.Name, ".json") && m.Header.Name != "manifest.json" {
						ms[i].Data = bytes.Replace(m.Data, []byte(`"amd64"`), []byte(`"arm64"`), 1)
					}
				}
				return ms
			},
			"config does not match its digest sha256:3e72d5517577cbb78f85d90e3907de534be6e15e2c3559bf75ed9a96525de819", -1, false,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "tampered.tar")
			fixture.Rewrite(t, deleted, p, func(ms []fixture.Member) []fixture.Member { return tc.tamper(t, ms) })

			got := imagescan(t, "scan", p)
			if got.code != 2 || !strings.Contains(got.stderr, tc.stderr) || !strings.Contains(got.stdout, "error: "+p+": "+strings.SplitN(tc.stderr, " sha256", 2)[0]) {
				t.Fatalf("exit %d\nstderr %q\nwant %q in both streams\n%s", got.code, got.stderr, tc.stderr, got.stdout)
			}
			if !strings.Contains(got.stdout, "private-app/.npmrc:1") {
				t.Errorf("the tampered image's secret was not reported:\n%s", got.stdout)
			}
			if tc.layer == 3 && !strings.Contains(got.stdout, "from a layer that failed verification") {
				t.Errorf("the finding is not marked as from an unverified layer:\n%s", got.stdout)
			}
			if strings.Contains(got.stdout, "visible in the final filesystem") != tc.visible {
				t.Errorf("status of the .npmrc (visible %v expected):\n%s", tc.visible, got.stdout)
			}

			var doc struct {
				Images []struct {
					Layers []struct {
						Integrity struct{ Status string } `json:"integrity"`
					} `json:"layers"`
					Findings []struct {
						Location struct {
							Path       string `json:"path"`
							Unverified bool   `json:"unverified"`
						} `json:"location"`
					} `json:"findings"`
				} `json:"images"`
			}
			js := imagescan(t, "scan", "-f", "json", p)
			if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil {
				t.Fatal(err)
			}
			for i, l := range doc.Images[0].Layers {
				want := "verified"
				if i == tc.layer {
					want = "mismatch"
				}
				if l.Integrity.Status != want {
					t.Errorf("JSON layer %d integrity %s, want %s", i, l.Integrity.Status, want)
				}
			}
			if f := doc.Images[0].Findings[0].Location; f.Path != "private-app/.npmrc" || f.Unverified != (tc.layer == 3) {
				t.Errorf("JSON first finding %+v", f)
			}
		})
	}
}
