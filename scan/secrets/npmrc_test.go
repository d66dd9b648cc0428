package secrets

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNpmrc(t *testing.T) {
	type hit struct {
		Rule, Secret string
		Line, Column int
		Desc         string
	}
	tests := map[string]struct {
		content string
		want    []hit
	}{
		"scoped npm_ token": {
			"//registry.npmjs.org/:_authToken=npm_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi3\n",
			[]hit{{"npmrc-auth-token", "npm_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi3", 1, 34, "An npm registry auth token in an npm config file for //registry.npmjs.org/."}},
		},
		"scoped with a path, legacy UUID token, spaces and quotes": {
			"@acme:registry=https://npm.acme.example/repo/\n  //npm.acme.example/repo/:_authToken = \"3f1c9a2e-7b4d-4e8f-9a61-0c2d5e7f8b94\"\n",
			[]hit{{"npmrc-auth-token", "3f1c9a2e-7b4d-4e8f-9a61-0c2d5e7f8b94", 2, 42, "An npm registry auth token in an npm config file for //npm.acme.example/repo/."}},
		},
		"unscoped, single quotes": {
			"_authToken='npm_4zWH8xMS9BMoXOJrLo8F2nXMzqQdgCWwDllJ'",
			[]hit{{"npmrc-auth-token", "npm_4zWH8xMS9BMoXOJrLo8F2nXMzqQdgCWwDllJ", 1, 13, "An npm registry auth token in an npm config file."}},
		},
		"_auth is decoded: the secret is the password, the user is named": {
			"always-auth=true\n_auth=YWxpY2U6c3dvcmRmaXNoLTEyMw==\n",
			[]hit{{"npmrc-auth", "swordfish-123", 2, 7, `npm basic auth in an npm config file: the password of user "alice", base64-encoded with it.`}},
		},
		"scoped _password is decoded": {
			"//npm.acme.example/:username=alice\n//npm.acme.example/:_password=c3dvcmRmaXNoLTEyMw==\n",
			[]hit{{"npmrc-password", "swordfish-123", 2, 31, "An npm registry password in an npm config file for //npm.acme.example/, base64-encoded."}},
		},
		"_auth that is not base64 is still a leak": {
			"_auth=not base64 at all!",
			[]hit{{"npmrc-auth", "not base64 at all!", 1, 7, "npm basic auth in an npm config file, not a valid base64 user:password."}},
		},
		"placeholders are not secrets": {
			"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n_auth=$NPM_AUTH\n//x/:_password=\"${NPM_PASSWORD}\"\n_authToken=\n",
			nil,
		},
		"comments and other keys are ignored": {
			"# _authToken=npm_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi3\n; _auth=YWxpY2U6c3dvcmQ=\nregistry=https://registry.npmjs.org/\nemail=a@b.example\n",
			nil,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []hit
			for _, m := range parseNpmrc([]byte(tc.content)) {
				got = append(got, hit{m.RuleID, m.Secret.Raw(), m.Line, m.Column, m.Description})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseNpmrc (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsNpmrc(t *testing.T) {
	for p, want := range map[string]bool{
		".npmrc": true, "root/.npmrc": true, "etc/npmrc": true, "usr/local/etc/npmrc": true,
		"app/.npmrc.bak": false, "app/npmrc.md": false, "app/.yarnrc": false,
	} {
		if got := isNpmrc(p); got != want {
			t.Errorf("isNpmrc(%q) = %v, want %v", p, got, want)
		}
	}
}
