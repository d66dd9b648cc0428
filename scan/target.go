package scan

import (
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Target is one image to scan, as a source describes it. Sources (package
// source) turn what the user named into Targets; Run never opens anything
// but the blobs the Target hands it.
type Target struct {
	// Input is what the user named, e.g. "app.tar".
	Input string
	// Reference is the image's name when the source knows one (a tag in a
	// docker archive), else "".
	Reference string
	// Digest is the manifest digest when the source holds a manifest, else
	// the zero Hash. Classic docker archives hold none.
	Digest v1.Hash

	// Config is the raw image config, and ConfigDigest the digest the source
	// claims for it (the zero Hash when it claims none).
	Config       []byte
	ConfigDigest v1.Hash

	// Layers are the image's layer blobs, oldest first.
	Layers []Blob

	// Documents are the other metadata that describe the image, each
	// searched string by string: its manifest, the indexes that lead to
	// it, and the attestations made for it (in-toto statements: SLSA
	// provenance, SBOMs).
	Documents []Document

	// Warnings are what the source passed over on the way to this image,
	// e.g. the attestation manifests of an index. Run copies them into the
	// Result.
	Warnings []string
}

// Document is one metadata document about an image: its name, which the
// fields of its findings start with, and its raw JSON.
type Document struct {
	Name string
	Raw  []byte
}

// Blob is one layer blob as the source stores it.
type Blob struct {
	// Descriptor is the blob's media type, size and digest as the source
	// describes it. A classic docker archive claims no digest or media type
	// for its layer blobs; Run then reports the digest and compression it
	// reads, and verifies the content against the config's diff_id alone.
	Descriptor v1.Descriptor
	// Open returns the blob's bytes as stored: gzip, zstd or plain tar.
	Open func() (io.ReadCloser, error)
}
