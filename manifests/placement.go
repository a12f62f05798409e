package manifests

import (
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/relgen/relgen/release"
)

// PortMetrics names the Prometheus port on the container and in the
// NetworkPolicy.
const PortMetrics = "metrics"

// Prometheus' conventional scrape annotations on the pod.
const (
	PrometheusScrape = "prometheus.io/scrape"
	PrometheusPort   = "prometheus.io/port"
	PrometheusPath   = "prometheus.io/path"
)

// Topology keys the pods are spread over.
const (
	HostnameKey = "kubernetes.io/hostname"
	ZoneKey     = "topology.kubernetes.io/zone"
)

// NamespaceEnforceLabel is the Pod Security admission label relgen puts on a
// namespace it creates: its pods pass the restricted level.
const NamespaceEnforceLabel = "pod-security.kubernetes.io/enforce"

// place adds deployment's pull, identity and placement settings to the
// pod template.
func place(s *release.Spec, pod *corev1.PodTemplateSpec) {
	p := s.Deployment.Pod
	spec := &pod.Spec
	for _, n := range p.ImagePullSecrets {
		spec.ImagePullSecrets = append(spec.ImagePullSecrets, corev1.LocalObjectReference{Name: n})
	}
	if p.ServiceAccount != "" {
		spec.ServiceAccountName = p.ServiceAccount
	}
	if len(p.Annotations) > 0 {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		maps.Copy(pod.Annotations, p.Annotations)
	}
	if p.MetricsPort != 0 {
		c := &spec.Containers[0]
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: PortMetrics, ContainerPort: p.MetricsPort, Protocol: corev1.ProtocolTCP})
		pod.Annotations[PrometheusScrape] = "true"
		pod.Annotations[PrometheusPort] = strconv.Itoa(int(p.MetricsPort))
		pod.Annotations[PrometheusPath] = p.MetricsPath
	}
	spec.NodeSelector = p.NodeSelector
	spec.Tolerations = p.Tolerations
	spec.Affinity = p.Affinity
	spec.PriorityClassName = p.PriorityClass
	preStop(s, &spec.Containers[0])
	if p.TopologySpread && maxReplicas(s) > 1 {
		spec.TopologySpreadConstraints = spread(s.Topology.Selector)
	}
}

// spread keeps the nodes apart, so that losing one machine or zone does
// not take the whole cluster: at most one pod more on any host or zone
// than on another, as far as the scheduler can (ScheduleAnyway: a
// single-zone cluster still runs every replica).
func spread(selector map[string]string) []corev1.TopologySpreadConstraint {
	var out []corev1.TopologySpreadConstraint
	for _, key := range []string{HostnameKey, ZoneKey} {
		out = append(out, corev1.TopologySpreadConstraint{
			MaxSkew:           1,
			TopologyKey:       key,
			WhenUnsatisfiable: corev1.ScheduleAnyway,
			LabelSelector:     &metav1.LabelSelector{MatchLabels: selector},
		})
	}
	return out
}

// maxReplicas is the most pods the environment runs.
func maxReplicas(s *release.Spec) int32 {
	if a := s.Deployment.Autoscaling; a != nil {
		return a.Max
	}
	return s.Deployment.Replicas
}

// serviceAccount is the pods' account when the config asks relgen to
// create it. Its token is not mounted unless discovery needs one.
func serviceAccount(s *release.Spec) *corev1.ServiceAccount {
	no := false
	return &corev1.ServiceAccount{
		TypeMeta:                     typeMeta("v1", "ServiceAccount"),
		ObjectMeta:                   meta(s, s.Deployment.Pod.ServiceAccount),
		AutomountServiceAccountToken: &no,
	}
}

// namespace is the environment's Namespace, enforcing the Pod Security
// restricted level, which relgen's pods meet.
func namespace(s *release.Spec) *corev1.Namespace {
	l := standardLabels(s)
	l[NamespaceEnforceLabel] = "restricted"
	return &corev1.Namespace{
		TypeMeta:   typeMeta("v1", "Namespace"),
		ObjectMeta: metav1.ObjectMeta{Name: s.Topology.Namespace, Labels: l},
	}
}
