package source

import (
	"fmt"
	"io"
	"os"
)

// maxMetadata bounds the size of every metadata document read into memory:
// manifest.json, index.json, a manifest, an index, a config, and every
// registry response that is not a layer. A larger one is refused before it
// is decoded, whatever its source.
const maxMetadata = 32 << 20

// readMetadata reads the whole metadata document what from r, refusing one
// of more than maxMetadata bytes without reading past that.
func readMetadata(r io.Reader, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxMetadata+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if len(data) > maxMetadata {
		return nil, fmt.Errorf("%s: more than %d bytes is too large for image metadata", what, maxMetadata)
	}
	return data, nil
}

// readMetadataFile reads the metadata document at path, which must be a
// regular file (see openRegular).
func readMetadataFile(path, what string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readMetadata(f, what)
}

// openRegular opens the file at path for reading only when it is a regular
// file, after following symlinks. A FIFO, a device or a socket where a
// blob should be could block the scan forever or never end; it is refused
// without a blocking open or a read.
func openRegular(path string) (*os.File, error) {
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is %s, not a regular file", path, fileKind(info.Mode()))
	}
	return f, nil
}

// fileKind names the kind of a file that is not regular.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "special"
}
