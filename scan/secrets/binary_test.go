package secrets

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/imagescan/imagescan/finding"
)

func TestOSPackagedBinariesGetThirdPartyPolicy(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	strings := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})) +
		"api_key = \"" + fakeToken("", 24, 81) + "\"\n" +
		"token " + fakeToken("ghp_", 36, 82) + "\n"
	cases := []struct {
		path   string
		binary bool
		want   map[string]string // rule → suppression
	}{
		{"usr/lib/x86_64-linux-gnu/libcrypto.so.3", true, map[string]string{
			"private-key": finding.SuppressThirdPartySample, "generic-api-key": finding.SuppressThirdParty, "github-pat": ""}},
		{"usr/bin/tool", true, map[string]string{
			"private-key": finding.SuppressThirdPartySample, "generic-api-key": finding.SuppressThirdParty, "github-pat": ""}},
		{"usr/local/bin/tool", true, map[string]string{"private-key": "", "generic-api-key": "", "github-pat": ""}},
		{"srv/app/server", true, map[string]string{"private-key": "", "generic-api-key": "", "github-pat": ""}},
		{"usr/lib/x86_64-linux-gnu/libcrypto.so.3", false, map[string]string{"private-key": "", "generic-api-key": "", "github-pat": ""}},
		{"opt/app.tgz!usr/bin/tool", true, map[string]string{"private-key": "", "generic-api-key": "", "github-pat": ""}},
	}
	for _, c := range cases {
		got := map[string]string{}
		for _, m := range detector(t).DetectFile(context.Background(), finding.File{Path: c.path, Content: []byte(strings), Binary: c.binary}) {
			got[m.RuleID] = m.Suppressed
		}
		for rule, want := range c.want {
			if s, ok := got[rule]; !ok || s != want {
				t.Errorf("%s (binary %v): %s found %v, suppressed %q; want %q", c.path, c.binary, rule, ok, s, want)
			}
		}
	}
}
