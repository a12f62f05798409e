package manifests

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/vmargs"
)

// CheckOptions are what a bundle's objects cannot tell the checks.
type CheckOptions struct {
	// Domain is the cluster DNS domain (the kubelet's --cluster-domain);
	// empty means cluster.local.
	Domain string
	// Namespace is where objects that name none are applied (kubectl
	// apply -n); empty means default.
	Namespace string
	// AllowUnpinned skips the image digest check; relgen's own bundles
	// decide it per environment (protected).
	AllowUnpinned bool
}

// Problem is one inconsistency in a bundle, located at the object and
// field that cause it. Key is the relgen.yaml key that produces that
// field, for bundles relgen generates.
type Problem struct {
	At  string
	Key string
	Err error
}

func (p *Problem) Error() string {
	if p.At == "" {
		return p.Err.Error()
	}
	return p.At + ": " + p.Err.Error()
}
func (p *Problem) Unwrap() error { return p.Err }

// Report is the outcome of CheckObjects: Problems make the bundle
// inconsistent; Warnings are what the objects do not let it check, and
// images not pinned by digest.
type Report struct {
	Problems []*Problem
	Warnings []*Problem
}

func (r *Report) fail(at, key, format string, args ...any) {
	r.Problems = append(r.Problems, &Problem{At: at, Key: key, Err: fmt.Errorf(format, args...)})
}

func (r *Report) add(at, key string, err error) {
	r.Problems = append(r.Problems, &Problem{At: at, Key: key, Err: err})
}

func (r *Report) warn(at, format string, args ...any) {
	r.Warnings = append(r.Warnings, &Problem{At: at, Err: fmt.Errorf(format, args...)})
}

// MissingVarError is a ${VAR} in a Distillery vm.args that nothing in the
// pod env defines: the boot script would substitute an empty string.
type MissingVarError struct {
	Name string
	Line int
}

func (e *MissingVarError) Error() string {
	return fmt.Sprintf("line %d: ${%s} has no source in the pod env, so Distillery would boot with an empty value", e.Line, e.Name)
}

// DuplicateEnvError is a variable set twice in the pod env; the later
// entry silently wins.
type DuplicateEnvError struct{ Name string }

func (e *DuplicateEnvError) Error() string {
	return e.Name + " is set twice in the pod env; the later entry silently wins"
}

