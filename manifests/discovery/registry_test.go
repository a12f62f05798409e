package discovery_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

func ptr[T any](v T) *T { return &v }

func config(strategy, route string) *release.Config {
	return &release.Config{
		Release: release.ReleaseConfig{Name: "my_app", Version: "1.0.0", Kind: release.KindMix},
		Image:   release.ImageConfig{Repository: "registry.example.com/acme/my_app"},
		Cluster: release.ClusterConfig{Discovery: strategy, DiscoveryConfig: route},
		Deployment: release.DeploymentConfig{
			Replicas: ptr(int32(2)), Env: release.PlainEnv(map[string]string{"HOST": "example.com"}),
		},
		Environments: map[string]release.Environment{"prod": {Namespace: "shop"}},
		Origin:       release.Origin{File: "relgen.yaml"},
	}
}

// parts lists what the strategy named name lacks: every registered
// strategy must have settings that a bundle carries, checks that
// Validate runs, env vars that user env may not shadow, and a Verify hook
// that tells a bundle pointing elsewhere from its own. Its golden example
// is checked by the examples test.
func parts(reg release.Strategies, s discovery.Strategy) []string {
	var missing []string
	name := s.Name()
	if _, ok := reg.Lookup(name); !ok {
		missing = append(missing, "no registry entry")
	}
	for _, route := range []string{release.DiscoveryConfigFile, release.DiscoveryConfigEnv} {
		spec, err := config(name, route).Resolve("prod", reg)
		if err != nil {
			return append(missing, fmt.Sprintf("%s route: Resolve: %v", route, err))
		}
		if spec.Topology.NamedByHostname() != s.NamedByHostname() {
			missing = append(missing, "the topology ignores its hostname need")
		}
		b, err := manifests.Generate(spec, manifests.Options{Image: "registry.example.com/acme/my_app:1.0.0"})
		if err != nil {
			return append(missing, fmt.Sprintf("%s route: Generate: %v", route, err))
		}
		if b.Plan.Basename != spec.Topology.Basename {
			missing = append(missing, fmt.Sprintf("%s route: the plan names no node basename", route))
		}
		a := applied(b)
		if err := s.Verify(a); err != nil {
			missing = append(missing, fmt.Sprintf("%s route: Verify rejects its own bundle: %v", route, err))
		}
		if !rejectsElsewhere(s, a) {
			missing = append(missing, fmt.Sprintf("%s route: Verify accepts a bundle whose nodes or Service are elsewhere", route))
		}
		for _, e := range b.Plan.Env {
			c := config(name, route)
			c.Deployment.Env[e.Name] = release.Plain("shadow")
			if _, err := c.Resolve("prod", reg); err == nil || !strings.Contains(err.Error(), e.Name+" is set by relgen") {
				missing = append(missing, fmt.Sprintf("%s route: user env may shadow %s: %v", route, e.Name, err))
			}
		}
	}
	return missing
}

// applied reads the bundle the way the examples test does; config makes
// mix releases, which boot as RELEASE_NODE.
func applied(b *manifests.Bundle) discovery.Applied {
	a := discovery.Applied{Objects: b.Objects, Domain: b.Spec.Topology.Domain}
	for _, o := range b.Objects {
		if pod, _, ok := manifests.WorkloadPod(o); ok {
			a.Workload, a.Pod = o, pod
		}
		switch o := o.(type) {
		case *corev1.ConfigMap:
			a.Config = o.Data[manifests.DiscoveryKey]
		case *corev1.Service:
			if o.Spec.ClusterIP == corev1.ClusterIPNone {
				a.Headless = o
			}
		}
	}
	a.Basename, a.Host, _ = strings.Cut(a.Env()["RELEASE_NODE"].Value, "@")
	return a
}

// rejectsElsewhere reports whether Verify fails for at least one change
// that makes discovery miss the nodes: another basename, another
// Service, another namespace, or a config file a strategy without one
// would never mount.
func rejectsElsewhere(s discovery.Strategy, a discovery.Applied) bool {
	elsewhere := []func(a *discovery.Applied){
		func(a *discovery.Applied) { a.Basename = "other" },
		func(a *discovery.Applied) { h := *a.Headless; h.Name = "other"; a.Headless = &h },
		func(a *discovery.Applied) { a.Domain = "other.local" },
	}
	if a.Config == "" {
		elsewhere = append(elsewhere, func(a *discovery.Applied) { a.Config = "[]." })
	}
	for _, change := range elsewhere {
		c := a
		change(&c)
		if s.Verify(c) != nil {
			return true
		}
	}
	return false
}

// TestEveryStrategyHasAllParts fails when a registered strategy lacks a
// part.
func TestEveryStrategyHasAllParts(t *testing.T) {
	for _, name := range discovery.Names() {
		t.Run(name, func(t *testing.T) {
			s, err := discovery.For(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range parts(discovery.Registry{}, s) {
				t.Error(m)
			}
		})
	}
}

// TestHalfRegisteredStrategyFails proves parts notices what is missing:
// a strategy whose env is not reserved, one whose Verify accepts
// anything, one that is not in the registry.
func TestHalfRegisteredStrategyFails(t *testing.T) {
	real, err := discovery.For(discovery.DNSCluster)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		reg  release.Strategies
		s    discovery.Strategy
		want string
	}{
		{name: "env not reserved", reg: halfRegistry{}, s: real, want: "user env may shadow DNS_CLUSTER_QUERY"},
		{name: "Verify accepts anything", reg: discovery.Registry{}, s: lenient{real}, want: "Verify accepts a bundle whose nodes or Service are elsewhere"},
		{name: "not registered", reg: discovery.Registry{}, s: unregistered{real}, want: "no registry entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(parts(tc.reg, tc.s), "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("parts = %q, want a finding %q", got, tc.want)
			}
		})
	}
}

type lenient struct{ discovery.Strategy }

func (lenient) Verify(discovery.Applied) error { return nil }

type unregistered struct{ discovery.Strategy }

func (unregistered) Name() string { return "consul" }

// halfRegistry is the registry with a strategy that does not reserve the
// env vars it sets.
type halfRegistry struct{ discovery.Registry }

func (r halfRegistry) Lookup(name string) (release.Strategy, bool) {
	s, ok := r.Registry.Lookup(name)
	return noEnv{s}, ok
}

type noEnv struct{ release.Strategy }

func (noEnv) Env(release.Topology, string) []string { return nil }

// TestDefaultIsRegistered ties release's default strategy to the registry.
func TestDefaultIsRegistered(t *testing.T) {
	if _, ok := (discovery.Registry{}).Lookup(release.DefaultDiscovery); !ok {
		t.Errorf("release.DefaultDiscovery %q is not a registered strategy (%s)", release.DefaultDiscovery, discovery.Names())
	}
}
