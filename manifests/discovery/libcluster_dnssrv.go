package discovery

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/release"
)

// LibclusterDNSSRV is the name of libcluster's Kubernetes.DNSSRV strategy.
const LibclusterDNSSRV = "libcluster-dnssrv"

// clusterDomainEnv is the env var the DNSSRV strategy reads the cluster
// domain from (default "cluster.local."); relgen sets it.
const clusterDomainEnv = "CLUSTER_DOMAIN"

// libclusterDNSSRV configures Cluster.Strategy.Kubernetes.DNSSRV. It
// takes the bare Service name and the namespace, queries the SRV records
// of <service>.<namespace>.svc.<$CLUSTER_DOMAIN> (its default domain is
// "cluster.local."), and connects to application_name@<SRV target>: the
// pods' stable DNS names, which only a StatefulSet behind the headless
// Service gives. So relgen sets CLUSTER_DOMAIN to the environment's
// domain and names nodes by hostname (release.Topology.NamedByHostname).
type libclusterDNSSRV struct{}

func (libclusterDNSSRV) Name() string { return LibclusterDNSSRV }

func (libclusterDNSSRV) NamedByHostname() bool { return true }

// Check: libcluster takes any interval release accepts (whole
// milliseconds).
func (libclusterDNSSRV) Check(release.Topology, func(string, string, ...any)) {}

func (libclusterDNSSRV) Plan(t release.Topology) (Plan, error) {
	if !t.NamedByHostname() {
		return Plan{}, fmt.Errorf("%s connects to nodes by their pod's DNS name, but the topology names nodes by pod IP", LibclusterDNSSRV)
	}
	// Absolute, like libcluster's own default, so the resolver does not
	// try the pod's search domains first.
	domain := strings.TrimSuffix(t.Domain, ".") + "."
	p := libcluster(t, "Cluster.Strategy.Kubernetes.DNSSRV", []setting{
		textSetting("service", "LIBCLUSTER_SERVICE", t.HeadlessService),
		textSetting("application_name", "LIBCLUSTER_APPLICATION_NAME", t.Basename),
		textSetting("namespace", "LIBCLUSTER_NAMESPACE", t.Namespace),
		pollingInterval(t),
	})
	p.Env = []corev1.EnvVar{{Name: clusterDomainEnv, Value: domain}}
	p.Setup += "\nThe pods run as a StatefulSet behind the headless Service and boot as " +
		t.NodeName() + "; libcluster reads the cluster domain from " + clusterDomainEnv + ", which the pods set."
	// The name libcluster builds and queries, without the root dot.
	p.DNSName = fmt.Sprintf("%s.%s.svc.%s", t.HeadlessService, t.Namespace, strings.TrimSuffix(domain, "."))
	return p, nil
}

// placeholderPattern is a whole ${VAR} (vm.args) or $(VAR) (container
// env) reference.
var placeholderPattern = `^\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]$`

// Verify follows the library: it queries the SRV records of
// <service>.<namespace>.svc.<$CLUSTER_DOMAIN> and connects to
// <application_name>@<SRV target>, and a pod's SRV target is
// <pod>.<headless FQDN> only when a StatefulSet with serviceName = the
// headless Service runs it.
func (libclusterDNSSRV) Verify(a Applied) error {
	var v verifier
	sts, ok := a.Workload.(*appsv1.StatefulSet)
	if !ok {
		return errorf("%s needs a StatefulSet, the bundle runs a %s", LibclusterDNSSRV, a.Workload.GetObjectKind().GroupVersionKind().Kind)
	}
	if sts.Spec.ServiceName != a.Headless.Name {
		v.errorf("StatefulSet serviceName = %q, want the headless Service %q", sts.Spec.ServiceName, a.Headless.Name)
	}
	env := a.Env()
	domain := strings.TrimSuffix(env[clusterDomainEnv].Value, ".")
	query := a.setting("service", "LIBCLUSTER_SERVICE") + "." + a.setting("namespace", "LIBCLUSTER_NAMESPACE") + ".svc." + domain
	if query != a.FQDN() {
		v.errorf("libcluster queries %q, want the headless Service's name %q", query, a.FQDN())
	}
	v.expect(a, "application_name", "LIBCLUSTER_APPLICATION_NAME", a.Basename, "the node basename")
	podName, rest, _ := strings.Cut(a.Host, ".")
	if rest != a.FQDN() {
		v.errorf("the nodes boot on host %q, want <pod>.%s", a.Host, a.FQDN())
	}
	if ref := regexpFind(placeholderPattern, podName); ref == "" {
		v.errorf("the nodes boot on host %q: its pod part is not a variable", a.Host)
	} else if f := env[ref].ValueFrom; f == nil || f.FieldRef == nil || f.FieldRef.FieldPath != "metadata.name" {
		v.errorf("%s does not come from the Downward API metadata.name", ref)
	}
	return v.err()
}

// Find: the first Kubernetes.DNSSRV topology; the query is built as the
// library builds it.
func (libclusterDNSSRV) Find(d Delivered) (Use, bool) {
	path, ok := libclusterTopology(d, "Cluster.Strategy.Kubernetes.DNSSRV", "LIBCLUSTER_SERVICE", "LIBCLUSTER_NAMESPACE")
	if !ok {
		return Use{}, false
	}
	service := d.setting(path, "service", "LIBCLUSTER_SERVICE")
	ns := d.setting(path, "namespace", "LIBCLUSTER_NAMESPACE")
	// The library appends .svc. and the cluster domain it reads from
	// CLUSTER_DOMAIN, "cluster.local." when unset.
	domain, ok := d.env(clusterDomainEnv)
	if !ok {
		domain = Value{Text: "cluster.local.", At: "the library's default cluster domain"}
	}
	u := Use{
		Query: Value{
			Text: service.Text + "." + ns.Text + ".svc." + domain.Text,
			At:   strings.Join([]string{service.At, ns.At, domain.At}, " + "),
		},
		SRV:      true,
		Basename: d.setting(path, "application_name", "LIBCLUSTER_APPLICATION_NAME"),
	}
	d.pollingInterval(&u, path)
	return u, true
}
