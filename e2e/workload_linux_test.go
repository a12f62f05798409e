package e2e

import (
	"fmt"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/manifests"
)

// workload is the bundle's pod controller: a Deployment, or a
// StatefulSet for discovery by the pods' stable DNS names
// (libcluster-dnssrv). The simulation plays its controller.
type workload struct {
	kind, name, namespace string
	replicas              int32
	// template is the pod template; broken cases change it before the
	// pods are made.
	template *corev1.PodTemplateSpec
	// sts is the StatefulSet, nil for a Deployment.
	sts *appsv1.StatefulSet
}

// ordered reports whether the controller starts pod N+1 only once pod N
// is ready: a StatefulSet's default podManagementPolicy, OrderedReady.
func (w *workload) ordered() bool {
	return w.sts != nil && w.sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
}

// podIdentity is what the workload's controller gives its next pod:
// its name and labels, and for a StatefulSet the hostname and subdomain
// that make <pod>.<serviceName>.<namespace>.svc.<domain> resolve.
func (w *workload) podIdentity(t *testing.T, ordinal int) (name string, labels map[string]string, hostname, subdomain string) {
	if w.sts == nil {
		// The ReplicaSet controller: <deployment>-<pod-template-hash>-<random>.
		hash := templateHash(t, *w.template)
		return fmt.Sprintf("%s-%s-%s", w.name, hash, safeString(fmt.Sprint(ordinal+1), 5)), map[string]string{"pod-template-hash": hash}, "", ""
	}
	// The StatefulSet controller: <statefulset>-<ordinal>, with the
	// labels it adds, hostname = pod name, subdomain = serviceName.
	name = fmt.Sprintf("%s-%d", w.name, ordinal)
	labels = map[string]string{
		"statefulset.kubernetes.io/pod-name": name,
		"apps.kubernetes.io/pod-index":       strconv.Itoa(ordinal),
		"controller-revision-hash":           w.name + "-" + templateHash(t, *w.template),
	}
	return name, labels, name, w.sts.Spec.ServiceName
}

// workloadOf picks the Deployment or StatefulSet and the headless Service
// out of the bundle.
func workloadOf(t *testing.T, objs []manifests.Object) (*workload, *corev1.Service) {
	t.Helper()
	var (
		workloads []*workload
		headless  []*corev1.Service
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			if !selects(o.Spec.Selector.MatchLabels, o.Spec.Template.Labels) || len(o.Spec.Selector.MatchExpressions) > 0 {
				t.Fatalf("deployment selector %v does not select its pod template labels %v", o.Spec.Selector, o.Spec.Template.Labels)
			}
			workloads = append(workloads, &workload{kind: "deployment", name: o.Name, namespace: o.Namespace, replicas: replicasOf(t, o.Spec.Replicas), template: &o.Spec.Template})
		case *appsv1.StatefulSet:
			if !selects(o.Spec.Selector.MatchLabels, o.Spec.Template.Labels) || len(o.Spec.Selector.MatchExpressions) > 0 {
				t.Fatalf("statefulset selector %v does not select its pod template labels %v", o.Spec.Selector, o.Spec.Template.Labels)
			}
			if len(o.Spec.VolumeClaimTemplates) > 0 {
				t.Fatal("statefulset volumeClaimTemplates are not simulated")
			}
			workloads = append(workloads, &workload{kind: "statefulset", name: o.Name, namespace: o.Namespace, replicas: replicasOf(t, o.Spec.Replicas), template: &o.Spec.Template, sts: o})
		case *corev1.Service:
			if o.Spec.ClusterIP == corev1.ClusterIPNone {
				headless = append(headless, o)
			}
		}
	}
	if len(workloads) != 1 || len(headless) != 1 {
		t.Fatalf("bundle has %d Deployments and StatefulSets and %d headless Services, want one each", len(workloads), len(headless))
	}
	return workloads[0], headless[0]
}

func replicasOf(t *testing.T, replicas *int32) int32 {
	t.Helper()
	if replicas == nil {
		t.Fatal("the workload has no replicas")
	}
	return *replicas
}
