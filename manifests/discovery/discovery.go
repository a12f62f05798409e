package discovery

import (
	"errors"
	"fmt"
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

// Strategy is one peer discovery library's view of the topology. Each
// strategy is one file of this package holding all of its parts, and one
// line in the registry below.
type Strategy interface {
	// Name is the strategy's config value, e.g. peerage.
	Name() string
	// NamedByHostname reports whether the strategy connects to nodes by
	// their pod's stable DNS name, which needs a StatefulSet behind the
	// headless Service (release.Topology.NamedByHostname).
	NamedByHostname() bool
	// Check adds the strategy's problems with the topology through add,
	// by key name (interval, ...): the units and names the library
	// accepts. Plan refuses a topology that Check finds fault with.
	Check(t release.Topology, add func(key, format string, args ...any))
	// Plan derives the strategy's config from the topology.
	Plan(t release.Topology) (Plan, error)
	// Verify checks a generated bundle, read back as the cluster sees
	// it, the way the library will use it: that it queries the headless
	// Service and connects to nodes of the basename the pods boot with.
	// The example tests call it for every example.
	Verify(a Applied) error
	// Find reads the strategy's settings from any bundle, as the library
	// will read them (the parsed -config file, else the env route), and
	// reports whether the bundle configures it. relgen check --bundle
	// checks what it returns against the objects.
	Find(d Delivered) (Use, bool)
}

// registry lists every strategy, in the order errors name them. It is
// the only list of valid cluster.discovery values.
var registry = []Strategy{
	peerage{},
	libclusterDNS{},
	libclusterDNSSRV{},
	libclusterKubernetes{},
	dnsCluster{},
	none{},
}

// Registry is the list of supported strategies. It implements
// release.Strategies, so Resolve and Validate accept exactly the names
// registered here and take their rules from the strategies themselves:
//
//	spec, err := cfg.Resolve("prod", discovery.Registry{})
type Registry struct{}

var _ release.Strategies = Registry{}

// Names lists the supported strategies in registration order.
func (Registry) Names() []string { return Names() }

// Lookup returns the strategy named name as release needs it.
func (Registry) Lookup(name string) (release.Strategy, bool) {
	s, err := For(name)
	if err != nil {
		return nil, false
	}
	return entry{s}, true
}

// entry adds what release asks of a strategy and can be derived from its
// plan: the env vars it sets.
type entry struct{ Strategy }

// Env lists the names of the env vars the strategy's plan gives the pods
// on route, so the reserved names cannot drift from what is set.
func (e entry) Env(t release.Topology, route string) []string {
	p, err := e.Plan(t)
	if err != nil {
		return nil
	}
	if route == release.DiscoveryConfigEnv {
		p = p.ViaEnv()
	}
	names := make([]string, len(p.Env))
	for i, v := range p.Env {
		names[i] = v.Name
	}
	return names
}

// For returns the strategy named name (cluster.discovery).
func For(name string) (Strategy, error) {
	i := slices.IndexFunc(registry, func(s Strategy) bool { return s.Name() == name })
	if i < 0 {
		return nil, fmt.Errorf("discovery strategy %q is not supported (supported: %s)", name, strings.Join(Names(), ", "))
	}
	return registry[i], nil
}

// Names lists the supported strategies in registration order.
func Names() []string {
	out := make([]string, len(registry))
	for i, s := range registry {
		out[i] = s.Name()
	}
	return out
}

// checked runs s.Check on t and returns its problems as one error, for
// Plan to refuse a topology with: the rule lives in Check alone.
func checked(s Strategy, t release.Topology) error {
	var errs []error
	s.Check(t, func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	})
	return errors.Join(errs...)
}
