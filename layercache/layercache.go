// Package layercache keeps layer scans between runs, in one bbolt file
// under the user's cache directory: a second scan of an image, or of
// another image sharing its base layers, skips the layers already
// scanned. Entries are keyed by the caller (scan.Run keys them by diff_id,
// rules and options) and hold what scan/layers.Result.Snapshot writes:
// redacted secrets only, unless the run showed secrets. Beside them it
// keeps the keys of file contents the rules found nothing in, so that a
// file met again in another layer is not scanned again.
package layercache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/imagescan/imagescan/internal/outfile"
)

// Buckets: layer scans by the caller's key, and the keys of contents the
// rules found nothing in (see secrets.ContentStore).
var (
	bucket   = []byte("layers")
	contents = []byte("contents")
)

// ErrInUse is returned by Open when another process holds the cache.
var ErrInUse = errors.New("the layer cache is in use by another imagescan")

// Store is an open layer cache. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
}

// DefaultDir is where the cache lives unless told otherwise:
// $XDG_CACHE_HOME/imagescan or ~/.cache/imagescan.
func DefaultDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "imagescan"), nil
}

// Open opens the cache in dir, creating dir (mode 0700) and the file (mode
// 0600) as needed. A file that is not a valid cache is removed and
// rebuilt: a corrupt cache costs a rescan, never a failed run.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the layer cache directory: %w", err)
	}
	path := filepath.Join(dir, "layers.db")
	if err := checkFile(path); err != nil {
		return nil, err
	}
	s, err := open(path)
	if err == nil || errors.Is(err, ErrInUse) {
		return s, err
	}
	if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		return nil, fmt.Errorf("removing the unreadable layer cache %s: %w", path, rmErr)
	}
	return open(path)
}

// checkFile refuses a cache path that is a symlink or not a regular file,
// so that the cache is never written through a link, and narrows an
// existing cache file that others could read to mode 0600: it may hold
// secrets of runs with --show-secrets.
func checkFile(path string) error {
	if err := outfile.CheckDestination(path); err != nil {
		return fmt.Errorf("the layer cache: %w", err)
	}
	info, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("the layer cache %s: %w", path, err)
	}
	if info.Mode().Perm() != 0o600 {
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("the layer cache %s has mode %v and cannot be narrowed to 0600: %w", path, info.Mode().Perm(), err)
		}
	}
	return nil
}

func open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%w (%s)", ErrInUse, path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the layer cache %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(contents)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the layer cache %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Get returns the entry stored under key.
func (s *Store) Get(key string) ([]byte, bool) {
	var out []byte
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucket).Get([]byte(key)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, out != nil
}

// Put stores data under key.
func (s *Store) Put(key string, data []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(key), data)
	})
}

// Delete removes the entry under key, as when it no longer decodes.
func (s *Store) Delete(key string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Delete([]byte(key))
	})
}

// HasContent reports whether key was added by AddContents.
func (s *Store) HasContent(key []byte) bool {
	var ok bool
	_ = s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(contents).Get(key) != nil
		return nil
	})
	return ok
}

// AddContents adds keys, in one write.
func (s *Store) AddContents(keys [][]byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(contents)
		for _, k := range keys {
			if err := b.Put(k, []byte{1}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the cache file.
func (s *Store) Close() error { return s.db.Close() }
