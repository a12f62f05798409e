package discovery

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/relgen/relgen/release"
)

// LibclusterKubernetes is the name of libcluster's Kubernetes (API)
// strategy.
const LibclusterKubernetes = "libcluster-kubernetes"

// libclusterKubernetes configures Cluster.Strategy.Kubernetes in :ip mode
// with kubernetes_ip_lookup_mode :pods: it lists the release's pods
// through the Kubernetes API by kubernetes_selector, so the pods need a
// ServiceAccount allowed to read them. The library's default lookup mode,
// :endpoints, lists Endpoints objects instead, which carry their
// Service's labels rather than the pods' and hold only ready pods; :pods
// makes the selector the pod selector, and nodes meet before they are
// ready, as through the headless Service.
type libclusterKubernetes struct{}

func (libclusterKubernetes) Name() string { return LibclusterKubernetes }

func (libclusterKubernetes) NamedByHostname() bool { return false }

// Check: libcluster takes any interval release accepts (whole
// milliseconds).
func (libclusterKubernetes) Check(release.Topology, func(string, string, ...any)) {}

func (libclusterKubernetes) Plan(t release.Topology) (Plan, error) {
	selector := labelSelector(t.Selector)
	account := release.ObjectName(t.Basename) + "-discovery"
	p := libcluster(t, "Cluster.Strategy.Kubernetes", []setting{
		atomSetting("mode", "ip"),
		atomSetting("kubernetes_ip_lookup_mode", "pods"),
		textSetting("kubernetes_node_basename", "LIBCLUSTER_NODE_BASENAME", t.Basename),
		textSetting("kubernetes_selector", "LIBCLUSTER_SELECTOR", selector),
		textSetting("kubernetes_namespace", "LIBCLUSTER_NAMESPACE", t.Namespace),
		pollingInterval(t),
	})
	p.Objects = rbac(t, account)
	p.ServiceAccount = account
	p.Selector = selector
	return p, nil
}

// labelSelector writes labels as a Kubernetes selector string, sorted.
func labelSelector(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}

// rbac lets the pods' ServiceAccount read pods and endpoints in their own
// namespace, which is all Cluster.Strategy.Kubernetes asks the API for.
func rbac(t release.Topology, name string) []interface {
	metav1.Object
	runtime.Object
} {
	meta := metav1.ObjectMeta{Name: name, Namespace: t.Namespace, Labels: t.Selector}
	read := []string{"get", "list", "watch"}
	return []interface {
		metav1.Object
		runtime.Object
	}{
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta},
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: meta,
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"pods", "endpoints"}, Verbs: read},
				{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: read},
			},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: meta,
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: t.Namespace}},
		},
	}
}

// Verify: the strategy lists the pods its selector matches in its
// namespace, through the API, as the bundle's ServiceAccount, and
// connects to kubernetes_node_basename@IP.
func (libclusterKubernetes) Verify(a Applied) error {
	var v verifier
	v.expect(a, "kubernetes_node_basename", "LIBCLUSTER_NODE_BASENAME", a.Basename, "the node basename")
	v.expect(a, "kubernetes_namespace", "LIBCLUSTER_NAMESPACE", a.Workload.GetNamespace(), "the workload's namespace")
	selector := a.setting("kubernetes_selector", "LIBCLUSTER_SELECTOR")
	sel, err := labels.Parse(selector)
	if selector == "" || err != nil || !sel.Matches(labels.Set(a.Pod.Labels)) {
		v.errorf("kubernetes_selector %q does not select the pods %v", selector, a.Pod.Labels)
	}
	sa := a.Pod.Spec.ServiceAccountName
	if sa == "" || !a.has("ServiceAccount", sa) || !a.has("RoleBinding", sa) {
		v.errorf("pods run as ServiceAccount %q, which the bundle does not define and bind", sa)
	}
	if m := a.Pod.Spec.AutomountServiceAccountToken; m == nil || !*m {
		v.errorf("the API strategy needs the service account token mounted")
	}
	return v.err()
}

// Find: the first Kubernetes topology, which lists pods through the API.
func (libclusterKubernetes) Find(d Delivered) (Use, bool) {
	path, ok := libclusterTopology(d, "Cluster.Strategy.Kubernetes", "LIBCLUSTER_SELECTOR")
	if !ok {
		return Use{}, false
	}
	// The library lists Endpoints unless told to list pods; relgen's
	// env route (config/runtime.exs) sets pods.
	lists := Value{Text: "pods", At: "config/runtime.exs"}
	if d.Config != nil {
		lists = d.setting(path, "kubernetes_ip_lookup_mode", "")
		if lists.Text == "" {
			lists = Value{Text: "endpoints", At: "the library's default kubernetes_ip_lookup_mode"}
		}
	}
	u := Use{
		API:       true,
		Lists:     lists,
		Basename:  d.setting(path, "kubernetes_node_basename", "LIBCLUSTER_NODE_BASENAME"),
		Namespace: d.setting(path, "kubernetes_namespace", "LIBCLUSTER_NAMESPACE"),
		Selector:  d.setting(path, "kubernetes_selector", "LIBCLUSTER_SELECTOR"),
	}
	u.Mode = "ip"
	if m, ok := d.config(append(slices.Clone(path), "mode")...); ok && d.Config != nil {
		u.Mode = m.Text
		if m.Text == "dns" {
			u.Faults = append(u.Faults, Fault{At: m.At, Msg: "mode dns connects to <basename>@<a-b-c-d>.<namespace>.pod.cluster.local, a name a pod cannot boot with from the Downward API; use mode ip"})
		}
	}
	d.pollingInterval(&u, path)
	return u, true
}
