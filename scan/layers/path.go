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

// parents returns p's ancestor directories, nearest first ("a/b/c" gives
// "a/b", "a"). The root is not included.
func parents(p string) []string {
	var out []string
	for {
		i := strings.LastIndexByte(p, '/')
		if i <= 0 {
			return out
		}
		p = p[:i]
		out = append(out, p)
	}
}

// pathKey is a 64-bit FNV-1a hash of a path. Layers remember the paths they
// write by key rather than by string, which keeps a layer of a million files
// to a few tens of megabytes; a collision could at worst mislabel one
// finding's status, with odds of about one in 10^13 per lookup.
func pathKey(p string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(p); i++ {
		h ^= uint64(p[i])
		h *= prime
	}
	return h
}
