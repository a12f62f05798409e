package manifests

import (
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/vmargs"
)

// Check cross-checks the bundle's parts against each other, the way the
// cluster will combine them: the Services select the pods, discovery
// queries the headless Service's DNS name for nodes of the right
// basename, and every variable vm.args or the env refers to has a source
// in the pod. All problems are reported at once.
func (b *Bundle) Check() error {
	s := b.Spec
	var errs []error
	fail := func(name, format string, args ...any) { errs = append(errs, s.Errorf(name, format, args...)) }

	var work Object
	var services []*corev1.Service
	for _, o := range b.Objects {
		if o.GetNamespace() != s.Topology.Namespace {
			fail("namespace", "%s %s is in namespace %q, not %q", kindOf(o), o.GetName(), o.GetNamespace(), s.Topology.Namespace)
		}
		if _, _, ok := WorkloadPod(o); ok {
			work = o
		}
		if svc, ok := o.(*corev1.Service); ok {
			services = append(services, svc)
		}
	}
	if work == nil {
		return errors.New("bundle has no Deployment or StatefulSet")
	}
	pod, podSel, _ := WorkloadPod(work)
	sel, err := metav1.LabelSelectorAsSelector(podSel)
	if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
		fail("labels", "the %s's selector %v does not match its pod labels %v", kindOf(work), podSel.MatchLabels, pod.Labels)
	}
	if sts, ok := work.(*appsv1.StatefulSet); ok && sts.Spec.ServiceName != s.Topology.HeadlessService {
		fail("headless_service", "the StatefulSet's serviceName %q is not the headless Service %s, so its pods get no DNS names", sts.Spec.ServiceName, s.Topology.HeadlessService)
	}
	if _, ok := work.(*appsv1.StatefulSet); s.Topology.NamedByHostname() && !ok {
		fail("discovery", "%s names nodes by pod DNS name, which only a StatefulSet gives, but the bundle runs a %s", s.Discovery, kindOf(work))
	}
	var headless *corev1.Service
	for _, svc := range services {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) || len(svc.Spec.Selector) == 0 {
			fail("labels", "Service %s selects %v, which does not match the pod labels %v", svc.Name, svc.Spec.Selector, pod.Labels)
		}
		if svc.Name == s.Topology.HeadlessService {
			headless = svc
		}
	}
	if headless == nil || headless.Spec.ClusterIP != corev1.ClusterIPNone {
		fail("headless_service", "the bundle has no headless Service %s (clusterIP: None)", s.Topology.HeadlessService)
	} else {
		errs = append(errs, b.checkDiscovery(headless)...)
		errs = append(errs, b.verifyDiscovery(work, pod, headless)...)
	}
	if sel := b.Plan.Selector; sel != "" {
		if ls, err := labels.Parse(sel); err != nil || !ls.Matches(labels.Set(pod.Labels)) {
			fail("discovery", "%s lists pods with selector %q, which does not match the pod labels %v", s.Discovery, sel, pod.Labels)
		}
	}
	if sa := b.Plan.ServiceAccount; sa != "" && !b.has("ServiceAccount", sa) {
		fail("discovery", "%s needs the ServiceAccount %s, which the bundle lacks", s.Discovery, sa)
	}
	errs = append(errs, b.checkEnv(pod.Spec.Containers[0].Env)...)
	errs = append(errs, b.checkDistribution(pod)...)
	return errors.Join(errs...)
}

// has reports whether the bundle holds an object of kind named name.
func (b *Bundle) has(kind, name string) bool {
	for _, o := range b.Objects {
		if kindOf(o) == kind && o.GetName() == name {
			return true
		}
	}
	return false
}

func kindOf(o interface{ GetObjectKind() schema.ObjectKind }) string {
	return o.GetObjectKind().GroupVersionKind().Kind
}

