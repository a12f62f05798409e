package cli

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/load"
)

// loadConfig loads -f's file with --set and the RELGEN_* variables of
// g.Environ applied.
func loadConfig(g *GlobalOptions) (*release.Config, error) {
	environ := g.Environ
	if environ == nil {
		environ = func() []string { return nil }
	}
	cfg, err := load.File(g.ConfigFile, load.WithEnviron(environ()), load.WithSet(g.Set))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such config file (use -f to point at relgen.yaml, or relgen init to write one)", g.ConfigFile)
	}
	return cfg, err
}