// CheckObjects runs the clustering cross-checks on any bundle's objects,
// read the way the cluster will combine them, without relgen.yaml: the
// workload runs a release whose nodes have long names on the pod IP or
// DNS name; the discovery settings (config file or env) query the DNS
// name of a headless Service in the pods' namespace that selects them,
// for nodes of the basename they boot with; every $(VAR) and ${VAR} has a
// source; the cookie comes from one Secret; NetworkPolicies let the pods
// reach each other's epmd and distribution ports; a strategy that asks
// the Kubernetes API is allowed to; images are pinned by digest.
func CheckObjects(objs []Object, opts CheckOptions) *Report {
	if opts.Domain == "" {
		opts.Domain = release.DefaultDomain
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	o := objects{all: objs, opts: opts}
	r := &Report{}
	pods := o.releasePods()
	if len(pods) == 0 {
		r.fail("bundle", "", "no Deployment or StatefulSet runs a release (a container named %q or setting RELEASE_NODE, RELEASE_COOKIE, VMARGS_PATH or a discovery variable)", ContainerName)
		return r
	}
	for _, p := range pods {
		o.checkPod(r, p)
	}
	o.checkServices(r)
	o.checkCookies(r, pods)
	return r
}

func (o objects) checkPod(r *Report, p *releasePod) {
	if sel, err := metav1.LabelSelectorAsSelector(p.selector); err != nil || p.selector == nil || sel.Empty() || !sel.Matches(labels.Set(p.pod.Labels)) {
		r.fail(p.at+": spec.selector", "labels", "%v does not match the pod labels %v", selectorString(p.selector), p.pod.Labels)
	}
	o.checkNode(r, p)
	o.checkDiscovery(r, p)
	o.checkEnv(r, p)
	o.checkNetwork(r, p)
	checkProbes(r, p)
	if !p.distillery && p.readOnlyRoot() && !p.writable(p.env["RELEASE_TMP"]) {
		r.warn(p.at+": "+p.containerAt+".env", "RELEASE_TMP %q is not on a writable volume and the root file system is read-only: a mix release with runtime configuration writes its sys.config there at boot (default: the release's tmp directory) and fails; set RELEASE_TMP to an emptyDir mount", p.env["RELEASE_TMP"])
	}
	if p.distillery && !p.writable(p.env["HOME"]) {
		r.warn(p.at+": "+p.containerAt+".env", "HOME %q is not on a writable volume: Distillery's rpc, remote_console and ping start distribution before they set the cookie, so OTP creates $HOME/.erlang.cookie and they crash on a read-only root; set HOME to an emptyDir mount", p.env["HOME"])
	}
	if !o.opts.AllowUnpinned {
		for i, c := range p.pod.Spec.Containers {
			if ref, err := name.ParseReference(c.Image); err != nil {
				r.fail(fmt.Sprintf("%s: spec.template.spec.containers[%d].image", p.at, i), "image", "%q: %w", c.Image, err)
			} else if _, ok := ref.(name.Digest); !ok {
				// Which image runs is a warning, as in relgen check;
				// --strict makes it an error.
				r.Warnings = append(r.Warnings, &Problem{At: fmt.Sprintf("%s: spec.template.spec.containers[%d].image", p.at, i), Key: "image", Err: &UnpinnedError{Ref: c.Image}})
			}
		}
	}
}

func selectorString(s *metav1.LabelSelector) string {
	if s == nil {
		return "no selector"
	}
	return metav1.FormatLabelSelector(s)
}

// checkNode: discovery connects to <basename>@<pod IP> or, for SRV
// records, <basename>@<pod DNS name>; a node answers only to its exact
// long name.
func (o objects) checkNode(r *Report, p *releasePod) {
	if p.node == "" {
		r.warn(p.at, "cannot tell the node name (no RELEASE_NODE, no -name in a mounted vm.args); the node name was not checked")
		return
	}
	switch {
	case !p.long && p.shortAt != "":
		r.fail(p.shortAt, "vm_args", "%q: the node %s runs with a short name, which peers on other pods cannot reach; set it to name for a long name on the pod IP", p.env["RELEASE_DISTRIBUTION"], displayed(p.node))
		return
	case !p.long && p.distillery || !p.long && strings.Contains(p.nodeAt, "-sname"):
		r.fail(p.nodeAt, "vm_args", "the node %s runs with a short name, which peers on other pods cannot reach; use -name with the pod IP", displayed(p.node))
		return
	case !p.long:
		r.fail(p.nodeAt, "vm_args", "RELEASE_DISTRIBUTION is not set, so mix's start script names the node %s with a short name (sname), which peers on other pods cannot reach; set RELEASE_DISTRIBUTION=name", displayed(p.node))
		return
	}
	if p.undefinedRef() {
		// checkEnv reports the variable; the name is only its symptom.
		return
	}
	base, host := p.nodeParts()
	switch {
	case base == "" || host == "":
		r.fail(p.nodeAt, "vm_args", "node name %s is not basename@host", displayed(p.node))
	case host == podIP:
	case strings.HasPrefix(host, podName+"."):
		svc := o.headlessFor(p, strings.TrimPrefix(host, podName+"."))
		sts := p.statefulSet()
		switch {
		case sts == nil:
			r.fail(p.nodeAt, "discovery", "nodes are named by the pod's DNS name %s, which only a StatefulSet gives, but the pods run in a %s", displayed(host), kindOf(p.work))
		case svc == nil:
			r.fail(p.nodeAt, "vm_args", "nodes are named by the pod's DNS name %s, but no headless Service in namespace %s has the name %s", displayed(host), p.namespace, strings.TrimPrefix(host, podName+"."))
		case sts.Spec.ServiceName != svc.Name:
			r.fail(p.at+": spec.serviceName", "headless_service", "%q is not the headless Service %s, so the pods get no DNS names %s", sts.Spec.ServiceName, svc.Name, displayed(host))
		}
	default:
		r.fail(p.nodeAt, "vm_args", "the node's host %s is neither the pod IP (status.podIP) nor the pod's DNS name under the headless Service, so peers cannot connect to it", displayed(host))
	}
}

// displayed quotes a value with the Downward API markers readable.
func displayed(s string) string { return fmt.Sprintf("%q", s) }

// headlessFor is the headless Service in p's namespace whose DNS name is
// fqdn (<svc>.<ns>.svc.<domain>, trailing dot allowed).
func (o objects) headlessFor(p *releasePod, fqdn string) *corev1.Service {
	for _, obj := range o.all {
		if svc, ok := obj.(*corev1.Service); ok && svc.Spec.ClusterIP == corev1.ClusterIPNone && o.fqdn(svc) == strings.TrimSuffix(fqdn, ".") {
			return svc
		}
	}
	return nil
}

func (o objects) fqdn(svc *corev1.Service) string {
	return fmt.Sprintf("%s.%s.svc.%s", svc.Name, o.namespace(svc), strings.TrimSuffix(o.opts.Domain, "."))
}

// resolve is the name the pod's resolver finds for query: an absolute
// name as is, a relative one through the search list the kubelet writes
// (<ns>.svc.<domain>, svc.<domain>, <domain>) when that yields a
// Service's name.
func (o objects) resolve(p *releasePod, query string) (string, *corev1.Service) {
	query = strings.TrimSuffix(query, ".")
	domain := strings.TrimSuffix(o.opts.Domain, ".")
	for _, suffix := range []string{"", "." + p.namespace + ".svc." + domain, ".svc." + domain, "." + domain} {
		if svc := o.headlessFor(p, query+suffix); svc != nil {
			return query + suffix, svc
		}
	}
	return query, nil
}

func (o objects) checkDiscovery(r *Report, p *releasePod) {
	uses := discovery.Find(p.discovery)
	if len(uses) == 0 {
		r.warn(p.at, "no discovery settings found (no peerage or libcluster config in a mounted -config file, no DNS_CLUSTER_QUERY, PEERAGE_* or LIBCLUSTER_* env); discovery was not checked")
		return
	}
	base, host := p.nodeParts()
	for _, u := range uses {
		for _, f := range u.Faults {
			if f.Warning {
				r.warn(f.At, "%s: %s", u.Strategy, f.Msg)
			} else {
				r.fail(f.At, "discovery", "%s: %s", u.Strategy, f.Msg)
			}
		}
		if u.Basename.Text != "" && p.node != "" && u.Basename.Text != base {
			r.fail(u.Basename.At, "discovery", "%s connects to nodes named %s@..., but the pods boot as %s (%s)", u.Strategy, u.Basename.Text, displayed(p.node), p.nodeAt)
		}
		if u.Query.At != "" || u.Query.Text != "" {
			o.checkQuery(r, p, u)
		}
		byName := strings.HasPrefix(host, podName+".")
		switch {
		case u.SRV && p.node != "" && !byName:
			r.fail(p.nodeAt, "vm_args", "%s connects to the pods' DNS names (SRV targets), but the node's host is %s", u.Strategy, displayed(host))
		case !u.SRV && !u.API && u.Query.Text != "" && byName:
			r.fail(p.nodeAt, "vm_args", "%s connects to %s@<pod IP> from DNS A records, but the node's host is the pod's DNS name", u.Strategy, cmp.Or(u.Basename.Text, base))
		case u.API && u.Mode == "ip" && byName:
			r.fail(p.nodeAt, "vm_args", "%s (mode ip) connects to %s@<pod IP> from the pods it lists, but the node's host is %s", u.Strategy, u.Basename.Text, displayed(host))
		case u.API && u.Mode == "hostname" && host == podIP:
			r.fail(p.nodeAt, "vm_args", "%s (mode hostname) connects to the pods' DNS names, but the node's host is %s", u.Strategy, displayed(host))
		}
		if u.API {
			o.checkAPI(r, p, u)
		}
	}
}

func (o objects) checkQuery(r *Report, p *releasePod, u discovery.Use) {
	if u.Query.Text == "" {
		r.fail(u.Query.At, "discovery", "%s has no DNS name to query", u.Strategy)
		return
	}
	name, svc := o.resolve(p, u.Query.Text)
	if svc == nil {
		var names []string
		for _, obj := range o.all {
			if s, ok := obj.(*corev1.Service); ok && s.Spec.ClusterIP == corev1.ClusterIPNone && p.selects(s.Spec.Selector) {
				names = append(names, fmt.Sprintf("%q (Service %s in namespace %s)", o.fqdn(s), s.Name, o.namespace(s)))
			}
		}
		want := "but no headless Service (clusterIP: None) in the bundle selects the pods"
		if len(names) > 0 {
			want = "but the headless Service that selects the pods answers as " + strings.Join(names, ", ")
		}
		r.fail(u.Query.At, "discovery", "%s queries %q, %s; nodes would never find each other", u.Strategy, u.Query.Text, want)
		return
	}
	if !p.selects(svc.Spec.Selector) {
		r.fail(objectAt(svc)+": spec.selector", "labels", "%s queries %q, but this Service selects %v, which does not match the pod labels %v of %s", u.Strategy, name, svc.Spec.Selector, p.pod.Labels, p.at)
	}
	// Cluster DNS answers for ready pods only, unless the Service
	// publishes the others: with a readiness probe, nodes meet only once
	// they pass it, and never when it waits for the cluster.
	if !svc.Spec.PublishNotReadyAddresses && p.container.ReadinessProbe != nil {
		r.warn(objectAt(svc)+": spec.publishNotReadyAddresses", "not true, so cluster DNS leaves out pods that are not ready and %s finds a node only after its readiness probe passes; if readiness waits for the cluster, nodes never meet (set publishNotReadyAddresses: true)", u.Strategy)
	}
}

// checkAPI: the strategy lists pods through the API, with the pod's
// ServiceAccount token, in the namespace and by the selector it is given.
func (o objects) checkAPI(r *Report, p *releasePod, u discovery.Use) {
	if ns := u.Namespace.Text; ns != "" && ns != p.namespace {
		r.fail(u.Namespace.At, "discovery", "%s lists pods in namespace %q, but the pods run in %q", u.Strategy, ns, p.namespace)
	}
	resource := u.Lists.Text
	if resource == "" {
		resource = "pods"
	}
	sel, err := labels.Parse(u.Selector.Text)
	switch {
	case u.Selector.Text == "" || err != nil:
		r.fail(u.Selector.At, "discovery", "%s lists %s with selector %q, which is not a label selector", u.Strategy, resource, u.Selector.Text)
	case resource == "pods" && !sel.Matches(labels.Set(p.pod.Labels)):
		r.fail(u.Selector.At, "discovery", "%s lists pods with selector %q, which does not match the pod labels %v", u.Strategy, u.Selector.Text, p.pod.Labels)
	case resource == "endpoints" && !o.endpointsFor(p, sel):
		r.fail(u.Selector.At, "discovery", "%s lists Endpoints with selector %q (its kubernetes_ip_lookup_mode is not :pods), and Endpoints carry their Service's labels, but no Service in namespace %s that selects the pods has labels it matches; label the headless Service or set kubernetes_ip_lookup_mode: :pods", u.Strategy, u.Selector.Text, p.namespace)
	}
	spec := p.pod.Spec
	if spec.AutomountServiceAccountToken != nil && !*spec.AutomountServiceAccountToken {
		r.fail(p.at+": spec.template.spec.automountServiceAccountToken", "discovery", "false, but %s needs the ServiceAccount token to ask the Kubernetes API", u.Strategy)
	}
	account := spec.ServiceAccountName
	if account == "" {
		account = "default"
	}
	if account != "default" && o.find("ServiceAccount", p.namespace, account) == nil {
		r.fail(p.at+": spec.template.spec.serviceAccountName", "discovery", "%s needs the ServiceAccount %s, which the bundle lacks", u.Strategy, account)
	}
	if !o.allowed(account, p.namespace, resource, "list") {
		r.fail(p.at+": spec.template.spec.serviceAccountName", "discovery", "no Role or ClusterRole in the bundle bound to ServiceAccount %s lets it list %s in namespace %s, which %s does", account, resource, p.namespace, u.Strategy)
	}
}

// endpointsFor reports whether a Service in p's namespace selects the
// pods and carries labels sel matches: the Endpoints controller gives the
// Service's Endpoints its labels, and lists the pods' addresses there.
func (o objects) endpointsFor(p *releasePod, sel labels.Selector) bool {
	for _, obj := range o.all {
		svc, ok := obj.(*corev1.Service)
		if ok && o.namespace(svc) == p.namespace && len(svc.Spec.Selector) > 0 && p.selects(svc.Spec.Selector) && sel.Matches(labels.Set(svc.Labels)) {
			return true
		}
	}
	return false
}

// allowed reports whether a (Cluster)RoleBinding in the bundle grants the
// account verb on the core resource in ns.
func (o objects) allowed(account, ns, resource, verb string) bool {
	for _, obj := range o.all {
		var ref rbacv1.RoleRef
		var subjects []rbacv1.Subject
		switch b := obj.(type) {
		case *rbacv1.RoleBinding:
			if o.namespace(b) != ns {
				continue
			}
			ref, subjects = b.RoleRef, b.Subjects
		case *rbacv1.ClusterRoleBinding:
			ref, subjects = b.RoleRef, b.Subjects
		default:
			continue
		}
		if !slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == account && (s.Namespace == ns || s.Namespace == "" && o.namespace(obj) == ns)
		}) {
			continue
		}
		var rules []rbacv1.PolicyRule
		switch role := o.find(ref.Kind, ns, ref.Name).(type) {
		case *rbacv1.Role:
			rules = role.Rules
		case *rbacv1.ClusterRole:
			rules = role.Rules
		}
		if ref.Kind == "ClusterRole" {
			if role, ok := o.findCluster("ClusterRole", ref.Name).(*rbacv1.ClusterRole); ok {
				rules = role.Rules
			}
		}
		for _, rule := range rules {
			if matches(rule.APIGroups, "") && matches(rule.Resources, resource) && matches(rule.Verbs, verb) {
				return true
			}
		}
	}
	return false
}

