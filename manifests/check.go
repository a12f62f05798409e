package manifests

import (
	"errors"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

// Check cross-checks the bundle's parts against each other, the way the
// cluster will combine them (CheckObjects, the same checks `relgen check
// --bundle` runs on any bundle), and against the spec it was made from.
// Problems are located at the relgen.yaml keys that produce them. All are
// reported at once.
func (b *Bundle) Check() error {
	s := b.Spec
	rep := CheckObjects(b.Objects, CheckOptions{Domain: s.Topology.Domain, Namespace: s.Topology.Namespace, AllowUnpinned: true})
	var errs []error
	for _, p := range rep.Problems {
		errs = append(errs, b.word(p))
	}
	errs = append(errs, CompareSpec(b.Objects, s)...)
	for _, o := range b.Objects {
		if pod, _, ok := WorkloadPod(o); ok {
			errs = append(errs, b.checkDistribution(pod)...)
			errs = append(errs, b.checkIngress(pod)...)
			errs = append(errs, b.checkJobs(pod.Spec.Containers[0].Image)...)
		}
	}
	return errors.Join(errs...)
}

// word turns a Problem into an error at the relgen.yaml key that made it,
// with the keys that fix it.
func (b *Bundle) word(p *Problem) error {
	s := b.Spec
	var missing *MissingVarError
	var twice *DuplicateEnvError
	switch {
	case errors.As(p, &missing):
		return s.Errorf("vm_args", "%s: line %d: ${%s} has no source in the pod env of environment %s, so Distillery would boot with an empty value; add %s to deployment.env, deployment.field_env or environments.%s.env",
			b.vmArgsName, missing.Line, missing.Name, s.Environment, missing.Name, s.Environment)
	case errors.As(p, &twice):
		return s.Errorf("env", "%s is set twice in the pod env (relgen sets it for discovery %s, discovery_config %s); remove it from deployment.env",
			twice.Name, s.Discovery, s.DiscoveryConfig)
	}
	return s.Errorf(p.Key, "%w", p)
}

// CompareSpec compares a bundle's objects with what spec says they
// should be: one namespace, the headless Service and its type of
// workload, the discovery strategy and node basename. `relgen check
// --bundle -f` runs it on a bundle relgen did not print.
func CompareSpec(objs []Object, s *release.Spec) []error {
	var errs []error
	fail := func(name, format string, args ...any) { errs = append(errs, s.Errorf(name, format, args...)) }
	t := s.Topology
	for _, o := range objs {
		// No namespace: applied to the one kubectl is given.
		if ns := o.GetNamespace(); ns != "" && ns != t.Namespace {
			fail("namespace", "%s %s is in namespace %q, not %q", kindOf(o), o.GetName(), ns, t.Namespace)
		}
	}
	o := objects{all: objs, opts: CheckOptions{Domain: t.Domain, Namespace: t.Namespace}}
	svc, _ := o.find("Service", t.Namespace, t.HeadlessService).(*corev1.Service)
	if svc == nil || svc.Spec.ClusterIP != corev1.ClusterIPNone {
		fail("headless_service", "the bundle has no headless Service %s (clusterIP: None) in namespace %s", t.HeadlessService, t.Namespace)
	}
	pods := o.releasePods()
	if len(pods) == 0 {
		return errs
	}
	for _, p := range pods {
		_, isSTS := p.work.(*appsv1.StatefulSet)
		if t.NamedByHostname() && !isSTS {
			fail("discovery", "%s names nodes by pod DNS name, which only a StatefulSet gives, but the bundle runs a %s", s.Discovery, kindOf(p.work))
		}
		if sts := p.statefulSet(); sts != nil && sts.Spec.ServiceName != t.HeadlessService {
			fail("headless_service", "the StatefulSet's serviceName %q is not the headless Service %s, so its pods get no DNS names", sts.Spec.ServiceName, t.HeadlessService)
		}
		if base, _ := p.nodeParts(); p.node != "" && base != t.Basename {
			fail("vm_args", "the pods boot as %s (%s), but the node basename is %s", displayed(p.node), p.nodeAt, t.Basename)
		}
		var names []string
		for _, u := range discovery.Find(p.discovery) {
			names = append(names, u.Strategy)
		}
		want := []string{s.Discovery}
		if s.Discovery == discovery.None {
			want = nil
		}
		if !slices.Equal(names, want) {
			fail("discovery", "the bundle configures discovery %v for %s, but the config says %s", names, p.at, s.Discovery)
		}
		// The configured strategy's own check of the bundle.
		strategy, err := discovery.For(s.Discovery)
		if err != nil || svc == nil {
			continue
		}
		base, host, _ := strings.Cut(p.rawNode, "@")
		err = strategy.Verify(discovery.Applied{
			Objects: objs, Workload: p.work, Pod: p.pod, Headless: svc, Domain: t.Domain,
			Config: p.configText, Basename: base, Host: host,
		})
		if err != nil {
			errs = append(errs, blameEach(s, "discovery", err))
		}
	}
	return errs
}

// workloadEnv is the release container's env in the workload's pods.
func (b *Bundle) workloadEnv() []corev1.EnvVar {
	for _, o := range b.Objects {
		if pod, _, ok := WorkloadPod(o); ok {
			return pod.Spec.Containers[0].Env
		}
	}
	return nil
}

func kindOf(o interface{ GetObjectKind() schema.ObjectKind }) string {
	return o.GetObjectKind().GroupVersionKind().Kind
}
