package finding

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestRedacted(t *testing.T) {
	tests := map[string]struct {
		raw, want string
	}{
		"npm token keeps its prefix and four more": {"npm_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi3", "npm_KGpO…"},
		"github token":                      {"ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_16C7…"},
		"AWS key id":                        {"AKIAZ6QDNQDJUG7VMB4T", "AKIAZ6QD…"},
		"no known prefix":                   {"walnut-kettle-8516", "waln…"},
		"short secrets reveal a quarter":    {"hunter22", "hu…"},
		"very short secrets reveal nothing": {"abc", "…"},
		"a bare prefix is not a prefix":     {"npm_", "n…"},
		"multi-byte characters stay whole":  {"pässwörtlichkeit", "päss…"},
		"the empty secret":                  {"", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := NewSecret(tc.raw).Redacted(); got != tc.want {
				t.Errorf("Redacted(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestSecretNeverFormatsRaw(t *testing.T) {
	raw := "npm_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi3"
	s := NewSecret(raw)
	f := Finding{RuleID: "npm-access-token", Secret: s}
	j, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%s":   fmt.Sprintf("%s", s),
		"%v":   fmt.Sprintf("%v", s),
		"%+v":  fmt.Sprintf("%+v", f),
		"%#v":  fmt.Sprintf("%#v", f),
		"%q":   fmt.Sprintf("%q", s),
		"json": string(j),
	}
	for verb, out := range outputs {
		if strings.Contains(out, raw) || strings.Contains(out, raw[4:12]) {
			t.Errorf("%s leaks the secret: %s", verb, out)
		}
		if !strings.Contains(out, "npm_KGpO…") {
			t.Errorf("%s does not show the redacted form: %s", verb, out)
		}
	}
	if s.Raw() != raw {
		t.Errorf("Raw() = %q, want the value", s.Raw())
	}
}

func TestIDIsStableAndDoesNotReveal(t *testing.T) {
	a := NewSecret("walnut-kettle-8516")
	if a.ID() != NewSecret("walnut-kettle-8516").ID() {
		t.Error("the same value has two ids")
	}
	if a.ID() == NewSecret("walnut-kettle-8517").ID() {
		t.Error("different values share an id")
	}
	// Pinned: ids appear in baselines, so they must not change between
	// versions without a schema change.
	if got, want := a.ID(), "dc12aaa310156dbd"; got != want {
		t.Errorf("ID() = %s, want the pinned %s", got, want)
	}
	if strings.Contains(a.ID(), "walnut") {
		t.Error("the id contains the value")
	}
	if FileID("abc") == NewSecret("abc").ID() {
		t.Error("a file id collides with a value id")
	}
}
