//go:build unix

package source

import (
	"os"
	"syscall"
)

// openNonBlocking opens path without waiting for a writer, as opening a
// FIFO for reading otherwise would. Reads of a regular file ignore the
// flag.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
