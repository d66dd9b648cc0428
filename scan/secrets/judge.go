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

// testValue matches values that say they are for testing: the word test,
// dummy, fake, sample or example standing apart (my-test-pass, sk_test_…,
// example123), not letters that happen to spell it inside a random token.
var testValue = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])(?:test|dummy|fake|sample|example)(?:[^a-z]|$)`)

// likelyTestValue reports whether a secret says it is a test value.
func likelyTestValue(v string) bool {
	return v != "" && !strings.Contains(v, "PRIVATE KEY") && testValue.MatchString(v)
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
