package cli

import (
	"slices"
	"strings"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/image"
)

// tlsApps are the applications TLS distribution (-proto_dist inet_tls)
// loads at boot; a release without them stops with "Protocol 'inet_tls':
// not supported".
var tlsApps = []string{"ssl", "crypto", "public_key"}

// checkTLSApps refuses to pack a release that cannot boot in an
// environment that runs TLS distribution.
func checkTLSApps(cfg *release.Config, dir string, rel image.Release) error {
	var envs []string
	key := "cluster.tls"
	for _, env := range cfg.EnvironmentNames() {
		if spec, err := cfg.Resolve(env, discovery.Registry{}); err == nil && spec.Distribution.TLS != nil {
			envs = append(envs, env)
			key = spec.KeyPath("tls")
		}
	}
	if len(envs) == 0 {
		return nil
	}
	apps, err := image.Applications(dir, rel.Name, rel.Version)
	if err != nil {
		return cfg.Errorf(key, "TLS distribution in %s: %w", strings.Join(envs, ", "), err)
	}
	var missing []string
	for _, a := range tlsApps {
		if !slices.Contains(apps, a) {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return cfg.Errorf(key, "TLS distribution in %s needs %s in the release, but releases/%s/%s.rel does not list %s: "+
		"add :ssl to extra_applications in mix.exs (it brings crypto and public_key), or the nodes stop at boot with \"Protocol 'inet_tls': not supported\"",
		strings.Join(envs, ", "), strings.Join(tlsApps, ", "), rel.Version, rel.Name, strings.Join(missing, ", "))
}
