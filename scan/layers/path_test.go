package layers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCleanPath(t *testing.T) {
	for name, want := range map[string]string{
		"app/.npmrc": "app/.npmrc", "./app/.npmrc": "app/.npmrc", "/app/.npmrc": "app/.npmrc",
		"app/dir/": "app/dir", "./": "", ".": "", "/": "", "a//b/./c": "a/b/c",
		"../escape": "../escape", "a/../../escape": "../escape",
	} {
		if got := cleanPath(name); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestWhiteout(t *testing.T) {
	type wo struct {
		Target       string
		Opaque, IsWO bool
	}
	for p, want := range map[string]wo{
		"app/.wh..npmrc":     {"app/.npmrc", false, true},
		".wh.app":            {"app", false, true},
		"app/.wh..wh..opq":   {"app", true, true},
		".wh..wh..opq":       {"", true, true},
		"app/.npmrc":         {"", false, false},
		"app/.whatever":      {"", false, false},
		"app/.wh.dir/inside": {"", false, false},
	} {
		target, opaque, ok := whiteout(p)
		if diff := cmp.Diff(want, wo{target, opaque, ok}); diff != "" {
			t.Errorf("whiteout(%q) (-want +got):\n%s", p, diff)
		}
	}
}

// TestPathHashOfPrefixes: the running hash of a path, read at each '/',
// is the key of that parent directory, which is what lets hides look up
// every parent in one pass.
func TestPathHashOfPrefixes(t *testing.T) {
	p := "a/bb/ccc/d"
	h := newPathHash()
	var got []uint64
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			got = append(got, h.sum())
		}
		h.add(p[i])
	}
	want := []uint64{pathKey("a"), pathKey("a/bb"), pathKey("a/bb/ccc")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("prefix keys (-want +got):\n%s", diff)
	}
	if h.sum() != pathKey(p) {
		t.Error("the running hash of the whole path is not its key")
	}
}
