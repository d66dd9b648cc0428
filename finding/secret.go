package finding

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// Secret is a secret value found in an image. Its zero value is the empty
// secret, used by path-only rules that flag a file rather than a value.
//
// Secret redacts itself wherever it is formatted or marshalled; use Raw to
// get the value itself. A secret read back from the layer cache may hold
// only its redacted form and id (see Withheld).
type Secret struct {
	raw string
	// redacted and id are set, and raw is empty, for a withheld secret.
	redacted, id string
	// encoded holds the other forms the secret stood in where it was
	// found: the base64, hex, percent-encoded or escaped text that
	// decoded to it. Each reveals the secret as surely as raw does.
	encoded []string
}

// NewSecret wraps a raw secret value.
func NewSecret(raw string) Secret { return Secret{raw: raw} }

// Withheld is a secret known only by its redacted form and id, as the
// layer cache stores it: the value itself is never written to disk.
func Withheld(redacted, id string) Secret { return Secret{redacted: redacted, id: id} }

// WithEncoded returns s with one more form it was found in: text that
// decodes to it. Reporters redact every form wherever they print text
// taken from the image.
func (s Secret) WithEncoded(form string) Secret {
	if form == "" || form == s.raw || slices.Contains(s.encoded, form) {
		return s
	}
	s.encoded = append(slices.Clip(s.encoded), form)
	return s
}

// Forms returns every text that reveals the secret: its value and the
// encoded forms it was found in. A withheld secret has none.
func (s Secret) Forms() []string {
	if s.raw == "" {
		return nil
	}
	return append([]string{s.raw}, s.encoded...)
}

// Raw returns the secret value itself, or "" for a withheld secret. Only
// reporters call it, and only when the user asked for --show-secrets.
func (s Secret) Raw() string { return s.raw }

// IsWithheld reports whether s is known only by its redacted form.
func (s Secret) IsWithheld() bool { return s.raw == "" && s.redacted != "" }

// IsZero reports whether s is the empty secret of a path-only match.
func (s Secret) IsZero() bool { return s.raw == "" && s.redacted == "" }

// String returns the redacted form, so that %s and %v never leak the value.
func (s Secret) String() string { return s.Redacted() }

// GoString returns the redacted form, so that %#v never leaks the value.
func (s Secret) GoString() string { return "finding.Secret(" + s.Redacted() + ")" }

// MarshalText returns the redacted form, so that encoding/json and friends
// never leak the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.Redacted()), nil }

// knownPrefixes are the type prefixes of token formats. Redaction keeps them
// because they tell a reader what kind of credential leaked without
// revealing any of it. Longer prefixes come first.
var knownPrefixes = []string{
	"github_pat_", "sk_live_", "rk_live_", "sk_test_", "sk-proj-", "sk-ant-",
	"dop_v1_", "doo_v1_", "glpat-", "glptt-", "xoxb-", "xoxp-", "xoxa-", "xoxe-",
	"pypi-", "npm_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "hf_", "ya29.",
	"AKIA", "ASIA", "ABIA", "ACCA", "AIza", "SG.", "sk-",
}

// Redacted returns the form of the secret that is safe to print: its type
// prefix (npm_, ghp_, AKIA, …) when it has one, then at most four more
// characters, then "…". Short secrets reveal less: never more than a quarter
// of the characters after the prefix.
func (s Secret) Redacted() string {
	if s.raw == "" {
		return s.redacted
	}
	prefix := ""
	for _, p := range knownPrefixes {
		if strings.HasPrefix(s.raw, p) && len(s.raw) > len(p) {
			prefix = p
			break
		}
	}
	rest := []rune(s.raw[len(prefix):])
	show := min(4, len(rest)/4)
	return prefix + string(rest[:show]) + "…"
}

// idKey separates secret ids from any other use of the hash. The key is
// public, so an id resists lookup tables but not a brute-force search of a
// low-entropy secret; ids are truncated to 64 bits to limit what they
// confirm.
var idKey = []byte("imagescan secret id v1")

// ID returns a stable identifier of the secret value that does not reveal
// it: the first 16 hex digits of HMAC-SHA256 under a fixed key. The same
// value always has the same id, in every image and every run. It is the
// internal id: reports show Key.SecretID of it, keyed with a secret key.
func (s Secret) ID() string {
	if s.IsWithheld() {
		return s.id
	}
	return keyedID(s.raw)
}

// FileID returns the id used for a path-only match, which flags a whole file
// rather than a value: the id of the file's content digest.
func FileID(fileSHA256 string) string {
	return keyedID("file:" + fileSHA256)
}

func keyedID(v string) string {
	m := hmac.New(sha256.New, idKey)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))[:16]
}