// checkDiscovery compares what discovery will query and connect to with the
// headless Service and the node name the pods boot with.
func (b *Bundle) checkDiscovery(headless *corev1.Service) []error {
	s, plan := b.Spec, b.Plan
	var errs []error
	if plan.DNSName != "" {
		// From the Service object itself, not the Topology: this is what
		// cluster DNS will answer.
		fqdn := fmt.Sprintf("%s.%s.svc.%s", headless.Name, headless.Namespace, s.Topology.Domain)
		if plan.DNSName != fqdn {
			errs = append(errs, s.Errorf("discovery", "%s queries %q, but the headless Service's DNS name is %q", s.Discovery, plan.DNSName, fqdn))
		}
	}
	base, host := b.nodeName()
	if plan.Basename != "" && base != "" && plan.Basename != base {
		errs = append(errs, s.Errorf("vm_args", "%s connects to nodes named %s@..., but the pods boot as %s@...", s.Discovery, plan.Basename, base))
	}
	if s.Topology.NamedByHostname() {
		// Discovery connects to <basename>@<SRV target>; a pod's SRV
		// target is <pod>.<headless Service FQDN>.
		suffix := fmt.Sprintf(".%s.%s.svc.%s", headless.Name, headless.Namespace, s.Topology.Domain)
		if !strings.HasSuffix(host, suffix) {
			errs = append(errs, s.Errorf("vm_args", "%s connects to nodes on the pods' DNS names <pod>%s, but the pods boot on host %q", s.Discovery, suffix, host))
		}
	}
	return errs
}

// verifyDiscovery runs the strategy's own check of the bundle, which
// reads the config file and env the way the library will.
func (b *Bundle) verifyDiscovery(work Object, pod *corev1.PodTemplateSpec, headless *corev1.Service) []error {
	s := b.Spec
	strategy, err := discovery.For(s.Discovery)
	if err != nil {
		return []error{s.Errorf("discovery", "%v", err)}
	}
	base, host := b.nodeName()
	err = strategy.Verify(discovery.Applied{
		Objects: b.Objects, Workload: work, Pod: pod, Headless: headless, Domain: s.Topology.Domain,
		Config: b.DiscoveryConfig, Basename: base, Host: host,
	})
	if err == nil {
		return nil
	}
	return []error{blameEach(s, "discovery", err)}
}

// nodeName is the node name the pods boot with, split at '@': from -name
// in vm.args (Distillery) or RELEASE_NODE (mix).
func (b *Bundle) nodeName() (base, host string) {
	if b.Spec.Release.Kind == release.KindMix {
		for _, e := range b.workloadEnv() {
			if e.Name == "RELEASE_NODE" {
				base, host, _ = strings.Cut(e.Value, "@")
				return base, host
			}
		}
		return "", ""
	}
	args, err := vmargs.Parse(b.VMArgs)
	if err != nil {
		return "", ""
	}
	for _, a := range vmargs.Find(args, "-name") {
		if len(a.Values) == 1 {
			base, host, _ = vmargs.NodeName(a.Values[0])
			return base, host
		}
	}
	return "", ""
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

// checkEnv proves that every ${VAR} in vm.args has a source in the pod env
// (Distillery would substitute an empty string and the node would not
// boot), that every $(VAR) refers to an earlier entry (Kubernetes leaves
// others unexpanded), that no variable is set twice, and that the cookie
// comes from the Secret.
func (b *Bundle) checkEnv(env []corev1.EnvVar) []error {
	s := b.Spec
	var errs []error
	defined := map[string]bool{}
	for _, e := range env {
		for _, ref := range release.EnvRefs(e.Value) {
			if !defined[ref] {
				errs = append(errs, s.Errorf("env", "%s refers to $(%s), which is not defined before it in the pod env; Kubernetes would pass it on literally", e.Name, ref))
			}
		}
		if defined[e.Name] {
			// The later entry would silently win in the pod.
			errs = append(errs, s.Errorf("env", "%s is set twice in the pod env (relgen sets it for discovery %s, discovery_config %s); remove it from deployment.env",
				e.Name, s.Discovery, s.DiscoveryConfig))
		}
		defined[e.Name] = true
		if e.Name == release.CookieEnv && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			errs = append(errs, s.Errorf("release.cookie", "%s must come from a Secret, not a literal value", release.CookieEnv))
		}
	}
	if s.Release.Kind != release.KindDistillery {
		return errs
	}
	placeholders, err := vmargs.Placeholders(b.VMArgs)
	if err != nil {
		return append(errs, s.Errorf("vm_args", "%s: %w", b.vmArgsName, err))
	}
	reported := map[string]bool{}
	for _, p := range placeholders {
		if p.InComment || defined[p.Name] || reported[p.Name] {
			continue
		}
		reported[p.Name] = true
		errs = append(errs, s.Errorf("vm_args", "%s: line %d: ${%s} has no source in the pod env of environment %s, so Distillery would boot with an empty value; add %s to deployment.env, deployment.field_env or environments.%s.env",
			b.vmArgsName, p.Line, p.Name, s.Environment, p.Name, s.Environment))
	}
	return errs
}
