package manifests

import (
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/relgen/relgen/release"
)

// Port names shared by the container, the Services and the NetworkPolicy.
const (
	PortHTTP = "http"
	PortEPMD = "epmd"
	PortDist = "dist"
)

// standardLabels are the app.kubernetes.io labels every object carries,
// merged with the selector labels (which win).
func standardLabels(s *release.Spec) map[string]string {
	obj := release.ObjectName(s.Release.Name)
	l := map[string]string{
		"app.kubernetes.io/name":       obj,
		"app.kubernetes.io/instance":   obj,
		"app.kubernetes.io/managed-by": managedBy,
	}
	if v := s.Release.Version; v != "" && len(validation.IsValidLabelValue(v)) == 0 {
		l["app.kubernetes.io/version"] = v
	}
	maps.Copy(l, s.Topology.Selector)
	return l
}

func meta(s *release.Spec, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: s.Topology.Namespace, Labels: standardLabels(s)}
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func configMapName(s *release.Spec) string { return release.ObjectName(s.Release.Name) + "-runtime" }

func configMap(s *release.Spec, b *Bundle) *corev1.ConfigMap {
	data := map[string]string{VMArgsKey: b.VMArgs}
	if b.DiscoveryConfig != "" {
		data[DiscoveryKey] = b.DiscoveryConfig
	}
	if b.RemoteVMArgs != "" {
		data[RemoteVMArgsKey] = b.RemoteVMArgs
	}
	if b.SSLDist != "" {
		data[SSLDistKey] = b.SSLDist
	}
	return &corev1.ConfigMap{
		TypeMeta:   typeMeta("v1", "ConfigMap"),
		ObjectMeta: meta(s, configMapName(s)),
		Data:       data,
	}
}

func servicePort(name string, port int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: intstr.FromString(name), Protocol: corev1.ProtocolTCP}
}

// headlessService makes DNS return every pod's IP, ready or not: nodes
// must find each other before they pass readiness.
func headlessService(s *release.Spec) *corev1.Service {
	t := s.Topology
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: meta(s, t.HeadlessService),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 t.Selector,
			Ports:                    append([]corev1.ServicePort{servicePort(PortHTTP, t.HTTPPort)}, distServicePorts(s)...),
		},
	}
}

func service(s *release.Spec) *corev1.Service {
	t := s.Topology
	return &corev1.Service{
		TypeMeta:   typeMeta("v1", "Service"),
		ObjectMeta: meta(s, t.Service),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: t.Selector,
			Ports:    []corev1.ServicePort{servicePort(PortHTTP, t.HTTPPort)},
		},
	}
}

func podDisruptionBudget(s *release.Spec) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   typeMeta("policy/v1", "PodDisruptionBudget"),
		ObjectMeta: meta(s, s.Deployment.Name),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector:       &metav1.LabelSelector{MatchLabels: s.Topology.Selector},
		},
	}
}

// networkPolicy lets only the release's own pods reach epmd and the
// distribution port: anyone holding the cookie there controls the node.
// The app port and the metrics port (for Prometheus) stay open.
func networkPolicy(s *release.Spec) *networkingv1.NetworkPolicy {
	t := s.Topology
	tcp := corev1.ProtocolTCP
	port := func(name string) networkingv1.NetworkPolicyPort {
		p := intstr.FromString(name)
		return networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &p}
	}
	var dist []networkingv1.NetworkPolicyPort
	for _, name := range distPortNames(s) {
		dist = append(dist, port(name))
	}
	open := []networkingv1.NetworkPolicyPort{port(PortHTTP)}
	if s.Deployment.Pod.MetricsPort != 0 {
		open = append(open, port(PortMetrics))
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "NetworkPolicy"),
		ObjectMeta: meta(s, s.Deployment.Name+"-distribution"),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: t.Selector},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: t.Selector}}},
					Ports: dist,
				},
				{Ports: open},
			},
		},
	}
}

// horizontalPodAutoscaler scales the workload on CPU utilisation.
func horizontalPodAutoscaler(s *release.Spec) *autoscalingv2.HorizontalPodAutoscaler {
	a := s.Deployment.Autoscaling
	kind := "Deployment"
	if s.Topology.NamedByHostname() {
		kind = "StatefulSet"
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   typeMeta("autoscaling/v2", "HorizontalPodAutoscaler"),
		ObjectMeta: meta(s, s.Deployment.Name),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: kind, Name: s.Deployment.Name},
			MinReplicas:    &a.Min,
			MaxReplicas:    a.Max,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &a.CPU},
				},
			}},
		},
	}
}

// minReplicas is the fewest pods the environment runs: the autoscaler's
// floor, else the fixed replica count.
func minReplicas(s *release.Spec) int32 {
	if a := s.Deployment.Autoscaling; a != nil {
		return a.Min
	}
	return s.Deployment.Replicas
}

// replicas is the workload's replica count. With an autoscaler it stays
// unset, so that kubectl apply does not reset the count the autoscaler
// chose.
func replicas(s *release.Spec) *int32 {
	if s.Deployment.Autoscaling != nil {
		return nil
	}
	return &s.Deployment.Replicas
}

func deploymentObject(s *release.Spec, pod corev1.PodTemplateSpec) *appsv1.Deployment {
	zero := intstr.FromInt32(0)
	one := intstr.FromInt32(1)
	return &appsv1.Deployment{
		TypeMeta:   typeMeta("apps/v1", "Deployment"),
		ObjectMeta: meta(s, s.Deployment.Name),
		Spec: appsv1.DeploymentSpec{
			Replicas: replicas(s),
			Selector: &metav1.LabelSelector{MatchLabels: s.Topology.Selector},
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				// Add a node before removing one, so the cluster never
				// shrinks during a rollout.
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &zero, MaxSurge: &one},
			},
			Template: pod,
		},
	}
}

// statefulSetObject runs the pods under stable names, <name>-0, <name>-1,
// ..., each with the DNS name <pod>.<headless svc>.<ns>.svc.<domain>
// because serviceName is the headless Service. Pods start and stop in
// parallel: the nodes join through discovery and need no ordering.
// Rolling updates replace one pod at a time (a StatefulSet cannot surge),
// so the cluster is one node short while a pod restarts.
func statefulSetObject(s *release.Spec, pod corev1.PodTemplateSpec) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		TypeMeta:   typeMeta("apps/v1", "StatefulSet"),
		ObjectMeta: meta(s, s.Deployment.Name),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            replicas(s),
			Selector:            &metav1.LabelSelector{MatchLabels: s.Topology.Selector},
			ServiceName:         s.Topology.HeadlessService,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Template:            pod,
		},
	}
}

// Object is one Kubernetes object of a bundle: a typed k8s.io/api value
// with metadata. It is an alias of the unnamed interface, so the objects a
// discovery plan adds (manifests/discovery cannot import this package)
// have the same type.
type Object = interface {
	metav1.Object
	runtime.Object
}
