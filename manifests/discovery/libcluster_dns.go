package discovery

import "github.com/relgen/relgen/release"

// LibclusterDNS is the name of libcluster's Kubernetes.DNS strategy.
const LibclusterDNS = "libcluster-dns"

// libclusterDNS configures Cluster.Strategy.Kubernetes.DNS: it resolves
// the headless Service's A records and connects to application_name@IP.
type libclusterDNS struct{}

func (libclusterDNS) Name() string { return LibclusterDNS }

func (libclusterDNS) NamedByHostname() bool { return false }

// Check: libcluster takes any interval release accepts (whole
// milliseconds).
func (libclusterDNS) Check(release.Topology, func(string, string, ...any)) {}

func (libclusterDNS) Plan(t release.Topology) (Plan, error) {
	p := libcluster(t, "Cluster.Strategy.Kubernetes.DNS", []setting{
		textSetting("service", "LIBCLUSTER_SERVICE", t.FQDN()),
		textSetting("application_name", "LIBCLUSTER_APPLICATION_NAME", t.Basename),
		pollingInterval(t),
	})
	p.DNSName = t.FQDN()
	return p, nil
}

// Verify: the strategy resolves service and connects to
// application_name@IP.
func (libclusterDNS) Verify(a Applied) error {
	var v verifier
	v.expect(a, "service", "LIBCLUSTER_SERVICE", a.FQDN(), "the headless Service's name")
	v.expect(a, "application_name", "LIBCLUSTER_APPLICATION_NAME", a.Basename, "the node basename")
	return v.err()
}

// Find: the first Kubernetes.DNS topology of the :libcluster config, or
// on the env route LIBCLUSTER_SERVICE without a namespace.
func (libclusterDNS) Find(d Delivered) (Use, bool) {
	// On the env route the DNS strategy is the one with a service and no
	// namespace.
	path, ok := libclusterTopology(d, "Cluster.Strategy.Kubernetes.DNS", "LIBCLUSTER_SERVICE")
	if _, ns := d.Env["LIBCLUSTER_NAMESPACE"]; !ok || d.Config == nil && ns {
		return Use{}, false
	}
	u := Use{
		Query:    d.setting(path, "service", "LIBCLUSTER_SERVICE"),
		Basename: d.setting(path, "application_name", "LIBCLUSTER_APPLICATION_NAME"),
	}
	d.pollingInterval(&u, path)
	return u, true
}
