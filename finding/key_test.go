package finding

import (
	"strings"
	"testing"
)

func testKey(t *testing.T, secret string) Key {
	t.Helper()
	k, err := NewKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFingerprintSurvivesRebuilds(t *testing.T) {
	k := testKey(t, "0123456789abcdef-test-key")
	id := NewSecret("npm_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi3").ID()
	layer := Location{Kind: KindLayer, LayerIndex: 3, DiffID: "sha256:aaa", Path: "app/.npmrc", Line: 1}
	rebuilt := layer
	rebuilt.LayerIndex, rebuilt.DiffID, rebuilt.Line = 5, "sha256:bbb", 2
	if k.Fingerprint(id, "npm-access-token", layer) != k.Fingerprint(id, "npm-access-token", rebuilt) {
		t.Error("a layer finding's fingerprint changed with the layer index, digest or line")
	}
	moved := layer
	moved.Path = "srv/.npmrc"
	if k.Fingerprint(id, "npm-access-token", layer) == k.Fingerprint(id, "npm-access-token", moved) {
		t.Error("a different path kept the fingerprint")
	}

	hist := Location{Kind: KindHistory, HistoryIndex: 5, Field: "history[5].created_by", Variable: "NPM_TOKEN"}
	later := hist
	later.HistoryIndex, later.Field = 9, "history[9].created_by"
	if k.Fingerprint(id, "npm-access-token", hist) != k.Fingerprint(id, "npm-access-token", later) {
		t.Error("a history finding's fingerprint changed with the entry's index")
	}
	other := hist
	other.Variable = "OTHER_TOKEN"
	if k.Fingerprint(id, "npm-access-token", hist) == k.Fingerprint(id, "npm-access-token", other) {
		t.Error("a different variable kept the fingerprint")
	}
	if k.Fingerprint(id, "npm-access-token", hist) == k.Fingerprint(id, "generic-api-key", hist) {
		t.Error("a different rule kept the fingerprint")
	}
	rotated := NewSecret("npm_4zWH8xMS9BMoXOJrLo8F2nXMzqQdgCWwDllJ").ID()
	if k.Fingerprint(id, "npm-access-token", layer) == k.Fingerprint(rotated, "npm-access-token", layer) {
		t.Error("a rotated token at the same place kept the fingerprint")
	}
}

// TestKeyedIDsNeedTheKey checks that secret ids and fingerprints depend on
// the key: whoever lacks it cannot test guesses of a weak secret.
func TestKeyedIDsNeedTheKey(t *testing.T) {
	a, b := testKey(t, "team-key-aaaaaaaaaaaa"), testKey(t, "team-key-bbbbbbbbbbbb")
	weak := NewSecret("hunter2").ID()
	loc := Location{Kind: KindConfig, Field: "config.Env[2]", Variable: "DB_PASSWORD"}
	if a.SecretID(weak) == b.SecretID(weak) || a.Fingerprint(weak, "r", loc) == b.Fingerprint(weak, "r", loc) {
		t.Error("two keys gave the same ids")
	}
	if a.SecretID(weak) != testKey(t, "team-key-aaaaaaaaaaaa").SecretID(weak) {
		t.Error("one key gave two ids for one value")
	}
	if a.SecretID(weak) == weak || a.SecretID(weak) == PublicKey.SecretID(weak) {
		t.Error("the reported id is the public one")
	}
	if a.ID() == b.ID() || strings.Contains(a.ID(), "team-key") {
		t.Errorf("key ids %s and %s", a.ID(), b.ID())
	}
	if _, err := NewKey([]byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}