func (o objects) findCluster(kind, name string) Object {
	for _, obj := range o.all {
		if kindOf(obj) == kind && obj.GetName() == name {
			return obj
		}
	}
	return nil
}

func matches(list []string, v string) bool {
	return slices.Contains(list, v) || slices.Contains(list, "*")
}

// checkEnv: every $(VAR) refers to an earlier entry (Kubernetes leaves
// others as written), no variable is set twice, and every ${VAR} of a
// Distillery vm.args has a source.
func (o objects) checkEnv(r *Report, p *releasePod) {
	defined := map[string]bool{}
	// Names from envFrom come before every entry.
	for name := range p.env {
		if p.envVar[name] == nil {
			defined[name] = true
		}
	}
	seen := map[string]bool{}
	for i, e := range p.container.Env {
		where := fmt.Sprintf("%s: %s.env[%d] (%s)", p.at, p.containerAt, i, e.Name)
		if e.ValueFrom == nil {
			for _, ref := range release.EnvRefs(e.Value) {
				if !defined[ref] {
					r.fail(where, "env", "%s refers to $(%s), which is not defined before it in the pod env; Kubernetes would pass it on literally", e.Name, ref)
				}
			}
		}
		if seen[e.Name] {
			r.add(where, "env", &DuplicateEnvError{Name: e.Name})
		}
		seen[e.Name], defined[e.Name] = true, true
	}
	if !p.distillery || p.vmArgs == "" {
		return
	}
	placeholders, err := vmargs.Placeholders(p.vmArgs)
	if err != nil {
		r.fail(p.vmArgsAt, "vm_args", "%w", err)
		return
	}
	if !p.replaces {
		for _, ph := range placeholders {
			if !ph.InComment {
				r.fail(fmt.Sprintf("%s: line %d", p.vmArgsAt, ph.Line), "vm_args", "${%s}: Distillery substitutes ${VAR} in vm.args only when REPLACE_OS_VARS is set and RELEASE_READ_ONLY is not, so the node would get the text ${%s}; set REPLACE_OS_VARS=true in the pod env", ph.Name, ph.Name)
				return
			}
		}
		return
	}
	if p.readOnlyRoot() && !p.writable(p.env["RELEASE_MUTABLE_DIR"]) {
		r.fail(p.at+": "+p.containerAt+".env", "vm_args", "RELEASE_MUTABLE_DIR %q is not on a writable volume, but the root file system is read-only and Distillery writes the vm.args it substitutes there (default: the release's var directory); set RELEASE_MUTABLE_DIR to an emptyDir mount", p.env["RELEASE_MUTABLE_DIR"])
	}
	reported := map[string]bool{}
	for _, ph := range placeholders {
		if ph.InComment || defined[ph.Name] || reported[ph.Name] {
			continue
		}
		reported[ph.Name] = true
		r.add(p.vmArgsAt, "vm_args", &MissingVarError{Name: ph.Name, Line: ph.Line})
	}
}

