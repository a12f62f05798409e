package discovery

import (
	"fmt"
	"strings"
	"time"

	"github.com/relgen/relgen/release"
)

// Peerage is the name of the peerage strategy.
const Peerage = "peerage"

// peerage configures Peerage.Via.Dns: every interval it resolves the
// headless Service's name and connects to app_name@IP for each address.
type peerage struct{}

func (peerage) Name() string { return Peerage }

func (peerage) NamedByHostname() bool { return false }

// Check: peerage counts its interval in whole seconds.
func (peerage) Check(t release.Topology, add func(key, format string, args ...any)) {
	if t.Interval < time.Second || t.Interval%time.Second != 0 {
		add("interval", "%s: peerage polls in whole seconds; use a multiple of 1s", t.Interval)
	}
}

func (p peerage) Plan(t release.Topology) (Plan, error) {
	if err := checked(p, t); err != nil {
		return Plan{}, err
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

// Verify: peerage resolves dns_name and connects to app_name@IP.
func (peerage) Verify(a Applied) error {
	var v verifier
	v.expect(a, "dns_name", "PEERAGE_DNS_NAME", a.FQDN(), "the headless Service's name")
	v.expect(a, "app_name", "PEERAGE_APP_NAME", a.Basename, "the node basename")
	return v.err()
}

// Find: peerage reads its application env (the mounted file), or on the
// env route PEERAGE_* through config/runtime.exs.
func (peerage) Find(d Delivered) (Use, bool) {
	_, inFile := Lookup(d.Config, "peerage")
	_, inEnv := d.Env["PEERAGE_DNS_NAME"]
	if !inFile && !inEnv {
		return Use{}, false
	}
	app := []string{"peerage"}
	// Only Peerage.Via.Dns queries DNS; other vias list nodes themselves.
	if via, ok := d.config("peerage", "via"); inFile && (!ok || via.Text != "Elixir.Peerage.Via.Dns") {
		return Use{Basename: d.setting(app, "app_name", "PEERAGE_APP_NAME")}, true
	}
	u := Use{
		Query:    d.setting(app, "dns_name", "PEERAGE_DNS_NAME"),
		Basename: d.setting(app, "app_name", "PEERAGE_APP_NAME"),
	}
	// Peerage.Via.Dns calls String.to_charlist on dns_name, which takes
	// binaries only, and polls every interval * 1000 ms.
	if t, at, ok := d.rawConfig("peerage", "dns_name"); ok {
		if s, isStr := t.(Str); !isStr || !s.Binary {
			u.Faults = append(u.Faults, Fault{At: at, Msg: "dns_name is not a binary; Peerage.Via.Dns passes it to String.to_charlist, which crashes on a charlist (\"...\") or an atom: write <<\"...\">>"})
		}
	}
	d.wholeNumber(&u.Faults, "seconds", "peerage", "interval")
	return u, true
}

// libclusterTopology finds the first libcluster topology of module in the
// config file, returning the path to its config; on the env route (no
// file) it reports whether the variables of that strategy are set.
