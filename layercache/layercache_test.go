package layercache

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "cache")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("k"); ok {
		t.Error("an empty cache answered")
	}
	if err := s.Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Get("k"); !ok || string(v) != "v" {
		t.Errorf("Get = %q, %v", v, ok)
	}
	if err := s.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("k"); ok {
		t.Error("a deleted entry answered")
	}
	if _, err := Open(dir); !errors.Is(err, ErrInUse) {
		t.Errorf("a second Open while the first holds it: %v, want ErrInUse", err)
	}
	s.Close()
	for _, p := range []string{dir, filepath.Join(dir, "layers.db")} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if info.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", p, info.Mode().Perm(), want)
		}
	}
}

func TestCorruptFileIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "layers.db"), make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("a corrupt file was not rebuilt: %v", err)
	}
	defer s.Close()
	if err := s.Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
}

// TestCacheFileIsNeverReachedThroughASymlink: a symlink planted where the
// cache file goes is refused, its target untouched; an existing cache file
// that others can read is narrowed to 0600.
func TestCacheFileIsNeverReachedThroughASymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("victim"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "layers.db")); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(dir); err == nil {
		s.Close()
		t.Fatal("a symlinked cache file was opened")
	}
	if data, _ := os.ReadFile(victim); string(data) != "victim" {
		t.Errorf("the symlink's target was written: %q", data)
	}

	dir = t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, "layers.db")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
}

func TestContentKeys(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := []byte("key a"), []byte("key b")
	if s.HasContent(a) {
		t.Fatal("an empty cache has a content key")
	}
	if err := s.AddContents([][]byte{a}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.HasContent(a) || s.HasContent(b) {
		t.Errorf("after reopening: key a %v (want true), key b %v (want false)", s.HasContent(a), s.HasContent(b))
	}
}
