package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/load"
)

// FuzzLoadConfig feeds arbitrary bytes to the config loader as a YAML
// file: parsing, the unknown-key check, viper, case restoration, Validate,
// Resolve and generation must never panic, and every problem the loader
// reports names the file. Seeds are under testdata/fuzz/FuzzLoadConfig.
func FuzzLoadConfig(f *testing.F) {
	for _, file := range []string{"testdata/relgen.yaml", "testdata/formats/relgen.yaml", "../../../examples/seed/relgen.yaml"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// One file, rewritten for each input: a fuzz worker runs its inputs
	// one after another, and a fresh t.TempDir each time halves the speed.
	file := filepath.Join(f.TempDir(), "relgen.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if src, err := release.ParseSource("relgen.yaml", data); err == nil {
			_ = src.UnknownKeys()
		}

		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := load.File(file)
		if err != nil {
			for _, line := range errorLines(err) {
				if !strings.HasPrefix(line, file+":") {
					t.Errorf("loading %q: error line %q does not name the file", data, line)
				}
			}
			return
		}
		_ = cfg.Validate(discovery.Registry{})
		for _, env := range cfg.EnvironmentNames() {
			spec, err := cfg.Resolve(env, discovery.Registry{})
			if err != nil {
				continue
			}
			opts, err := runtimeOptions(cfg, spec)
			if err != nil {
				continue
			}
			opts.Image = pinnedRef
			_, _ = manifests.Generate(spec, opts)
		}
	})
}
