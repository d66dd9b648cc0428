package history

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := map[string]struct {
		createdBy string
		want      Step
	}{
		"classic RUN with a build arg": {
			"|1 NPM_TOKEN=npm_abc123 /bin/sh -c npm ci",
			Step{Builder: BuilderClassic, Instruction: "RUN", BuildArgs: []Arg{{"NPM_TOKEN", "npm_abc123"}}, Command: "npm ci"},
		},
		"classic RUN without args": {
			"/bin/sh -c apt-get update && apt-get install -y curl",
			Step{Builder: BuilderClassic, Instruction: "RUN", Command: "apt-get update && apt-get install -y curl"},
		},
		"classic ENV": {
			"/bin/sh -c #(nop)  ENV NODE_ENV=production",
			Step{Builder: BuilderClassic, Instruction: "ENV", Assignments: []Arg{{"NODE_ENV", "production"}}, Command: "NODE_ENV=production"},
		},
		"classic legacy ENV NAME value": {
			"/bin/sh -c #(nop) ENV PATH /usr/local/bin:$PATH",
			Step{Builder: BuilderClassic, Instruction: "ENV", Assignments: []Arg{{"PATH", "/usr/local/bin:$PATH"}}, Command: "PATH /usr/local/bin:$PATH"},
		},
		"classic ADD of a base image": {
			"/bin/sh -c #(nop) ADD file:2c3a2d2fbf9ab0ef in / ",
			Step{Builder: BuilderClassic, Instruction: "ADD", Command: "file:2c3a2d2fbf9ab0ef in /"},
		},
		"classic LABEL with a quoted value holding spaces": {
			`/bin/sh -c #(nop)  LABEL description="a b c" version=1`,
			Step{Builder: BuilderClassic, Instruction: "LABEL", Assignments: []Arg{{"description", "a b c"}, {"version", "1"}}, Command: `description="a b c" version=1`},
		},
		"buildah ARG lists names only": {
			"/bin/sh -c #(nop) ARG NPM_TOKEN OTHER",
			Step{Builder: BuilderClassic, Instruction: "ARG", Assignments: []Arg{{"NPM_TOKEN", ""}, {"OTHER", ""}}, Command: "NPM_TOKEN OTHER"},
		},
		"buildah counts words, not args": {
			"|4 NPM_TOKEN=npm_abc123 OTHER=a b c /bin/sh -c echo \"$OTHER\" > other.txt",
			Step{Builder: BuilderClassic, Instruction: "RUN", BuildArgs: []Arg{{"NPM_TOKEN", "npm_abc123"}, {"OTHER", "a b c"}}, Command: `echo "$OTHER" > other.txt`},
		},
		"buildah exec-form RUN": {
			`/bin/sh -c ["/bin/busybox", "--install", "-s", "/bin"]`,
			Step{Builder: BuilderClassic, Instruction: "RUN", Command: `["/bin/busybox", "--install", "-s", "/bin"]`},
		},
		"BuildKit RUN with build args": {
			"RUN |2 NPM_TOKEN=npm_abc123 DB_PASSWORD=walnut-kettle-8516 /bin/sh -c npm ci # buildkit",
			Step{Builder: BuilderBuildKit, Instruction: "RUN", BuildArgs: []Arg{{"NPM_TOKEN", "npm_abc123"}, {"DB_PASSWORD", "walnut-kettle-8516"}}, Command: "npm ci"},
		},
		"BuildKit RUN with a value holding spaces": {
			"RUN |2 A=1 B=two words /bin/sh -c make # buildkit",
			Step{Builder: BuilderBuildKit, Instruction: "RUN", BuildArgs: []Arg{{"A", "1"}, {"B", "two words"}}, Command: "make"},
		},
		"BuildKit RUN without args": {
			"RUN /bin/sh -c apk add --no-cache curl # buildkit",
			Step{Builder: BuilderBuildKit, Instruction: "RUN", Command: "apk add --no-cache curl"},
		},
		"BuildKit ARG with a default": {
			"ARG NPM_TOKEN=npm_default123",
			Step{Builder: BuilderBuildKit, Instruction: "ARG", Assignments: []Arg{{"NPM_TOKEN", "npm_default123"}}, Command: "NPM_TOKEN=npm_default123"},
		},
		"BuildKit ENV": {
			"ENV API_KEY=sk_live_abc NODE_ENV=production",
			Step{Builder: BuilderBuildKit, Instruction: "ENV", Assignments: []Arg{{"API_KEY", "sk_live_abc"}, {"NODE_ENV", "production"}}, Command: "API_KEY=sk_live_abc NODE_ENV=production"},
		},
		"BuildKit COPY": {
			"COPY . . # buildkit",
			Step{Builder: BuilderBuildKit, Instruction: "COPY", Command: ". ."},
		},
		"BuildKit LABEL with dotted keys": {
			"LABEL org.opencontainers.image.source=https://example.com/app",
			Step{Builder: BuilderBuildKit, Instruction: "LABEL", Assignments: []Arg{{"org.opencontainers.image.source", "https://example.com/app"}}, Command: "org.opencontainers.image.source=https://example.com/app"},
		},
		"exec-form RUN with a build arg and no shell": {
			"|1 NPM_TOKEN=npm_abc123 npm ci",
			Step{Builder: BuilderClassic, Instruction: "RUN", BuildArgs: []Arg{{"NPM_TOKEN", "npm_abc123"}}, Command: "npm ci"},
		},
		"bash as the shell": {
			"|1 TOKEN=t0k3n /bin/bash -c curl -H x",
			Step{Builder: BuilderClassic, Instruction: "RUN", BuildArgs: []Arg{{"TOKEN", "t0k3n"}}, Command: "curl -H x"},
		},
		"unknown text is kept whole": {
			"cmd /S /C echo hello",
			Step{Builder: BuilderUnknown, Command: "cmd /S /C echo hello"},
		},
		"empty": {
			"",
			Step{Builder: BuilderUnknown},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Parse(tc.createdBy)); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.createdBy, diff)
			}
		})
	}
}

func TestStepString(t *testing.T) {
	for createdBy, want := range map[string]string{
		"|1 NPM_TOKEN=npm_abc123 /bin/sh -c npm ci":             "RUN npm ci",
		"/bin/sh -c #(nop) WORKDIR /private-app":                "WORKDIR /private-app",
		"RUN |1 A=b /bin/sh -c rm -f .npmrc # buildkit":         "RUN rm -f .npmrc",
		"/bin/sh -c #(nop) COPY file:01b0553b in /bin/busybox ": "COPY file:01b0553b in /bin/busybox",
		"cmd /S /C echo hello":                                  "cmd /S /C echo hello",
	} {
		if got := Parse(createdBy).String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", createdBy, got, want)
		}
	}
}
