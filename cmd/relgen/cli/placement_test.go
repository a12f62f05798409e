package cli

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/relgen/relgen/manifests"
)

func TestPlacement(t *testing.T) {
	code, out, errOut := run(t, "manifests", "-f", "testdata/placement.yaml", "--env", "prod")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	objs, err := manifests.Decode([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var (
		dep *appsv1.Deployment
		np  *networkingv1.NetworkPolicy
		ns  *corev1.Namespace
		sa  *corev1.ServiceAccount
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			dep = o
		case *networkingv1.NetworkPolicy:
			np = o
		case *corev1.Namespace:
			ns = o
		case *corev1.ServiceAccount:
			sa = o
		}
	}
	if dep == nil || np == nil || ns == nil || sa == nil {
		t.Fatalf("bundle lacks a Deployment, NetworkPolicy, Namespace or ServiceAccount: %v", objs)
	}
	spec := dep.Spec.Template.Spec
	if spec.ServiceAccountName != sa.Name || sa.Namespace != "shop" {
		t.Errorf("pods run as %q, the bundle creates ServiceAccount %s/%s", spec.ServiceAccountName, sa.Namespace, sa.Name)
	}
	if ns.Name != "shop" || ns.Labels[manifests.NamespaceEnforceLabel] != "restricted" {
		t.Errorf("Namespace %s labels %v, want shop enforcing restricted", ns.Name, ns.Labels)
	}
	if len(spec.Tolerations) != 1 || spec.Tolerations[0].TolerationSeconds == nil || *spec.Tolerations[0].TolerationSeconds != 60 {
		t.Errorf("tolerations = %+v, want tolerationSeconds 60 from the file", spec.Tolerations)
	}
	if a := spec.Affinity; a == nil || a.NodeAffinity == nil ||
		a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values[0] != "beam" {
		t.Errorf("affinity = %+v, want the node affinity from the file", spec.Affinity)
	}
	if spec.NodeSelector["pool"] != "beam" || spec.PriorityClassName != "high" || len(spec.ImagePullSecrets) != 1 || spec.ImagePullSecrets[0].Name != "ghcr-pull" {
		t.Errorf("nodeSelector %v, priorityClassName %q, imagePullSecrets %v", spec.NodeSelector, spec.PriorityClassName, spec.ImagePullSecrets)
	}
	if len(spec.TopologySpreadConstraints) != 2 {
		t.Errorf("topologySpreadConstraints = %+v, want hostname and zone for 2 replicas", spec.TopologySpreadConstraints)
	}
	ann := dep.Spec.Template.Annotations
	if ann[manifests.PrometheusScrape] != "true" || ann[manifests.PrometheusPort] != "9568" || ann["example.com/team"] != "shop" {
		t.Errorf("pod annotations = %v", ann)
	}
	// Prometheus may reach the metrics port the annotations point at.
	admitted := false
	for _, rule := range np.Spec.Ingress {
		for _, p := range rule.Ports {
			admitted = admitted || len(rule.From) == 0 && p.Port.StrVal == manifests.PortMetrics
		}
	}
	if !admitted {
		t.Errorf("NetworkPolicy %s does not admit the metrics port from anywhere: %+v", np.Name, np.Spec.Ingress)
	}
}
