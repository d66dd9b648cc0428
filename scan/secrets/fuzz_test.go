package secrets

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/detect"
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

// FuzzEngine feeds the engine and gitleaks' own detector the same text:
// they must find the same secrets on the same lines. The seeds are lines
// of the kinds the rules look for, plain and encoded.
func FuzzEngine(f *testing.F) {
	d, err := New()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("const key = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"; // api token\n")
	f.Add("s.AbCdEfGhIjKlMnOpQrStUvWx hvs.x ey eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n")
	f.Add("token=Z2hwXzFhMkIzYzRENWU2RjdnOGg5aTBKMWsyTDNtNE41bzZQN3E=\n%74oken=%61%62%63%64%65%66%67%68%69%6a%6b%6c\n")
	f.Add("curl -u admin:p4ssw0rd-Example https://x.example\n\\u0061\\u0070\\u0069_key = \"9f8e7d6c5b4a39281706f5e4d3c2b1a0\"\n")
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmwIDAQABAoIBAQCQ\n-----END RSA PRIVATE KEY-----\n")
	gl := oracle(d)
	f.Fuzz(func(t *testing.T, text string) {
		want := keysOf(gl.DetectContext(context.Background(), detect.Fragment{Raw: text, FilePath: "fuzz.js", StartLine: 1}))
		got := keysOf(d.engine.detect(context.Background(), "fuzz.js", []byte(text)))
		if !slices.Equal(want, got) {
			t.Errorf("the engine and gitleaks disagree on %q\n gitleaks: %q\n engine:   %q", text, want, got)
		}
	})
}
