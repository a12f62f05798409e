package cli

import (
	"github.com/relgen/relgen/release/image"
)

// recordReference reads the digest-pinned image reference from a build
// record written by relgen build --record.
func recordReference(path string) (string, error) {
	r, err := image.ReadRecordFile(path)
	if err != nil {
		return "", err
	}
	return r.Reference, nil
}
