package discovery

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/relgen/relgen/release"
)

// libclusterSetup is what a libcluster user adds to the application: the
// dependency and a Cluster.Supervisor reading the topologies relgen's
// config file sets.
const libclusterSetup = `Add {:libcluster, "~> 3.3"} to the deps in mix.exs and start
{Cluster.Supervisor, [Application.get_env(:libcluster, :topologies), [name: MyApp.ClusterSupervisor]]}
in your application's supervision tree; relgen's config (the mounted file, or on the env
route the config/runtime.exs block) sets :topologies.`

// topology is the name of the libcluster topology relgen writes.
const topologyName = "relgen"

// libcluster builds the plan parts every libcluster strategy shares: the
// :libcluster config with one topology for module, whose config holds
// the settings, as a file, as compile-time config and as the env route.
func libcluster(t release.Topology, module string, settings []setting) Plan {
	snippet := func(render func(setting) string) string {
		return fmt.Sprintf("config :libcluster,\n  topologies: [\n    %s: [\n      strategy: %s,\n      config: [\n        %s\n      ]\n    ]\n  ]\n",
			topologyName, module, strings.Join(elixirLines(settings, render), ",\n        "))
	}
	return Plan{
		Config: configFile(fmt.Sprintf("Peer discovery for %s in namespace %s, written by relgen.\n"+
			"Loaded after the release's sys.config, so these keys win.", t.Basename, t.Namespace),
			pair{"libcluster", proplist{{"topologies", proplist{
				{topologyName, proplist{{"strategy", elixirModule(module)}, {"config", entries(settings)}}},
			}}}}),
		App:        "libcluster",
		Elixir:     snippet(setting.literal),
		Setup:      libclusterSetup,
		Basename:   t.Basename,
		envRoute:   settings,
		runtimeExs: runtimeExs(settings, snippet(setting.read)),
	}
}

func millis(d time.Duration) int64 { return int64(d / time.Millisecond) }

// pollingInterval is libcluster's polling_interval, in milliseconds.
func pollingInterval(t release.Topology) setting {
	return numberSetting("polling_interval", "LIBCLUSTER_POLLING_INTERVAL", millis(t.Interval))
}

// libclusterDNS configures Cluster.Strategy.Kubernetes.DNS: it resolves
// the headless Service's A records and connects to application_name@IP.
type libclusterDNS struct{}

func (libclusterDNS) Name() string { return release.DiscoveryLibclusterDNS }

func (libclusterDNS) Plan(t release.Topology) (Plan, error) {
	p := libcluster(t, "Cluster.Strategy.Kubernetes.DNS", []setting{
		textSetting("service", "LIBCLUSTER_SERVICE", t.FQDN()),
		textSetting("application_name", "LIBCLUSTER_APPLICATION_NAME", t.Basename),
		pollingInterval(t),
	})
	p.DNSName = t.FQDN()
	return p, nil
}

// libclusterDNSSRV configures Cluster.Strategy.Kubernetes.DNSSRV. It
// takes the bare Service name and the namespace, queries the SRV records
// of <service>.<namespace>.svc.<$CLUSTER_DOMAIN> (its default domain is
// "cluster.local."), and connects to application_name@<SRV target>: the
// pods' stable DNS names, which only a StatefulSet behind the headless
// Service gives. So relgen sets CLUSTER_DOMAIN to the environment's
// domain and names nodes by hostname (release.Topology.NamedByHostname).
type libclusterDNSSRV struct{}

func (libclusterDNSSRV) Name() string { return release.DiscoveryLibclusterDNSSRV }

func (libclusterDNSSRV) Plan(t release.Topology) (Plan, error) {
	if !t.NamedByHostname() {
		return Plan{}, fmt.Errorf("%s connects to nodes by their pod's DNS name, but the topology names nodes by pod IP", release.DiscoveryLibclusterDNSSRV)
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
	p.Env = []corev1.EnvVar{{Name: release.ClusterDomainEnv, Value: domain}}
	p.Setup += "\nThe pods run as a StatefulSet behind the headless Service and boot as " +
		t.NodeName() + "; libcluster reads the cluster domain from " + release.ClusterDomainEnv + ", which the pods set."
	// The name libcluster builds and queries, without the root dot.
	p.DNSName = fmt.Sprintf("%s.%s.svc.%s", t.HeadlessService, t.Namespace, strings.TrimSuffix(domain, "."))
	return p, nil
}

// libclusterKubernetes configures Cluster.Strategy.Kubernetes in :ip mode:
// it lists the release's pods through the Kubernetes API, so the pods need
// a ServiceAccount allowed to read them.
type libclusterKubernetes struct{}

func (libclusterKubernetes) Name() string { return release.DiscoveryLibclusterKubernetes }

func (libclusterKubernetes) Plan(t release.Topology) (Plan, error) {
	selector := labelSelector(t.Selector)
	account := release.ObjectName(t.Basename) + "-discovery"
	p := libcluster(t, "Cluster.Strategy.Kubernetes", []setting{
		atomSetting("mode", "ip"),
		textSetting("kubernetes_node_basename", "LIBCLUSTER_NODE_BASENAME", t.Basename),
		textSetting("kubernetes_selector", "LIBCLUSTER_SELECTOR", selector),
		textSetting("kubernetes_namespace", "LIBCLUSTER_NAMESPACE", t.Namespace),
		pollingInterval(t),
	})
	p.Objects = rbac(t, account)
	p.ServiceAccount = account
	p.Selector = selector
	return p, nil
}

// labelSelector writes labels as a Kubernetes selector string, sorted.
func labelSelector(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}

// rbac lets the pods' ServiceAccount read pods and endpoints in their own
// namespace, which is all Cluster.Strategy.Kubernetes asks the API for.
func rbac(t release.Topology, name string) []interface {
	metav1.Object
	runtime.Object
} {
	meta := metav1.ObjectMeta{Name: name, Namespace: t.Namespace, Labels: t.Selector}
	read := []string{"get", "list", "watch"}
	return []interface {
		metav1.Object
		runtime.Object
	}{
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta},
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: meta,
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"pods", "endpoints"}, Verbs: read},
				{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: read},
			},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: meta,
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: t.Namespace}},
		},
	}
}

// dnsCluster feeds Phoenix's DNSCluster (the Phoenix >= 1.7 convention):
// config/runtime.exs reads DNS_CLUSTER_QUERY and DNSCluster connects to
// <own basename>@IP for every A record of the headless Service.
type dnsCluster struct{}

func (dnsCluster) Name() string { return release.DiscoveryDNSCluster }

func (dnsCluster) Plan(t release.Topology) (Plan, error) {
	return Plan{
		Env: []corev1.EnvVar{{Name: "DNS_CLUSTER_QUERY", Value: t.FQDN()}},
		Elixir: "# config/runtime.exs\n" +
			"config :my_app, dns_cluster_query: System.get_env(\"DNS_CLUSTER_QUERY\") || :ignore\n",
		Setup: `Add {:dns_cluster, "~> 0.1"} to the deps and start ` +
			`{DNSCluster, query: Application.get_env(:my_app, :dns_cluster_query) || :ignore} in your supervision tree ` +
			`(new Phoenix 1.7+ apps already do). DNSCluster polls every 5 s unless you pass :interval.`,
		DNSName:  t.FQDN(),
		Basename: t.Basename,
	}, nil
}
