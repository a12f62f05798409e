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
