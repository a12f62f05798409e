package release_test

import (
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/load"
)

func init() {
	release.LoadBytes = func(name string, data []byte) (*release.Config, error) {
		return load.Bytes(name, data)
	}
}
