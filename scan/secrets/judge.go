package secrets

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
)

// testTree matches paths inside test suites and fixtures.
var testTree = regexp.MustCompile(`(?i)(?:^|/)(?:tests?|__tests__|spec|specs|fixtures?|testdata|test-data|examples?)/`)

func inTestTree(p string) bool { return testTree.MatchString(p) }

// testValue matches values that say they are for testing.
var testValue = regexp.MustCompile(`(?i)(?:^(?:sk|pk|rk)_test_|test|dummy|fake|sample|example)`)

// likelyTestValue reports whether a secret says it is a test value: a
// Stripe test key, or one that contains test, dummy, fake, sample or
// example.
func likelyTestValue(v string) bool {
	return v != "" && testValue.MatchString(v)
}

// encryptedKey reports whether a PEM or OpenSSH private key is encrypted:
// an ENCRYPTED PEM block or header, or an OpenSSH key whose cipher is not
// "none".
func encryptedKey(pem string) bool {
	if strings.Contains(pem, "ENCRYPTED") {
		return true
	}
	if !strings.Contains(pem, "OPENSSH PRIVATE KEY") {
		return false
	}
	body := pem[strings.Index(pem, "-----\n")+6:]
	if end := strings.Index(body, "-----END"); end >= 0 {
		body = body[:end]
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	magic := []byte("openssh-key-v1\x00")
	if err != nil || !bytes.HasPrefix(raw, magic) || len(raw) < len(magic)+4 {
		return false
	}
	rest := raw[len(magic):]
	n := int(rest[0])<<24 | int(rest[1])<<16 | int(rest[2])<<8 | int(rest[3])
	if n > len(rest)-4 {
		return false
	}
	return string(rest[4:4+n]) != "none"
}
