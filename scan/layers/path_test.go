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

func TestParents(t *testing.T) {
	if diff := cmp.Diff([]string{"a/b", "a"}, parents("a/b/c")); diff != "" {
		t.Errorf("parents (-want +got):\n%s", diff)
	}
	if got := parents("top"); len(got) != 0 {
		t.Errorf("parents(top) = %v, want none", got)
	}
}
