package secrets

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// credentialNames are the file names the parsers answer to.
var credentialNames = []string{
	".npmrc", ".yarnrc.yml", ".yarnrc", "root/.docker/config.json", ".git-credentials", ".netrc",
	"etc/apt/auth.conf", ".pypirc", "pip.conf", "root/.gem/credentials", "settings.xml", "auth.json",
	"root/.aws/credentials", "root/.kube/config", ".env", "notes.txt",
}

// FuzzCredentialFiles feeds every credential parser and the URL rule
// arbitrary content: they must never fail, and each match must name a
// secret, at a line and column inside the content.
func FuzzCredentialFiles(f *testing.F) {
	f.Add(uint8(0), []byte("//registry.npmjs.org/:_authToken=npm_abc\n_auth=YWxpY2U6c3dvcmQ=\n"))
	f.Add(uint8(1), []byte("npmScopes:\n  acme:\n    npmAuthIdent: \"ci:pass-1234\"\n"))
	f.Add(uint8(3), []byte(`{"auths":{"r.example":{"auth":"ZGVwbG95OnMzY3JldA=="}}}`))
	f.Add(uint8(5), []byte("machine m login l password p macdef x\nbody\n\npassword q\n"))
	f.Add(uint8(10), []byte(`{"http-basic":{"h":{"username":"u","password":"p4ssw0rd-1"}},"github-oauth":{"github.com":"tok"}}`))
	f.Add(uint8(15), []byte("db = postgres://app:Pg-secret-1@db:5432/app\n"))
	f.Fuzz(func(t *testing.T, which uint8, content []byte) {
		name := credentialNames[int(which)%len(credentialNames)]
		lines := bytes.Count(content, []byte("\n")) + 1
		ms := append(parseCredentialFiles(name, content), urlCredentials(content, "url-credentials", "")...)
		for _, m := range ms {
			if m.Secret.IsZero() {
				t.Errorf("%s: an empty secret from %s", name, m.RuleID)
			}
			if m.Line < 1 || m.Line > lines || m.Column < 1 {
				t.Errorf("%s: %s at line %d column %d of %d lines", name, m.RuleID, m.Line, m.Column, lines)
			}
			if !utf8.ValidString(m.Description) {
				t.Errorf("%s: description is not UTF-8", name)
			}
		}
	})
}
