package source

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/scan"
)

// Annotations that name an image in an index.
const (
	annotationRefName    = "org.opencontainers.image.ref.name"
	annotationImageName  = "io.containerd.image.name"
	annotationRefType    = "vnd.docker.reference.type"
	annotationRefDigest  = "vnd.docker.reference.digest"
	attestationReference = "attestation-manifest"
)

// maxIndexDepth bounds how deep nested indexes are followed.
const maxIndexDepth = 4

// refName is the name an index entry gives its image, or "".
func refName(d v1.Descriptor) string {
	if n := d.Annotations[annotationImageName]; n != "" {
		return n
	}
	return d.Annotations[annotationRefName]
}

// isAttestation reports whether an index entry is a build attestation
// (provenance, SBOM) rather than an image: BuildKit marks them with the
// platform unknown/unknown.
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations[annotationRefType] == attestationReference {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

// walkLayout turns the entries of an OCI layout's index.json (raw, and
// idx as decoded) into targets. sel, when set, keeps the entries whose
// name or digest is sel.
func walkLayout(st store, idx *v1.IndexManifest, raw []byte, input, sel string, o *options) ([]*scan.Target, error) {
	descs := idx.Manifests
	if sel != "" {
		descs = slices.DeleteFunc(slices.Clone(descs), func(d v1.Descriptor) bool {
			return refName(d) != sel && d.Digest.String() != sel
		})
		if len(descs) == 0 {
			return nil, fmt.Errorf("no image named %q; index.json names %s", sel, names(idx.Manifests))
		}
	}
	w := &walker{st: st, input: input, pick: picker{want: o.platform}}
	top := []scan.Document{{Name: "index.json", Raw: raw}}
	for _, d := range descs {
		if err := w.descriptor(d, refName(d), 0, top); err != nil {
			return nil, err
		}
	}
	return w.finish()
}

func names(descs []v1.Descriptor) string {
	var out []string
	for _, d := range descs {
		out = append(out, cmpOr(refName(d), d.Digest.String()))
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// walker follows an index down to its images.
type walker struct {
	st    store
	input string
	pick  picker

	targets      []*scan.Target
	attestations []v1.Descriptor
	others       []string
}

// descriptor follows an index entry; parents are the indexes that led to
// it, as documents.
func (w *walker) descriptor(d v1.Descriptor, ref string, depth int, parents []scan.Document) error {
	switch {
	case isAttestation(d):
		w.attestations = append(w.attestations, d)
		return nil
	case d.MediaType.IsIndex():
		return w.index(d, ref, depth, parents)
	case d.MediaType.IsImage():
		return w.image(d, ref, parents)
	}
	w.others = append(w.others, fmt.Sprintf("%s (%s)", d.Digest, d.MediaType))
	return nil
}

func (w *walker) index(d v1.Descriptor, ref string, depth int, parents []scan.Document) error {
	if depth >= maxIndexDepth {
		return fmt.Errorf("index %s: indexes nest deeper than %d levels", d.Digest, maxIndexDepth)
	}
	raw, err := w.st.manifest(d.Digest)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("index %s: %w", d.Digest, err)
	}
	parents = append(slices.Clip(parents), scan.Document{Name: "index@" + d.Digest.String(), Raw: raw})
	for _, child := range idx.Manifests {
		if err := w.descriptor(child, ref, depth+1, parents); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) image(d v1.Descriptor, ref string, parents []scan.Document) error {
	raw, err := w.st.manifest(d.Digest)
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	cfg, err := w.st.blob(m.Config.Digest)
	if err != nil {
		return fmt.Errorf("manifest %s: config: %w", d.Digest, err)
	}
	if !w.pick.keep(platformOf(d, cfg)) {
		return nil
	}
	t := &scan.Target{Input: w.input, Reference: ref, Digest: d.Digest, Config: cfg, ConfigDigest: m.Config.Digest,
		Documents: append(slices.Clone(parents), scan.Document{Name: "manifest", Raw: raw})}
	for _, l := range m.Layers {
		t.Layers = append(t.Layers, scan.Blob{Descriptor: l, Open: w.st.opener(l.Digest)})
	}
	w.targets = append(w.targets, t)
	return nil
}

// finish returns the targets, with what was skipped on the way recorded as
// warnings on the first, or an error when nothing is left to scan.
func (w *walker) finish() ([]*scan.Target, error) {
	if len(w.targets) == 0 {
		if err := w.pick.none(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("no image to scan (%d attestations, %d other entries skipped)", len(w.attestations), len(w.others))
	}
	t := w.targets[0]
	for _, a := range w.attestations {
		w.attestation(a)
	}
	if n := len(w.others); n > 0 {
		t.Warnings = append(t.Warnings, fmt.Sprintf("skipped %d index entr(ies) that are not images: %s", n, strings.Join(w.others, ", ")))
	}
	return w.targets, nil
}

// attestation reads an attestation manifest (BuildKit's provenance and
// SBOMs: each layer an in-toto statement) and gives its statements, as
// documents, to the image it describes. What cannot be read is a warning
// on the first image, and the walk goes on.
func (w *walker) attestation(d v1.Descriptor) {
	subject := d.Annotations[annotationRefDigest]
	i := slices.IndexFunc(w.targets, func(t *scan.Target) bool { return t.Digest.String() == subject })
	if i < 0 {
		w.targets[0].Warnings = append(w.targets[0].Warnings, fmt.Sprintf("attestation %s describes %s, which is not scanned here: not read", d.Digest, cmpOr(subject, "no image")))
		return
	}
	docs, err := w.statements(d)
	if err != nil {
		w.targets[0].Warnings = append(w.targets[0].Warnings, fmt.Sprintf("attestation %s: %v: not read", d.Digest, err))
	}
	w.targets[i].Documents = append(w.targets[i].Documents, docs...)
}

// statements returns the layers of attestation manifest d, each a
// document named after the attestation, the layer and its predicate type.
func (w *walker) statements(d v1.Descriptor) ([]scan.Document, error) {
	raw, err := w.st.manifest(d.Digest)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	docs := []scan.Document{{Name: "attestation@" + d.Digest.String(), Raw: raw}}
	for i, l := range m.Layers {
		data, err := w.st.blob(l.Digest)
		if err != nil {
			return docs, fmt.Errorf("layer %d: %w", i, err)
		}
		name := fmt.Sprintf("attestation@%s layer %d", d.Digest, i)
		if p := l.Annotations["in-toto.io/predicate-type"]; p != "" {
			name += " (" + p + ")"
		}
		docs = append(docs, scan.Document{Name: name, Raw: data})
	}
	return docs, nil
}

// platformOf is an image's platform: as its index entry states it, or else
// as its config does.
func platformOf(d v1.Descriptor, cfg []byte) v1.Platform {
	if d.Platform != nil && d.Platform.OS != "" {
		return *d.Platform
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cfg))
	if err != nil {
		return v1.Platform{}
	}
	return v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
}

// picker keeps the images of the platform the user asked for (all of them
// when none was asked for) and remembers the platforms it saw.
type picker struct {
	want *v1.Platform
	seen []string
}

func (p *picker) keep(plat v1.Platform) bool {
	p.seen = append(p.seen, platformString(plat))
	return p.want == nil || plat.Satisfies(*p.want)
}

// none explains why no image was kept, or returns nil when there was no
// platform to blame.
func (p *picker) none() error {
	if p.want == nil || len(p.seen) == 0 {
		return nil
	}
	return noPlatformError(fmt.Sprintf("no image for platform %s; there is %s", platformString(*p.want), strings.Join(slices.Compact(slices.Sorted(slices.Values(p.seen))), ", ")))
}

// ErrNoPlatform is the error, as errors.Is tells, of an image or index
// that holds no image of the platform WithPlatform asks for.
var ErrNoPlatform = errors.New("no image for the platform")

type noPlatformError string

func (e noPlatformError) Error() string        { return string(e) }
func (e noPlatformError) Is(target error) bool { return target == ErrNoPlatform }

func platformString(p v1.Platform) string {
	if p.OS == "" && p.Architecture == "" {
		return "unknown"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
