package discovery

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/relgen/relgen/release"
)

// Plan is what one strategy needs in one environment.
type Plan struct {
	// Config is an Erlang config file (sys.config format) that the VM
	// loads after the release's own sys.config, so its keys win. Empty
	// when the strategy is configured through env only.
	Config string
	// App is the OTP application the config file configures (peerage,
	// libcluster), empty when there is none.
	App string
	// Env are container env vars the strategy reads at runtime.
	Env []corev1.EnvVar
	// Objects are extra Kubernetes objects (RBAC, ...) the strategy needs.
	// Their type is manifests.Object, spelled out because manifests
	// imports this package.
	Objects []interface {
		metav1.Object
		runtime.Object
	}
	// Elixir is the equivalent compile-time config for users who prefer
	// config/*.exs, and Setup what to add to the application.
	Elixir string
	Setup  string
	// DNSName is the name the strategy resolves to find peers, and
	// Basename the node basename it connects to; the bundle checks both
	// against the headless Service and the node name.
	DNSName  string
	Basename string
	// ServiceAccount is the account the pods must run as (for strategies
	// that ask the Kubernetes API), or empty; Selector the label selector
	// such a strategy lists the release's pods with.
	ServiceAccount string
	Selector       string

	// envRoute and runtimeExs are what ViaEnv switches to.
	envRoute   []setting
	runtimeExs string
}

// Strategy is one peer discovery library's view of the topology.
type Strategy interface {
	// Name is the strategy's config value, e.g. peerage.
	Name() string
	// Plan derives the strategy's config from the topology.
	Plan(t release.Topology) (Plan, error)
}

var strategies = map[string]Strategy{}

func register(s Strategy) { strategies[s.Name()] = s }

func init() {
	register(peerage{})
	register(libclusterDNS{})
	register(libclusterDNSSRV{})
	register(libclusterKubernetes{})
	register(dnsCluster{})
	register(none{})
}

// For returns the strategy named name (cluster.discovery).
func For(name string) (Strategy, error) {
	s, ok := strategies[name]
	if !ok {
		return nil, fmt.Errorf("discovery strategy %q is not supported (supported: %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// Names lists the supported strategies, sorted.
func Names() []string { return slices.Sorted(maps.Keys(strategies)) }

// none clusters nothing: the nodes still get long names and the headless
// Service, so a user can connect them by hand or with their own library.
type none struct{}

func (none) Name() string { return release.DiscoveryNone }

func (none) Plan(t release.Topology) (Plan, error) {
	return Plan{Basename: t.Basename}, nil
}
