package discovery

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/release"
)

// DNSCluster is the name of the dns_cluster strategy.
const DNSCluster = "dns_cluster"

// dnsClusterQueryEnv is the variable a Phoenix app's config/runtime.exs
// reads the DNS name from.
const dnsClusterQueryEnv = "DNS_CLUSTER_QUERY"

// dnsCluster feeds Phoenix's DNSCluster (the Phoenix >= 1.7 convention):
// config/runtime.exs reads DNS_CLUSTER_QUERY and DNSCluster connects to
// <own basename>@IP for every A record of the headless Service.
type dnsCluster struct{}

func (dnsCluster) Name() string { return DNSCluster }

func (dnsCluster) NamedByHostname() bool { return false }

// Check: DNSCluster polls on its own interval (5 s unless the app passes
// :interval), so the topology's interval does not reach it.
func (dnsCluster) Check(release.Topology, func(string, string, ...any)) {}

// Plan: the snippet configures the release's own application (the release
// name, as Phoenix's generator does), so it can be pasted as is.
func (dnsCluster) Plan(t release.Topology) (Plan, error) {
	app := elixirAtom(t.Basename)
	return Plan{
		Env: []corev1.EnvVar{{Name: dnsClusterQueryEnv, Value: t.FQDN()}},
		Elixir: "# config/runtime.exs\n" +
			"config " + app + ", dns_cluster_query: System.get_env(\"DNS_CLUSTER_QUERY\") || :ignore\n",
		Setup: `Add {:dns_cluster, "~> 0.1"} to the deps and start ` +
			`{DNSCluster, query: Application.get_env(` + app + `, :dns_cluster_query) || :ignore} in your supervision tree ` +
			`(new Phoenix 1.7+ apps already do). DNSCluster polls every 5 s unless you pass :interval.`,
		DNSName:  t.FQDN(),
		Basename: t.Basename,
	}, nil
}

// Verify: DNSCluster resolves DNS_CLUSTER_QUERY.
func (dnsCluster) Verify(a Applied) error {
	if got := a.Env()[dnsClusterQueryEnv].Value; got != a.FQDN() {
		return errorf("%s = %q, want the headless Service's name %q", dnsClusterQueryEnv, got, a.FQDN())
	}
	return nil
}

// Find: a Phoenix app's config/runtime.exs reads DNS_CLUSTER_QUERY.
func (dnsCluster) Find(d Delivered) (Use, bool) {
	q, ok := d.env(dnsClusterQueryEnv)
	if !ok {
		return Use{}, false
	}
	// DNSCluster connects to <its own basename>@IP.
	return Use{Query: q}, true
}
