package history

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/imagescan/imagescan/finding"
)

var argName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

// FuzzParse feeds Parse arbitrary created_by text: it must never fail,
// every build arg it reports must have a name a builder could have written,
// and every ENV, ARG or LABEL argument a name, as written.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"|1 NPM_TOKEN=npm_abc /bin/sh -c npm ci",
		"|4 NPM_TOKEN=npm_abc OTHER=a b c /bin/sh -c echo",
		"RUN |2 A=1 B=two words /bin/sh -c make # buildkit",
		"/bin/sh -c #(nop)  ENV NODE_ENV=production",
		`/bin/sh -c #(nop)  LABEL description="a b c" version=1`,
		"ARG NPM_TOKEN=npm_default",
		"|1 NPM_TOKEN=npm_abc npm ci",
		"|99999999999999999999 A=b",
		"|0 /bin/sh -c",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, createdBy string) {
		st := Parse(createdBy)
		_ = st.String()
		for _, a := range st.BuildArgs {
			if !argName.MatchString(a.Name) {
				t.Errorf("Parse(%q): build arg name %q", createdBy, a.Name)
			}
		}
		for _, a := range st.Assignments {
			if a.Name == "" {
				t.Errorf("Parse(%q): an assignment with no name", createdBy)
			}
		}
	})
}

// FuzzConfigStrings puts arbitrary text under an arbitrary key of a
// config, and in config.User: every secret word the fake detector sees in
// either must be found, wherever the key puts it.
func FuzzConfigStrings(f *testing.F) {
	f.Add("x-vendor", "tok_a")
	f.Add("moby.buildkit.buildinfo.v1", "eyJhdHRycyI6eyJidWlsZC1hcmc6QV9UT0tFTiI6InRva19iIn19")
	f.Add("annotations", `tok_c "quoted" tok_d`)
	f.Fuzz(func(t *testing.T, key, value string) {
		if !utf8.ValidString(key) || !utf8.ValidString(value) {
			return // JSON would hold U+FFFD in their place
		}
		raw, err := json.Marshal(map[string]any{"os": "linux", key: value, "config": map[string]string{"User": value}})
		if err != nil {
			return
		}
		cfg, err := ParseConfig(raw)
		if err != nil {
			return // a key of a typed field, with a value of another type
		}
		res := Scan(context.Background(), cfg, 0, fakeDetector{})
		found := map[string]bool{}
		for _, f := range res.Findings {
			found[f.Secret.Raw()] = true
		}
		for _, w := range (fakeDetector{}).DetectFile(context.Background(), finding.File{Content: []byte(key + " " + value)}) {
			if !found[w.Secret.Raw()] {
				t.Errorf("key %q, value %q: %s not found", key, value, w.Secret.Raw())
			}
		}
	})
}