// cookieSource is where a pod gets its cookie: the Secret and key, or a
// literal.
type cookieSource struct {
	at          string
	secret, key string
}

// cookies lists the pod's cookie sources: RELEASE_COOKIE, and a
// Distillery vm.args' -setcookie ${VAR}.
func (p *releasePod) cookies(r *Report) []cookieSource {
	var out []cookieSource
	source := func(name, where string) {
		e := p.envVar[name]
		switch {
		case e == nil:
			if strings.HasPrefix(p.env[name], "<secret ") {
				out = append(out, cookieSource{at: where, secret: strings.TrimSuffix(strings.TrimPrefix(p.env[name], "<secret "), ">"), key: name})
				return
			}
			// An envFrom Secret the bundle does not hold may carry it.
			for _, u := range p.unknownFrom {
				if key, ok := strings.CutPrefix(name, u.prefix); ok {
					out = append(out, cookieSource{at: u.at, secret: u.secret, key: key})
					return
				}
			}
			r.fail(where, "release.cookie", "the cookie variable %s is not set in the pod env", name)
		case e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil:
			r.fail(p.envAt[name], "release.cookie", "%s must come from a Secret, not a literal value", name)
		default:
			out = append(out, cookieSource{at: p.envAt[name], secret: e.ValueFrom.SecretKeyRef.Name, key: e.ValueFrom.SecretKeyRef.Key})
		}
	}
	if _, ok := p.env[release.CookieEnv]; ok || !p.distillery {
		source(release.CookieEnv, p.at+": "+p.containerAt+".env")
	}
	if p.distillery && p.vmArgs != "" {
		setcookie := false
		args, _ := vmargs.Parse(p.vmArgs)
		for _, a := range vmargs.Find(args, "-setcookie") {
			if len(a.Values) != 1 {
				continue
			}
			setcookie = true
			m := osVar.FindStringSubmatch(a.Values[0])
			if m == nil || m[0] != a.Values[0] {
				r.fail(fmt.Sprintf("%s: line %d: -setcookie", p.vmArgsAt, a.Line), "vm_args", "the cookie is written into vm.args; take it from a Secret through ${VAR}")
				continue
			}
			if m[1] != release.CookieEnv {
				source(m[1], fmt.Sprintf("%s: line %d: -setcookie", p.vmArgsAt, a.Line))
			}
		}
		if !setcookie && p.envVar[release.CookieEnv] == nil {
			r.fail(p.vmArgsAt, "vm_args", "no -setcookie and no %s: Distillery would boot with the cookie baked into the release, not one from a Secret", release.CookieEnv)
		}
	}
	return out
}

