package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/image"
)

// loadSpec loads the config and resolves one environment. A release
// version missing from the config is read from the built release, when
// there is one.
func loadSpec(g *GlobalOptions, env string) (*release.Config, *release.Spec, error) {
	cfg, err := loadConfig(g)
	if err != nil {
		return nil, nil, err
	}
	if env == "" {
		return nil, nil, fmt.Errorf("%w (%s defines: %s)", errNoEnv, g.ConfigFile, strings.Join(cfg.EnvironmentNames(), ", "))
	}
	if cfg.Release.Version == "" && cfg.Release.Path != "" {
		// Not built yet: the version stays empty, and --record, --image
		// or release.version must name the image.
		if rel, err := image.Inspect(cfg.Release.Path); err == nil {
			cfg.Release.Version = rel.Version
		}
	}
	spec, err := cfg.Resolve(env, discovery.Registry{})
	if err != nil {
		return nil, nil, err
	}
	return cfg, spec, nil
}

// loadRuntime resolves env and renders what its nodes boot with: the
// vm.args and the discovery plan.
func loadRuntime(g *GlobalOptions, env string) (*release.Spec, *manifests.Runtime, error) {
	cfg, spec, err := loadSpec(g, env)
	if err != nil {
		return nil, nil, err
	}
	opts, err := runtimeOptions(cfg, spec)
	if err != nil {
		return nil, nil, err
	}
	rt, err := manifests.NewRuntime(spec, opts)
	if err != nil {
		return nil, nil, err
	}
	return spec, rt, nil
}

// runtimeOptions reads the user's vm.args template, if the config names one.
func runtimeOptions(cfg *release.Config, spec *release.Spec) (manifests.Options, error) {
	var o manifests.Options
	if cfg.Release.VMArgs == "" {
		return o, nil
	}
	b, err := os.ReadFile(cfg.Release.VMArgs)
	if err != nil {
		return o, spec.Errorf("release.vm_args", "reading the vm.args template: %w", err)
	}
	o.VMArgsName, o.VMArgsTemplate = cfg.Release.VMArgs, string(b)
	return o, nil
}
