package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/imagescan/imagescan/finding"
)

// keyEnv names the environment variable that holds the fingerprint key. A
// team sets it (as a CI secret) so that fingerprints match across machines.
const keyEnv = "IMAGESCAN_FINGERPRINT_KEY"

// fingerprintKey returns the key of secret ids and fingerprints: the
// value of $IMAGESCAN_FINGERPRINT_KEY, else the user's key file (made on
// first use), else, when neither can be had, a key for this run alone,
// with a note on stderr that its fingerprints will not match another run's.
func fingerprintKey(stderr io.Writer) (finding.Key, error) {
	if v, ok := os.LookupEnv(keyEnv); ok {
		k, err := finding.NewKey([]byte(v))
		if err != nil {
			return finding.Key{}, fmt.Errorf("$%s: %w", keyEnv, err)
		}
		return k, nil
	}
	path, err := keyFile()
	if err == nil {
		var k finding.Key
		if k, err = loadOrMakeKey(path); err == nil {
			return k, nil
		}
		if !errors.Is(err, errNoKeyFile) {
			return finding.Key{}, err
		}
	}
	fmt.Fprintf(stderr, "imagescan: fingerprints are keyed for this run only (%v); set $%s to keep them stable\n", err, keyEnv)
	return randomKey()
}

// keyFile is where the user's key lives: imagescan/fingerprint.key in the
// user config directory.
func keyFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "imagescan", "fingerprint.key"), nil
}

// errNoKeyFile wraps the reasons a key file could not be made.
var errNoKeyFile = errors.New("no key file")

// loadOrMakeKey reads the key file at path, or makes it (mode 0600, 32
// random bytes in hex) when there is none. A key file that exists but
// cannot be used is an error: replacing it would change every fingerprint.
func loadOrMakeKey(path string) (finding.Key, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return makeKey(path)
	}
	if err != nil {
		return finding.Key{}, fmt.Errorf("fingerprint key %s: %w", path, err)
	}
	k, err := finding.NewKey([]byte(strings.TrimSpace(string(data))))
	if err != nil {
		return finding.Key{}, fmt.Errorf("fingerprint key %s: %w", path, err)
	}
	return k, nil
}

func makeKey(path string) (finding.Key, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return finding.Key{}, err
	}
	text := hex.EncodeToString(secret)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return finding.Key{}, fmt.Errorf("%w: %v", errNoKeyFile, err)
	}
	// Written whole under a temporary name, then linked into place, so
	// that two imagescans starting at once agree on one key.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fingerprint.key-*")
	if err != nil {
		return finding.Key{}, fmt.Errorf("%w: %v", errNoKeyFile, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(text + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Link(tmp.Name(), path)
	}
	if errors.Is(werr, fs.ErrExist) { // another imagescan made it first
		return loadOrMakeKey(path)
	}
	if werr != nil {
		return finding.Key{}, fmt.Errorf("%w: %v", errNoKeyFile, werr)
	}
	return finding.NewKey([]byte(text))
}

func randomKey() (finding.Key, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return finding.Key{}, err
	}
	return finding.NewKey(secret)
}
