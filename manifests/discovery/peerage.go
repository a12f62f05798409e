package discovery

import (
	"fmt"
	"strings"
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
	const via = "Peerage.Via.Dns"
	settings := []setting{
		textSetting("dns_name", "PEERAGE_DNS_NAME", t.FQDN()),
		textSetting("app_name", "PEERAGE_APP_NAME", t.Basename),
		numberSetting("interval", "PEERAGE_INTERVAL", int64(t.Interval/time.Second)), // peerage counts seconds
	}
	snippet := func(render func(setting) string) string {
		return "config :peerage,\n  " + strings.Join(append([]string{"via: " + via}, elixirLines(settings, render)...), ",\n  ") + "\n"
	}
	return Plan{
		Config: configFile(fmt.Sprintf("Peer discovery for %s in namespace %s, written by relgen.\n"+
			"Loaded after the release's sys.config, so these keys win.", t.Basename, t.Namespace),
			pair{"peerage", append(proplist{{"via", elixirModule(via)}}, entries(settings)...)}),
		App:        "peerage",
		Elixir:     snippet(setting.literal),
		Setup:      `Add {:peerage, "~> 1.0"} to the deps in mix.exs; peerage starts itself and polls DNS.`,
		DNSName:    t.FQDN(),
		Basename:   t.Basename,
		envRoute:   settings,
		runtimeExs: runtimeExs(settings, snippet(setting.read)),
	}, nil
}
