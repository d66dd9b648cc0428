package history

import (
	"regexp"
	"testing"
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
