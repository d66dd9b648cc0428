package finding

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Key keys the ids a report shows: secret ids and fingerprints. Both are
// HMAC-SHA256 under the key, so that nobody without the key can test
// guesses of a low-entropy secret against them. The same key gives the
// same ids in every run, which is what baselines and ignore files need;
// another key gives other ids.
//
// Inside one run, a Secret's own ID (an HMAC under a public key) groups
// values; it never leaves the process except into the layer cache.
type Key struct {
	secret []byte
}

// MinKeyBytes is the shortest key NewKey accepts.
const MinKeyBytes = 16

// NewKey returns the key made of secret, which must hold at least
// MinKeyBytes bytes.
func NewKey(secret []byte) (Key, error) {
	if len(secret) < MinKeyBytes {
		return Key{}, errors.New("a fingerprint key needs at least 16 bytes")
	}
	return Key{secret: append([]byte(nil), secret...)}, nil
}

// PublicKey is the key of library callers that set none. It is public, so
// its ids resist lookup tables but not a brute-force search of a weak
// secret; the imagescan command never uses it.
var PublicKey = Key{secret: []byte("imagescan public fingerprint key")}

// ID names the key without revealing it, so that a report says which key
// made its fingerprints and a baseline made with another key is refused.
func (k Key) ID() string {
	return k.hash("key id")
}

// SecretID returns the id a report shows for a secret: the same value
// always has the same id under one key.
func (k Key) SecretID(internal string) string {
	return k.hash("secret", internal)
}

// Fingerprint identifies a finding across rebuilds: its secret, its rule,
// the kind of location, and the path (layer files) or the field without
// indexes plus the variable name (history and config). Layer digests and
// indexes, history indexes and line numbers are left out, so that a rebuild
// that changes them, or adds and reorders unrelated steps, keeps it.
func (k Key) Fingerprint(internal, ruleID string, loc Location) string {
	where := loc.Path
	if loc.Kind != KindLayer {
		where = indexPattern.ReplaceAllString(loc.Field, "[]") + "#" + loc.Variable
	}
	return k.hash("fingerprint", internal, ruleID, string(loc.Kind), where)
}

// hash is the first 64 bits of HMAC-SHA256 of parts, NUL-separated, in hex.
func (k Key) hash(parts ...string) string {
	m := hmac.New(sha256.New, k.secret)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// Derive returns a key of 32 bytes for purpose, made from k: the same k
// and purpose always give the same bytes, and they reveal nothing of k.
// The layer cache that machines share authenticates its entries with one.
func (k Key) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte("derive\x00" + purpose))
	return m.Sum(nil)
}