// checkCookies: every node of the cluster must get the same cookie, so
// all come from one Secret key; a Secret in the bundle must hold the key.
func (o objects) checkCookies(r *Report, pods []*releasePod) {
	var first *cookieSource
	for _, p := range pods {
		for _, c := range p.cookies(r) {
			if first == nil {
				first = &c
			} else if c.secret != first.secret || c.key != first.key {
				r.fail(c.at, "release.cookie", "the cookie comes from Secret %s key %s, but %s takes it from Secret %s key %s; nodes with different cookies refuse each other", c.secret, c.key, first.at, first.secret, first.key)
			}
			if s, ok := o.find("Secret", p.namespace, c.secret).(*corev1.Secret); ok {
				_, inData := s.Data[c.key]
				_, inString := s.StringData[c.key]
				if !inData && !inString {
					r.fail(objectAt(s)+": data", "release.cookie", "has no key %s, which %s reads the cookie from", c.key, c.at)
				}
			}
		}
	}
}

// checkServices: a Service whose selector matches no workload in the
// bundle routes nowhere.
func (o objects) checkServices(r *Report) {
	for _, obj := range o.all {
		svc, ok := obj.(*corev1.Service)
		if !ok || len(svc.Spec.Selector) == 0 {
			continue
		}
		at := objectAt(svc) + ": spec.selector"
		if slices.ContainsFunc(r.Problems, func(p *Problem) bool { return p.At == at }) {
			// Discovery's check of this selector said so already.
			continue
		}
		found := false
		for _, w := range o.all {
			pod, _, ok := WorkloadPod(w)
			if ok && o.namespace(w) == o.namespace(svc) && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
				found = true
				checkTargetPorts(r, svc, w, pod)
			}
		}
		if !found {
			r.fail(at, "labels", "%v matches no pods of the bundle's workloads in namespace %s", svc.Spec.Selector, o.namespace(svc))
		}
	}
}

