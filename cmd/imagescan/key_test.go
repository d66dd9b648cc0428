package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFingerprintKeyFile(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	_, first := scanSuppressed(t, deleted)
	path, err := keyFile()
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no key file after a scan: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	_, second := scanSuppressed(t, deleted)
	if first.FingerprintKey == "" || first.FingerprintKey != second.FingerprintKey ||
		first.Images[0].Findings[0].Fingerprint != second.Images[0].Findings[0].Fingerprint {
		t.Errorf("two runs with one key file disagree: %s %s", first.FingerprintKey, second.FingerprintKey)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(first.FingerprintKey, strings.TrimSpace(string(data))[:8]) {
		t.Error("the report reveals the key")
	}

	t.Setenv(keyEnv, "a team key shared by every CI runner")
	_, team := scanSuppressed(t, deleted)
	if team.FingerprintKey == first.FingerprintKey || team.Images[0].Findings[0].Fingerprint == first.Images[0].Findings[0].Fingerprint {
		t.Error("$IMAGESCAN_FINGERPRINT_KEY did not change the fingerprints")
	}
	t.Setenv(keyEnv, "short")
	if got := imagescan(t, "scan", "-q", deleted); got.code != 2 || !strings.Contains(got.stderr, keyEnv) {
		t.Errorf("a short key: exit %d, %q", got.code, got.stderr)
	}
}

func TestFingerprintKeyWithoutAConfigDirectory(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", "") // as in a container that runs imagescan without a home
	got, a := scanSuppressed(t, deleted)
	_, b := scanSuppressed(t, deleted)
	if got.code != 1 || !strings.Contains(got.stderr, "keyed for this run only") {
		t.Errorf("exit %d, stderr %q", got.code, got.stderr)
	}
	if a.FingerprintKey == b.FingerprintKey {
		t.Error("two runs without a key file share a key")
	}
}

func TestFingerprintKeyFileUnusable(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	path := filepath.Join(dir, "imagescan", "fingerprint.key")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, path, "too short\n")
	got := imagescan(t, "scan", "-q", deleted)
	if got.code != 2 || !strings.Contains(got.stderr, path) {
		t.Errorf("a broken key file: exit %d, %q", got.code, got.stderr)
	}
	if data, _ := os.ReadFile(path); string(data) != "too short\n" {
		t.Error("a broken key file was replaced, which would change every fingerprint")
	}
}
