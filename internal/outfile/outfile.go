// Package outfile creates the files imagescan writes: reports, extracted
// files and their provenance, profiles. One rule holds for all of them:
// the content goes to a new file with mode 0600 beside the destination,
// which is renamed into place only when it is complete. A symlink, a
// directory or any other non-regular file at the destination is refused,
// so nothing is ever written through a link an attacker planted in a
// shared directory, and an existing regular file is replaced, never
// written into, so it cannot keep a wider mode.
package outfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a new file on its way to path. Write to it, then Commit or
// Abort.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts a new file for path. It fails when something other than a
// regular file is at path, or when the directory cannot take a new file.
func Create(path string) (*File, error) {
	if err := CheckDestination(path); err != nil {
		return nil, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".imagescan-*")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil { // CreateTemp's mode, made certain
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	return &File{File: f, path: path}, nil
}

// CheckDestination refuses a destination that is neither absent nor a
// regular file: a symlink, which imagescan never writes through, or a
// directory, FIFO or device. Files written in place by a library (the
// layer cache's bbolt file) are checked with it before they are opened.
func CheckDestination(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	switch m := info.Mode(); {
	case m&fs.ModeSymlink != 0:
		return fmt.Errorf("refusing to write %s: it is a symbolic link, which imagescan never writes through", path)
	case !m.IsRegular():
		return fmt.Errorf("refusing to write %s: it is not a regular file", path)
	}
	return nil
}

// Commit closes the file and renames it to its path, replacing what was
// there.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	if err := os.Rename(f.Name(), f.path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return nil
}

// Abort closes and removes the new file; the destination is untouched. It
// does nothing after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// Write creates path with the content write produces, under the rule of
// the package: nothing is left at path unless write succeeds.
func Write(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := write(f.File); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}