// checkTargetPorts: a Service port whose targetPort names no port of the
// selected pods gets no endpoints for them; the pods drop out of that
// port (and of the Service's DNS answers when no port resolves).
func checkTargetPorts(r *Report, svc *corev1.Service, w Object, pod *corev1.PodTemplateSpec) {
	for i, sp := range svc.Spec.Ports {
		if sp.TargetPort.Type == intstr.String && !slices.ContainsFunc(pod.Spec.Containers, func(c corev1.Container) bool { return hasPort(&c, sp.TargetPort.StrVal) }) {
			r.fail(fmt.Sprintf("%s: spec.ports[%d].targetPort", objectAt(svc), i), "deployment", "%q is not a port name of %s's containers, so the Service has no endpoints on it for those pods", sp.TargetPort.StrVal, objectAt(w))
		}
	}
}

// checkProbes: a probe on a port name the container lacks always fails.
func checkProbes(r *Report, p *releasePod) {
	for _, pr := range []struct {
		field string
		probe *corev1.Probe
	}{{"livenessProbe", p.container.LivenessProbe}, {"readinessProbe", p.container.ReadinessProbe}, {"startupProbe", p.container.StartupProbe}} {
		if pr.probe == nil {
			continue
		}
		var port *intstr.IntOrString
		switch h := pr.probe.ProbeHandler; {
		case h.HTTPGet != nil:
			port = &h.HTTPGet.Port
		case h.TCPSocket != nil:
			port = &h.TCPSocket.Port
		}
		if port != nil && port.Type == intstr.String && !hasPort(p.container, port.StrVal) {
			r.fail(fmt.Sprintf("%s: %s.%s", p.at, p.containerAt, pr.field), "deployment", "port %q is not a port name of the container, so the probe always fails", port.StrVal)
		}
	}
}

func hasPort(c *corev1.Container, name string) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == name })
}
