package source_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imagescan/imagescan/internal/fixture"
	"github.com/imagescan/imagescan/scan"
	"github.com/imagescan/imagescan/source"
)

const deletedFixture = "../fixtures/npm-deleted/image.tar"

func open(t *testing.T, input string) *scan.Target {
	t.Helper()
	targets, err := fixture.Open(t, input)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 1 {
		t.Fatalf("%s: %d images, want 1", input, len(targets))
	}
	return targets[0]
}

func run(t *testing.T, tg *scan.Target) *scan.Result {
	t.Helper()
	res, err := scan.Run(context.Background(), tg, fixture.Detector(t))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// where lists each finding's secret, kind, path or field, and status:
// what must not change with the archive layout.
func where(res *scan.Result) []string {
	var out []string
	for _, f := range res.Findings {
		l := f.Location
		out = append(out, fmt.Sprintf("%s %s %d %s%s %s %d", f.Secret.Raw(), l.Kind, l.LayerIndex, l.Path, l.Field, l.Status, l.RemovedByLayer))
	}
	return out
}

// members lists a tar's member sizes by name.
func members(t *testing.T, p string) map[string]int64 {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int64{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[hdr.Name] = hdr.Size
	}
}

func TestOpenClassicArchive(t *testing.T) {
	tg := open(t, "docker-archive:"+deletedFixture)
	if tg.Reference != "localhost/fixtures/npm-deleted:latest" || tg.Digest != (v1.Hash{}) {
		t.Errorf("reference %q digest %v, want the tag and no manifest digest", tg.Reference, tg.Digest)
	}
	sum := sha256.Sum256(tg.Config)
	if tg.ConfigDigest.Hex != fmt.Sprintf("%x", sum) {
		t.Errorf("config digest claim %s, want the config's own digest", tg.ConfigDigest)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(tg.Config))
	if err != nil {
		t.Fatal(err)
	}
	sizes := members(t, deletedFixture)
	for i, b := range tg.Layers {
		if b.Descriptor.Digest != (v1.Hash{}) || b.Descriptor.MediaType != "" {
			t.Errorf("layer %d: a classic archive claims no digest or media type, got %v", i, b.Descriptor)
		}
		rc, err := b.Open()
		if err != nil {
			t.Fatal(err)
		}
		h, n, err := v1.SHA256(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if h != cf.RootFS.DiffIDs[i] || n != b.Descriptor.Size || sizes[cf.RootFS.DiffIDs[i].Hex+".tar"] != n {
			t.Errorf("layer %d: read %s (%d bytes), want diff_id %s and the member's size", i, h, n, cf.RootFS.DiffIDs[i])
		}
	}
	res := run(t, tg)
	for _, l := range res.Layers {
		if l.Digest != l.DiffID || l.MediaType != string(types.DockerUncompressedLayer) {
			t.Errorf("layer %d: digest %s media type %s, want the diff_id of an uncompressed tar", l.Index, l.Digest, l.MediaType)
		}
	}
}

func TestOpenOtherLayoutsGiveTheSameFindings(t *testing.T) {
	want := where(run(t, open(t, deletedFixture)))
	dir := t.TempDir()

	gz := filepath.Join(dir, "image.tar.gz")
	fixture.Gzip(t, deletedFixture, gz)
	if diff := cmp.Diff(want, where(run(t, open(t, gz)))); diff != "" {
		t.Errorf("gzip-compressed archive (-plain +gz):\n%s", diff)
	}

	// The same image written by go-containerregistry (gzip layer blobs) and
	// in the Docker 25 layout (blobs/, index.json, LayerSources).
	img := imageOf(t, open(t, deletedFixture))
	ggcr := filepath.Join(dir, "ggcr.tar")
	fixture.DockerArchive(t, ggcr, "example.test/app:1", img)
	res := run(t, open(t, ggcr))
	if diff := cmp.Diff(want, where(res)); diff != "" {
		t.Errorf("gzip layers (-plain +ggcr):\n%s", diff)
	}
	if res.Layers[0].MediaType != string(types.DockerLayer) || res.Layers[0].Integrity.Status != scan.Verified {
		t.Errorf("gzip layer: media type %s integrity %v", res.Layers[0].MediaType, res.Layers[0].Integrity)
	}

	d25 := filepath.Join(dir, "docker25.tar")
	fixture.Docker25Archive(t, d25, "example.test/app:1", img)
	tg := open(t, d25)
	if tg.Digest == (v1.Hash{}) || tg.Reference != "example.test/app:1" {
		t.Errorf("Docker 25 archive: digest %v reference %q, want the index.json manifest digest and the tag", tg.Digest, tg.Reference)
	}
	if tg.Layers[0].Descriptor.MediaType != types.OCIUncompressedLayer {
		t.Errorf("Docker 25 layer descriptor %v, want LayerSources' OCI media type", tg.Layers[0].Descriptor)
	}
	res = run(t, tg)
	if diff := cmp.Diff(want, where(res)); diff != "" {
		t.Errorf("Docker 25 layout (-plain +docker25):\n%s", diff)
	}
	if res.Digest != tg.Digest.String() {
		t.Errorf("result digest %s, want %s", res.Digest, tg.Digest)
	}
}

// imageOf rebuilds a v1.Image from a target's layers and config, so that
// it can be written in other layouts.
func imageOf(t *testing.T, tg *scan.Target) v1.Image {
	t.Helper()
	cf, err := v1.ParseConfigFile(bytes.NewReader(tg.Config))
	if err != nil {
		t.Fatal(err)
	}
	var layers []fixture.Layer
	for _, b := range tg.Layers {
		rc, err := b.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, fixture.Layer{Tar: data})
	}
	return fixture.WithConfig(t, fixture.Image(t, layers...), func(c *v1.ConfigFile) {
		c.History, c.Config, c.OS, c.Architecture = cf.History, cf.Config, cf.OS, cf.Architecture
	})
}

func TestOpenBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain, err := os.ReadFile(deletedFixture)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(name string, edit func([]fixture.Member) []fixture.Member) string {
		p := filepath.Join(dir, name)
		fixture.Rewrite(t, deletedFixture, p, edit)
		return p
	}
	setManifest := func(body string) func([]fixture.Member) []fixture.Member {
		return func(ms []fixture.Member) []fixture.Member {
			for i := range ms {
				if ms[i].Header.Name == "manifest.json" {
					ms[i].Data = []byte(body)
				}
			}
			return ms
		}
	}
	tests := map[string]struct {
		input string
		want  string
	}{
		"missing file":   {filepath.Join(dir, "nope.tar"), "nope.tar: no such file or directory"},
		"empty file":     {write("empty.tar", nil), "empty.tar: not a tar archive, or an empty one"},
		"not a tar":      {write("random.tar", bytes.Repeat([]byte("not a tar "), 200)), "random.tar: not a readable tar archive"},
		"corrupt gzip":   {write("bad.tar.gz", append([]byte{0x1f, 0x8b, 8, 0}, bytes.Repeat([]byte{0xff}, 64)...)), "bad.tar.gz: "},
		"truncated":      {write("cut.tar", plain[:len(plain)*3/5]), "cut.tar: the archive breaks after"},
		"no manifest":    {rewrite("nomanifest.tar", dropMember("manifest.json")), "nomanifest.tar: neither a docker save archive (no manifest.json) nor an OCI archive (no index.json)"},
		"forced form":    {"docker-archive:" + rewrite("forced.tar", dropMember("manifest.json")), "forced.tar: no manifest.json: not a docker save archive"},
		"garbage json":   {rewrite("garbage.tar", setManifest("{[not json")), "garbage.tar: manifest.json: invalid character"},
		"no images":      {rewrite("none.tar", setManifest("[]")), "none.tar: manifest.json lists no images"},
		"missing blob":   {rewrite("noblob.tar", dropMember(layerName(t, 3))), "noblob.tar: manifest.json image 0: layer 3: " + layerName(t, 3) + ": no such member in the archive"},
		"missing config": {rewrite("nocfg.tar", dropSuffix(".json", "manifest.json")), "nocfg.tar: manifest.json image 0: config: "},
		"empty layout":   {"oci:" + dir, "oci:" + dir + ": no index.json: not an OCI image layout"},
		"bare name":      {"no-such-image-here", "no-such-image-here: no such file, and as a registry reference: "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := source.Open(ctx, tc.input)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func dropMember(name string) func([]fixture.Member) []fixture.Member {
	return func(ms []fixture.Member) []fixture.Member {
		return slices.DeleteFunc(ms, func(m fixture.Member) bool { return m.Header.Name == name })
	}
}

func dropSuffix(suffix, keep string) func([]fixture.Member) []fixture.Member {
	return func(ms []fixture.Member) []fixture.Member {
		return slices.DeleteFunc(ms, func(m fixture.Member) bool {
			return strings.HasSuffix(m.Header.Name, suffix) && m.Header.Name != keep && !strings.Contains(m.Header.Name, "/")
		})
	}
}

// layerName returns the member name of layer i of the deleted fixture.
func layerName(t *testing.T, i int) string {
	t.Helper()
	cf, err := v1.ParseConfigFile(bytes.NewReader(open(t, deletedFixture).Config))
	if err != nil {
		t.Fatal(err)
	}
	return cf.RootFS.DiffIDs[i].Hex + ".tar"
}

func TestTruncatedLayerKeepsTheLayersBeforeIt(t *testing.T) {
	// manifest.json and the config first, then the layers in order, the
	// last one cut in half: the archive indexes, layers 0–3 scan, layer 4
	// fails with an error naming it.
	p := filepath.Join(t.TempDir(), "cut-layer.tar")
	last := layerName(t, 4)
	fixture.Rewrite(t, deletedFixture, p, func(ms []fixture.Member) []fixture.Member {
		slices.SortStableFunc(ms, func(a, b fixture.Member) int {
			return rank(a.Header.Name, last) - rank(b.Header.Name, last)
		})
		return ms
	})
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cut := len(data) - 1024 - 512 // inside the last member's content
	if err := os.WriteFile(p, data[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	tg := open(t, p)
	res, err := scan.Run(context.Background(), tg, fixture.Detector(t))
	if err == nil || !strings.Contains(err.Error(), "cut-layer.tar: layer 4") {
		t.Fatalf("err = %v, want one naming layer 4", err)
	}
	if len(res.Findings) == 0 || res.Findings[0].Location.Path != "private-app/.npmrc" {
		t.Errorf("findings %v, want layer 3's .npmrc kept", where(res))
	}
}

// rank puts manifest.json and configs first and the named member last.
func rank(name, last string) int {
	switch {
	case name == "manifest.json" || strings.HasSuffix(name, ".json") && !strings.Contains(name, "/"):
		return 0
	case name == last:
		return 2
	}
	return 1
}

func TestOpenArchiveWithSeveralImages(t *testing.T) {
	p := filepath.Join(t.TempDir(), "two.tar")
	a := imageOf(t, open(t, deletedFixture))
	b := imageOf(t, open(t, "../fixtures/clean/image.tar"))
	fixture.MultiDockerArchive(t, p, map[string]v1.Image{"example.test/leaky:1": a, "example.test/clean:1": b})
	targets, err := fixture.Open(t, p)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	leaks := map[string]int{}
	for _, tg := range targets {
		refs = append(refs, tg.Reference)
		leaks[tg.Reference] = len(run(t, tg).Findings)
	}
	slices.Sort(refs)
	if diff := cmp.Diff([]string{"example.test/clean:1", "example.test/leaky:1"}, refs); diff != "" {
		t.Errorf("references (-want +got):\n%s", diff)
	}
	if leaks["example.test/leaky:1"] != 3 || leaks["example.test/clean:1"] != 0 {
		t.Errorf("findings per image = %v", leaks)
	}
}

// provenance is a BuildKit attestation manifest as mode=max writes it:
// one layer, an in-toto statement of SLSA provenance v0.2 whose
// invocation records every build arg.
func provenance(t *testing.T, subject v1.Hash, npmToken string) v1.Image {
	t.Helper()
	statement, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": "https://slsa.dev/provenance/v0.2",
		"subject":       []any{map[string]any{"name": "pkg:docker/example.test/app@1", "digest": map[string]string{"sha256": subject.Hex}}},
		"predicate": map[string]any{
			"builder":   map[string]string{"id": ""},
			"buildType": "https://mobyproject.org/buildkit@v1",
			"invocation": map[string]any{"parameters": map[string]any{
				"frontend": "dockerfile.v0",
				"args":     map[string]string{"build-arg:NPM_TOKEN": npmToken, "build-arg:NODE_ENV": "production"},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	layer := static.NewLayer(statement, "application/vnd.in-toto+json")
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{
		Layer: layer, Annotations: map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestIndexReadsAttestationsAndFollowsNestedIndexes(t *testing.T) {
	leaky := imageOf(t, open(t, deletedFixture))
	arm := fixture.WithConfig(t, leaky, func(c *v1.ConfigFile) { c.Architecture, c.Variant = "arm", "v7" })
	leakyDigest, err := leaky.Digest()
	if err != nil {
		t.Fatal(err)
	}
	const npmToken = "npm_Zqumpm08hsE8JNpjJOQGa2rb19FlY0mG1ylv"
	attestation := func(subject v1.Hash) mutate.IndexAddendum {
		return mutate.IndexAddendum{Add: provenance(t, subject, npmToken), Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": subject.String()},
		}}
	}
	inner := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}}})
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: leaky, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		attestation(leakyDigest),
		attestation(v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}), // for an image not in the index
		mutate.IndexAddendum{Add: inner},
	)
	dir := filepath.Join(t.TempDir(), "layout")
	fixture.OCILayout(t, dir, idx)

	targets, err := fixture.Open(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 2 {
		t.Fatalf("%d targets, want the amd64 image and the nested arm/v7 one", len(targets))
	}
	if w := targets[0].Warnings; len(w) != 1 || !strings.Contains(w[0], "which is not scanned here: not read") {
		t.Errorf("warnings = %v, want the attestation of an image not here named", w)
	}
	attested := run(t, targets[0])
	var fields []string
	for _, f := range attested.Findings {
		if f.Secret.Raw() == npmToken {
			fields = append(fields, f.Location.Field+" "+f.Location.Variable)
		}
	}
	if len(fields) != 1 || !strings.HasPrefix(fields[0], "attestation@sha256:") ||
		!strings.HasSuffix(fields[0], `(https://slsa.dev/provenance/v0.2).predicate.invocation.parameters.args["build-arg:NPM_TOKEN"] NPM_TOKEN`) {
		t.Errorf("the attested build arg found at %q, want once, in the provenance's args", fields)
	}
	res := run(t, targets[1])
	if res.Platform != "linux/arm/v7" || len(res.Findings) != 3 {
		t.Errorf("nested image: platform %s, %d findings", res.Platform, len(res.Findings))
	}

	only, err := fixture.Open(t, dir, source.WithPlatform("linux/arm/v7"))
	if err != nil || len(only) != 1 {
		t.Fatalf("--platform linux/arm/v7: %d targets, %v", len(only), err)
	}
	if _, err := source.Open(context.Background(), "oci:"+dir+":nope"); err == nil || !strings.Contains(err.Error(), `no image named "nope"`) {
		t.Errorf("unknown name: err = %v", err)
	}
	if _, err := source.Open(context.Background(), dir, source.WithPlatform("linux")); err == nil || !strings.Contains(err.Error(), "not os/arch") {
		t.Errorf("bad platform: err = %v", err)
	}
}

func TestOCILayoutWithAMissingOrTamperedBlob(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	fixture.OCILayout(t, dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: imageOf(t, open(t, deletedFixture))}))
	idx, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := v1.ParseIndexManifest(bytes.NewReader(idx))
	if err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "blobs", "sha256", m.Manifests[0].Digest.Hex)
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, bytes.Replace(data, []byte("schemaVersion"), []byte("schemaVersioN"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := source.Open(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "does not match its digest") {
		t.Errorf("tampered manifest: err = %v", err)
	}
	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	if _, err := source.Open(context.Background(), dir); err == nil || !strings.Contains(err.Error(), m.Manifests[0].Digest.String()+" is missing") {
		t.Errorf("missing manifest: err = %v", err)
	}
}

func scanRun(t *testing.T, tg *scan.Target) (*scan.Result, error) {
	t.Helper()
	return scan.Run(context.Background(), tg, fixture.Detector(t))
}

func fixtureArch(t *testing.T, img v1.Image, arch string) v1.Image {
	t.Helper()
	return fixture.WithConfig(t, img, func(c *v1.ConfigFile) { c.Architecture = arch })
}

func TestGarbageIndexJSON(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := source.Open(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), dir+": index.json: ") {
		t.Errorf("layout: err = %v, want one naming index.json", err)
	}
	archive := filepath.Join(t.TempDir(), "garbage.oci.tar")
	fixture.Rewrite(t, "../fixtures/forms/npm-deleted.oci.tar", archive, func(ms []fixture.Member) []fixture.Member {
		for i := range ms {
			if ms[i].Header.Name == "index.json" {
				ms[i].Data = []byte("[]]")
			}
		}
		return ms
	})
	_, err = source.Open(context.Background(), archive)
	if err == nil || !strings.Contains(err.Error(), "garbage.oci.tar: index.json: ") {
		t.Errorf("OCI archive: err = %v, want one naming index.json", err)
	}
}

func TestManifestAndIndexAnnotationsAreSearched(t *testing.T) {
	const token = "ghp_Wq7dK2mX9pLr4TzB8vN1cY6hJ3sF5gA0eU2k"
	img := mutate.Annotations(fixture.Image(t, fixture.Layer{Tar: fixture.Tar(t, fixture.File("etc/motd", "hello\n"))}),
		map[string]string{"org.opencontainers.image.description": "pull with " + token}).(v1.Image)
	inner := mutate.Annotations(mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img}),
		map[string]string{"com.example.deploy-token": token}).(v1.ImageIndex)
	dir := filepath.Join(t.TempDir(), "layout")
	fixture.OCILayout(t, dir, mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner,
		Descriptor: v1.Descriptor{Annotations: map[string]string{"org.opencontainers.image.ref.name": "app " + token}}}))
	targets, err := fixture.Open(t, dir)
	if err != nil || len(targets) != 1 {
		t.Fatalf("%d targets, %v", len(targets), err)
	}
	var fields []string
	for _, f := range run(t, targets[0]).Findings {
		if f.Secret.Raw() == token {
			fields = append(fields, f.Location.Field)
		}
	}
	slices.Sort(fields)
	if len(fields) != 3 || !strings.HasPrefix(fields[0], "index.json.manifests[0].annotations") ||
		!strings.HasPrefix(fields[1], "index@sha256:") || !strings.HasSuffix(fields[1], `.annotations["com.example.deploy-token"]`) ||
		fields[2] != `manifest.annotations["org.opencontainers.image.description"]` {
		t.Errorf("the token found at %q, want index.json's, the inner index's and the manifest's annotations", fields)
	}
}
