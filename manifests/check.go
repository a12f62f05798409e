package manifests

import (
	"errors"
	"maps"
	"slices"
	"strings"

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
// --bundle -f` runs it on a bundle relgen did not print. It reports what
// only the config can tell: where the objects disagree among themselves
// (discovery querying another Service, a StatefulSet without the pods'
// DNS names, ...), CheckObjects, which runs beside it, says so once.
func CompareSpec(objs []Object, s *release.Spec) []error {
	var errs []error
	fail := func(name, format string, args ...any) { errs = append(errs, s.Errorf(name, format, args...)) }
	t := s.Topology
	// One finding per namespace the objects moved to (an overlay's
	// namespace: moves them all); no namespace: applied to the one
	// kubectl is given.
	moved := map[string][]string{}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && ns != t.Namespace {
			moved[ns] = append(moved[ns], kindOf(o)+" "+o.GetName())
		}
	}
	for _, ns := range slices.Sorted(maps.Keys(moved)) {
		verb := "is"
		if len(moved[ns]) > 1 {
			verb = "are"
		}
		fail("namespace", "%s %s in namespace %q, not %q", strings.Join(moved[ns], ", "), verb, ns, t.Namespace)
	}
	o := objects{all: objs, opts: CheckOptions{Domain: t.Domain, Namespace: t.Namespace}}
	svc, _ := o.find("Service", t.Namespace, t.HeadlessService).(*corev1.Service)
	if svc == nil {
		// In another namespace: reported above.
		svc, _ = o.findCluster("Service", t.HeadlessService).(*corev1.Service)
	}
	if svc == nil || svc.Spec.ClusterIP != corev1.ClusterIPNone {
		fail("headless_service", "the bundle has no headless Service %s (clusterIP: None) in namespace %s", t.HeadlessService, t.Namespace)
	}
	for _, p := range o.releasePods() {
		uses := discovery.Find(p.discovery)
		var names []string
		for _, u := range uses {
			names = append(names, u.Strategy)
		}
		want := []string{s.Discovery}
		if s.Discovery == discovery.None {
			want = nil
		}
		if !slices.Equal(names, want) {
			fail("discovery", "the bundle configures discovery %v for %s, but the config says %s", names, p.at, s.Discovery)
		}
		// Pods named by DNS name get checked against their StatefulSet
		// by CheckObjects; one named by IP still needs serviceName.
		base, host := p.nodeParts()
		if sts := p.statefulSet(); sts != nil && !strings.HasPrefix(host, podName+".") && sts.Spec.ServiceName != t.HeadlessService {
			fail("headless_service", "the StatefulSet's serviceName %q is not the headless Service %s", sts.Spec.ServiceName, t.HeadlessService)
		}
		// A discovery basename other than the node's is CheckObjects'
		// finding; the config only adds one when both agree on another
		// name than its own.
		agreed := !slices.ContainsFunc(uses, func(u discovery.Use) bool { return u.Basename.Text != "" && u.Basename.Text != base })
		if p.node != "" && base != t.Basename && agreed {
			fail("vm_args", "the pods boot as %s (%s), but the node basename is %s", displayed(p.node), p.nodeAt, t.Basename)
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
