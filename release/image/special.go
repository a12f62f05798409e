package image

import (
	"fmt"
	"io/fs"
	"unicode/utf8"
)

// What a release may hold besides regular files, directories and
// symlinks has no meaning in an image (a FIFO or device node is created by
// whoever runs the system, not shipped), so such files are refused by name
// rather than packed or silently skipped.

// unsupportedFile explains why the file at p, of mode m, cannot be packed.
func unsupportedFile(p string, m fs.FileMode) error {
	what := "a file of type " + m.Type().String()
	switch {
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	case m&fs.ModeIrregular != 0:
		what = "an irregular file"
	}
	return fmt.Errorf("%s: is %s; only regular files, directories and symlinks are packed: "+
		"remove it from the release or add it to image.exclude", p, what)
}

// checkName refuses a name that is not valid UTF-8: the tar header would
// carry it as a PAX record, which must be UTF-8, and image tools and the
// BEAM's file name handling (+fnu) expect it. Names with other odd
// characters (spaces, newlines) are valid and packed as they are.
func checkName(p, rel string) error {
	if utf8.ValidString(rel) {
		return nil
	}
	return fmt.Errorf("%q: name is not valid UTF-8; rename it or add it to image.exclude", p)
}
