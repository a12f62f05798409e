//go:build !linux && !darwin

package image

import (
	"fmt"
	"io"
	"os"
)

// copyFile writes the size bytes of the file name to w, failing when the
// file is shorter or longer.
func copyFile(w io.Writer, name string, size int64, buf []byte) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	n, err := io.CopyBuffer(w, io.LimitReader(f, size), buf)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("reading %s: file changed while building (%d bytes, want %d)", name, n, size)
	}
	var one [1]byte
	if m, _ := f.Read(one[:]); m != 0 {
		return fmt.Errorf("reading %s: file changed while building (grew past %d bytes)", name, size)
	}
	return nil
}
