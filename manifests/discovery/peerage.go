package discovery

import (
	"fmt"
	"time"

	"github.com/relgen/relgen/release"
)

// peerage configures Peerage.Via.Dns: every interval it resolves the
// headless Service's name and connects to app_name@IP for each address.
type peerage struct{}

func (peerage) Name() string { return release.DiscoveryPeerage }

func (peerage) Plan(t release.Topology) (Plan, error) {
	if t.Interval < time.Second || t.Interval%time.Second != 0 {
		return Plan{}, fmt.Errorf("peerage polls in whole seconds; interval %s is not one", t.Interval)
	}
	secs := int64(t.Interval / time.Second)
	cfg := proplist{
		{"via", elixirModule("Peerage.Via.Dns")},
		{"dns_name", binary(t.FQDN())},
		{"app_name", binary(t.Basename)},
		{"interval", intval(secs)}, // peerage counts seconds
	}
	return Plan{
		Config: configFile(fmt.Sprintf("Peer discovery for %s in namespace %s, written by relgen.\n"+
			"Loaded after the release's sys.config, so these keys win.", t.Basename, t.Namespace),
			pair{"peerage", cfg}),
		Elixir: fmt.Sprintf("config :peerage,\n  via: Peerage.Via.Dns,\n  dns_name: %q,\n  app_name: %q,\n  interval: %d\n",
			t.FQDN(), t.Basename, secs),
		Setup:    `Add {:peerage, "~> 1.0"} to the deps in mix.exs; peerage starts itself and polls DNS.`,
		DNSName:  t.FQDN(),
		Basename: t.Basename,
	}, nil
}
