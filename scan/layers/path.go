package layers

import (
	"path"
	"strings"
)

// Whiteout markers, as the OCI image spec and Docker write them.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = whiteoutPrefix + whiteoutPrefix + ".opq"
)

// cleanPath turns a tar entry name into the path imagescan reports: cleaned,
// with no leading "./" or "/" and no trailing slash; the root itself is "".
// Names that climb out of the root ("../x") keep their "../": they are
// reported as written, never used as host paths.
func cleanPath(name string) string {
	p := strings.TrimLeft(path.Clean(name), "/")
	if p == "." {
		return ""
	}
	return p
}

// whiteout reports what a whiteout entry removes: for .wh..wh..opq the
// directory it makes opaque (opaque true), for .wh.NAME the path NAME. ok is
// false for entries that are not whiteouts.
func whiteout(p string) (target string, opaque, ok bool) {
	dir, base := path.Split(p)
	if !strings.HasPrefix(base, whiteoutPrefix) {
		return "", false, false
	}
	dir = strings.TrimSuffix(dir, "/")
	if base == opaqueMarker {
		return dir, true, true
	}
	return path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)), false, true
}

// pathKey is a 64-bit FNV-1a hash of a path. Layers remember the paths they
// write, delete and make opaque by key rather than by string, which keeps a
// layer of a million files to a few tens of megabytes; a collision could at
// worst mislabel one finding's status, with odds of about one in 10^13 per
// lookup. The hash is computed byte by byte, so the keys of all of a
// path's parent directories come from one pass over it (see pathHash).
func pathKey(p string) uint64 {
	h := newPathHash()
	for i := 0; i < len(p); i++ {
		h.add(p[i])
	}
	return h.sum()
}

// rootKey is the key of the root directory, "".
var rootKey = pathKey("")

// pathHash is pathKey's hash as it runs over a path.
type pathHash uint64

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newPathHash() pathHash { return fnvOffset }

func (h *pathHash) add(c byte) { *h = (*h ^ pathHash(c)) * fnvPrime }

func (h pathHash) sum() uint64 { return uint64(h) }
