package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryWrittenFileIsNew0600 runs every command that writes a file,
// with --show-secrets so that the content is live, over an existing
// world-readable file and over a planted symlink: the file is replaced by
// a 0600 one, and the symlink is refused with its target untouched.
func TestEveryWrittenFileIsNew0600(t *testing.T) {
	commands := map[string]func(out string) []string{
		"scan -o": func(out string) []string { return []string{"scan", "--show-secrets", "-f", "json", "-o", out, deleted} },
		"diff -o": func(out string) []string { return []string{"diff", "--show-secrets", "-o", out, clean, deleted} },
		"extract -o": func(out string) []string {
			return []string{"extract", deleted, "--layer", "3", "--path", "private-app/.npmrc", "-o", out}
		},
		"extract --provenance": func(out string) []string {
			return []string{"extract", deleted, "--layer", "3", "--path", "private-app/.npmrc", "-o", out + ".bytes", "--provenance", out, "--show-secrets"}
		},
	}
	for name, args := range commands {
		t.Run(name+" over a 0644 file", func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			write(t, out, "old content\n")
			if err := os.Chmod(out, 0o644); err != nil {
				t.Fatal(err)
			}
			got := imagescan(t, args(out)...)
			if got.code == 2 {
				t.Fatalf("exit 2: %s", got.stderr)
			}
			info, err := os.Lstat(out)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode() != 0o600 {
				t.Errorf("mode %v, want -rw-------", info.Mode())
			}
			if strings.Contains(string(readFile(t, out)), "old content") {
				t.Error("the old content is still there")
			}
			assertNoTempFiles(t, filepath.Dir(out))
		})
		t.Run(name+" through a symlink", func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "victim")
			write(t, target, "victim\n")
			out := filepath.Join(dir, "out")
			if err := os.Symlink(target, out); err != nil {
				t.Fatal(err)
			}
			got := imagescan(t, args(out)...)
			if got.code != 2 || !strings.Contains(got.stderr, "symbolic link") || strings.Count(got.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line about the symbolic link", got.code, got.stderr)
			}
			if string(readFile(t, target)) != "victim\n" {
				t.Error("the symlink's target was written")
			}
			if strings.Contains(got.stderr+got.stdout, deletedToken) {
				t.Error("the refused output went to the terminal instead")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 2 {
				t.Errorf("a refused run left files behind: %v", entries)
			}
		})
	}
}

// assertNoTempFiles fails when a half-written file is left in dir.
func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".imagescan-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
