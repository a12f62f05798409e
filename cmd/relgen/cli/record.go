package cli

import (
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/image"
)

// recordReference reads the digest-pinned image reference from a build
// record written by relgen build --record, refusing a record of another
// release than spec's.
func recordReference(path string, spec *release.Spec) (string, error) {
	r, err := image.ReadRecordFile(path)
	if err != nil {
		return "", err
	}
	if err := r.Match(path, spec); err != nil {
		return "", err
	}
	return r.Reference, nil
}
