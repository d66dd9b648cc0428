package scan

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan/history"
)

// Evidence describes a file copied out of a layer by Extract: where it
// came from, what it is, and whether the layer it came from verified.
type Evidence struct {
	Input        string
	Reference    string
	Digest       string // the manifest digest, or "" without a manifest
	ConfigDigest string
	Platform     string

	Layer Layer // index, digests, the history entry that made it (raw), integrity

	Path    string // as stored in the layer, without a leading slash
	Size    int64
	SHA256  string
	Mode    int64
	ModTime time.Time
	UID     int
	GID     int

	// HistorySecrets are the secrets found in the config history, so that
	// whoever prints Layer.CreatedBy can redact them.
	HistorySecrets []finding.Secret
}

// ErrNotInLayer is returned (wrapped) by Extract when the layer holds no
// regular file at the path.
var ErrNotInLayer = errors.New("no such file in the layer")

// Extract copies the regular file at path in layer i of t to w: the bytes
// that layer holds, whether or not a later layer deletes or overwrites the
// file. It then reads the layer to its end and checks it against its
// digests; the Evidence says how that went. A layer that does not verify
// is an error too, but w has the bytes and the Evidence is complete:
// tampered content is still evidence. det finds the history's secrets.
//
// A path that the layer holds more than once is refused: which copy was
// meant cannot be told.
func Extract(ctx context.Context, t *Target, i int, path string, w io.Writer, det finding.Detector, opts ...Option) (*Evidence, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(t.Layers) {
		return nil, fmt.Errorf("%s: no layer %d: the image has %d layers (0 to %d)", t.Input, i, len(t.Layers), len(t.Layers)-1)
	}
	r := &run{ctx: ctx, t: t, det: det, o: o, res: newResult(t)}
	r.readConfig()
	ev := &Evidence{Input: t.Input, Reference: t.Reference, Path: cleanLayerPath(path)}
	if r.cfg != nil {
		r.hist = history.Scan(ctx, r.cfg, len(t.Layers), det)
		for _, f := range r.hist.Findings {
			ev.HistorySecrets = append(ev.HistorySecrets, f.Secret)
		}
		r.describeLayer(&r.res.Layers[i], r.hist.Layers)
	} else if d := r.diffID(i); d != (v1.Hash{}) {
		r.res.Layers[i].DiffID = d.String()
	}
	l := &r.res.Layers[i]
	err = r.copyFile(i, ev, w)
	ev.Digest, ev.ConfigDigest, ev.Platform, ev.Layer = r.res.Digest, r.res.ConfigDigest, r.res.Platform, *l
	if err != nil {
		return ev, fmt.Errorf("%s: layer %d%s: %w", t.Input, i, short(l.Digest), err)
	}
	if l.Integrity.Status == Mismatch {
		return ev, fmt.Errorf("%s: layer %d: %s", t.Input, i, strings.Join(l.Integrity.Problems, "; "))
	}
	return ev, errors.Join(r.errs...)
}

// copyFile finds ev.Path in layer i, copies it to w, and verifies the layer.
func (r *run) copyFile(i int, ev *Evidence, w io.Writer) error {
	l := &r.res.Layers[i]
	l.Integrity = Integrity{Status: Unverified, Problems: []string{notReadToEnd}}
	s, err := openLayer(r.ctx, i, r.t.Layers[i], r.o, 0)
	if err != nil {
		return err
	}
	defer s.close()
	tr := tar.NewReader(s.tar)
	found := false
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the layer's tar: %w", err)
		}
		name := cleanLayerPath(hdr.Name)
		if name == path.Join(path.Dir(ev.Path), ".wh."+path.Base(ev.Path)) {
			return fmt.Errorf("this layer deletes %s (a whiteout): its content is in an earlier layer", ev.Path)
		}
		if name != ev.Path {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("%s is not a regular file in this layer (%s)", ev.Path, entryKind(hdr))
		}
		if found {
			return fmt.Errorf("%s appears twice in this layer: a later copy would be written after bytes of an earlier one", ev.Path)
		}
		found = true
		if err := copyEntry(ev, hdr, tr, w); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%w: %s", ErrNotInLayer, ev.Path)
	}
	if err := s.drain(); err != nil {
		return err
	}
	s.verify(l, r.t.Layers[i], r.diffID(i))
	return nil
}

func copyEntry(ev *Evidence, hdr *tar.Header, tr io.Reader, w io.Writer) error {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), tr)
	if err != nil {
		return fmt.Errorf("copying %s: %w", ev.Path, err)
	}
	ev.Size, ev.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	ev.Mode, ev.ModTime, ev.UID, ev.GID = hdr.Mode, hdr.ModTime.UTC(), hdr.Uid, hdr.Gid
	return nil
}

// cleanLayerPath is a path as layers store it: no leading "/" or "./".
func cleanLayerPath(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

func entryKind(hdr *tar.Header) string {
	switch hdr.Typeflag {
	case tar.TypeDir:
		return "a directory"
	case tar.TypeSymlink:
		return "a symbolic link to " + hdr.Linkname
	case tar.TypeLink:
		return "a hard link to " + hdr.Linkname + "; extract that path"
	}
	return fmt.Sprintf("tar type %q", hdr.Typeflag)
}
