package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/imagescan/imagescan/scan"
)

// dockerArchive reads the images of a docker save archive. sel, when set,
// keeps the one image it names: a repo:tag from RepoTags, or an image ID
// (the config digest, in full or its first 12 or more hex digits).
func dockerArchive(a *archive, input, sel string, o *options) ([]*scan.Target, error) {
	if !a.has("manifest.json") {
		if a.broken != nil {
			return nil, fmt.Errorf("%w, before any manifest.json", a.broken)
		}
		return nil, fmt.Errorf("no manifest.json: not a docker save archive")
	}
	manifest, err := loadManifest(a)
	if err != nil {
		return nil, err
	}
	if len(manifest) == 0 {
		return nil, fmt.Errorf("manifest.json lists no images")
	}
	pick := picker{want: o.platform}
	var targets []*scan.Target
	for i, d := range manifest {
		if sel != "" && !selects(sel, d) {
			continue
		}
		t, err := dockerImage(a, input, d)
		if err != nil {
			return nil, fmt.Errorf("manifest.json image %d: %w", i, err)
		}
		if pick.keep(platformOf(v1.Descriptor{}, t.Config)) {
			targets = append(targets, t)
		}
	}
	switch {
	case len(targets) > 0:
		return targets, nil
	case sel != "":
		return nil, fmt.Errorf("no image named %q; the archive holds %s", sel, imageNames(manifest))
	}
	return nil, pick.none()
}

// loadManifest reads and decodes manifest.json, through the same size cap
// as every metadata document.
func loadManifest(a *archive) (tarball.Manifest, error) {
	raw, err := a.read("manifest.json")
	if err != nil {
		return nil, err
	}
	var m tarball.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	return m, nil
}

// selects reports whether sel names the image d: one of its tags, or its
// image ID.
func selects(sel string, d tarball.Descriptor) bool {
	want, err := name.ParseReference(sel)
	for _, tag := range d.RepoTags {
		if tag == sel {
			return true
		}
		if got, gerr := name.ParseReference(tag); err == nil && gerr == nil && got.Name() == want.Name() {
			return true
		}
	}
	id := digestInName(d.Config).Hex
	hex := strings.TrimPrefix(sel, "sha256:")
	return id != "" && len(hex) >= 12 && strings.HasPrefix(id, hex)
}

func imageNames(m tarball.Manifest) string {
	var out []string
	for _, d := range m {
		if len(d.RepoTags) > 0 {
			out = append(out, strings.Join(d.RepoTags, ", "))
		} else {
			out = append(out, "untagged "+digestInName(d.Config).String())
		}
	}
	return strings.Join(out, "; ")
}

// dockerImage builds the Target of one manifest.json entry. An untagged
// image, as `docker save IMAGE_ID` writes a dangling build stage, is named
// by its image ID.
func dockerImage(a *archive, input string, d tarball.Descriptor) (*scan.Target, error) {
	cfg, err := a.read(d.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	t := &scan.Target{Input: input, Config: cfg, ConfigDigest: digestInName(d.Config)}
	switch {
	case len(d.RepoTags) > 0:
		t.Reference = d.RepoTags[0]
	case t.ConfigDigest != (v1.Hash{}):
		t.Reference = t.ConfigDigest.String()
	}
	// A config that does not parse is reported by scan.Run; the layers can
	// still be scanned, only their diff_ids are unknown.
	var diffIDs []v1.Hash
	if cf, err := v1.ParseConfigFile(bytes.NewReader(cfg)); err == nil {
		diffIDs = cf.RootFS.DiffIDs
	}
	oci := ociManifestFor(a, t.ConfigDigest)
	if oci != nil {
		t.Digest = oci.digest
	}
	for i, lp := range d.Layers {
		desc, err := layerDescriptor(a, d, i, lp, diffIDs, oci)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		t.Layers = append(t.Layers, scan.Blob{Descriptor: desc, Open: func() (io.ReadCloser, error) { return a.open(lp) }})
	}
	return t, nil
}

// layerDescriptor describes layer i, stored at lp, the way the archive
// does. Docker ≥ 25 records it in LayerSources and in the OCI manifest. A
// classic archive records nothing but the member's size (and, in a
// blobs/sha256/ name, its digest); scan.Run then reports the digest and
// compression it reads.
func layerDescriptor(a *archive, d tarball.Descriptor, i int, lp string, diffIDs []v1.Hash, oci *ociImage) (v1.Descriptor, error) {
	_, m, err := a.resolve(lp)
	if err != nil {
		return v1.Descriptor{}, err
	}
	if i < len(diffIDs) {
		if src, ok := d.LayerSources[diffIDs[i]]; ok {
			return src, nil
		}
	}
	if oci != nil && i < len(oci.manifest.Layers) {
		return oci.manifest.Layers[i], nil
	}
	return v1.Descriptor{Size: m.size, Digest: digestInName(lp)}, nil
}

// digestInName reads the digest a member's name claims: blobs/sha256/HEX in
// Docker ≥ 25 archives, HEX.json for a classic archive's config. It returns
// the zero Hash when the name claims none.
func digestInName(name string) v1.Hash {
	dir, base := path.Split(name)
	if dir == "blobs/sha256/" {
		if h, err := v1.NewHash("sha256:" + base); err == nil {
			return h
		}
	}
	if hex, ok := strings.CutSuffix(base, ".json"); ok && dir == "" {
		if h, err := v1.NewHash("sha256:" + hex); err == nil {
			return h
		}
	}
	return v1.Hash{}
}

// ociImage is the OCI manifest a Docker ≥ 25 archive's index.json holds for
// an image.
type ociImage struct {
	digest   v1.Hash
	manifest *v1.Manifest
}

// ociManifestFor finds, through index.json, the manifest whose config is
// configDigest. It returns nil for classic archives and when none matches;
// the image is then described by manifest.json alone.
func ociManifestFor(a *archive, configDigest v1.Hash) *ociImage {
	if configDigest == (v1.Hash{}) || !a.has("index.json") {
		return nil
	}
	raw, err := a.read("index.json")
	if err != nil {
		return nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	return findManifest(a, idx.Manifests, configDigest, maxIndexDepth)
}

func findManifest(a *archive, descs []v1.Descriptor, configDigest v1.Hash, depth int) *ociImage {
	if depth == 0 {
		return nil
	}
	for _, d := range descs {
		raw, err := archiveStore{a}.manifest(d.Digest)
		if err != nil {
			continue
		}
		if d.MediaType.IsIndex() {
			if idx, err := v1.ParseIndexManifest(bytes.NewReader(raw)); err == nil {
				if found := findManifest(a, idx.Manifests, configDigest, depth-1); found != nil {
					return found
				}
			}
			continue
		}
		m, err := v1.ParseManifest(bytes.NewReader(raw))
		if err == nil && m.Config.Digest == configDigest {
			return &ociImage{digest: d.Digest, manifest: m}
		}
	}
	return nil
}
