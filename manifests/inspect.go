package manifests

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/vmargs"
)

// What the objects alone cannot say about a value in the pod: the
// Downward API fields known only once the pod runs.
const (
	podIP   = "<pod-IP>"
	podName = "<pod-name>"
)

// releasePod is one workload running a BEAM release, read from the
// objects: its pod template, the release container, its env expanded as
// the kubelet will, and the runtime files it mounts.
type releasePod struct {
	work      Object
	at        string // "Deployment myapp"
	namespace string
	pod       *corev1.PodTemplateSpec
	selector  *metav1.LabelSelector
	container *corev1.Container
	// containerAt is the container's field path.
	containerAt string
	// env holds the expanded values, envAt each variable's field, envVar
	// its entry (nil when it came from envFrom).
	env    map[string]string
	envAt  map[string]string
	envVar map[string]*corev1.EnvVar
	// unknownFrom are the envFrom Secrets the bundle does not hold: any
	// variable with their prefix may come from them.
	unknownFrom []envSource
	// vmArgs is the mounted vm.args, vmArgsAt where it comes from.
	vmArgs, vmArgsAt string
	// distillery: a Distillery boot script reads vm.args; replaces: it
	// substitutes ${VAR} there (REPLACE_OS_VARS set, RELEASE_READ_ONLY
	// not), in a copy under RELEASE_MUTABLE_DIR.
	distillery, replaces bool
	// node is the node name it boots with, nodeAt where that is set; long
	// is false for -sname / RELEASE_DISTRIBUTION=sname.
	node, nodeAt string
	// rawNode is the node name as written, with its $(VAR) or ${VAR}.
	rawNode string
	long    bool
	// shortAt is RELEASE_DISTRIBUTION's field when it asks for short
	// names, empty when it is unset (mix's default is sname).
	shortAt string
	// discovery is what the bundle gives the discovery library;
	// configText the first -config file's text.
	discovery  discovery.Delivered
	configText string
}

// envSource is an envFrom Secret whose keys the bundle does not show.
type envSource struct {
	secret, prefix, at string
}

// objects indexes a bundle for the checks.
type objects struct {
	all  []Object
	opts CheckOptions
}

func (o objects) namespace(obj Object) string {
	if ns := obj.GetNamespace(); ns != "" {
		return ns
	}
	return o.opts.Namespace
}

// find returns the object of kind named name in namespace ns.
func (o objects) find(kind, ns, name string) Object {
	for _, obj := range o.all {
		if kindOf(obj) == kind && obj.GetName() == name && o.namespace(obj) == ns {
			return obj
		}
	}
	return nil
}

// objectAt names an object for messages: "Deployment myapp", with its namespace
// when it is not the default one.
func objectAt(obj Object) string {
	return kindOf(obj) + " " + obj.GetName()
}

// releaseEnv are variables only a BEAM release's container sets; a
// container with one of them (or named like relgen's) runs the release.
var releaseEnv = regexp.MustCompile(`^(RELEASE_(COOKIE|NODE|DISTRIBUTION|VM_ARGS)|VMARGS_PATH|REPLACE_OS_VARS|DNS_CLUSTER_QUERY|PEERAGE_\w+|LIBCLUSTER_\w+)$`)

// releasePods finds the workloads that run a release.
func (o objects) releasePods() []*releasePod {
	var out []*releasePod
	for _, obj := range o.all {
		pod, sel, ok := WorkloadPod(obj)
		if !ok {
			continue
		}
		ci := slices.IndexFunc(pod.Spec.Containers, func(c corev1.Container) bool {
			if c.Name == ContainerName {
				return true
			}
			return slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return releaseEnv.MatchString(e.Name) })
		})
		if ci < 0 {
			continue
		}
		p := &releasePod{
			work: obj, at: objectAt(obj), namespace: o.namespace(obj), pod: pod, selector: sel,
			container:   &pod.Spec.Containers[ci],
			containerAt: fmt.Sprintf("spec.template.spec.containers[%d]", ci),
		}
		o.expandEnv(p)
		o.readRuntime(p)
		out = append(out, p)
	}
	return out
}

// expandEnv computes the container env as the kubelet does: envFrom
// first, then each entry in order, $(VAR) expanded from earlier entries
// only ($$ escapes), Downward API fields as far as they are known.
func (o objects) expandEnv(p *releasePod) {
	p.env, p.envAt, p.envVar = map[string]string{}, map[string]string{}, map[string]*corev1.EnvVar{}
	c := p.container
	for i, from := range c.EnvFrom {
		where := fmt.Sprintf("%s: %s.envFrom[%d]", p.at, p.containerAt, i)
		if ref := from.ConfigMapRef; ref != nil {
			if cm, ok := o.find("ConfigMap", p.namespace, ref.Name).(*corev1.ConfigMap); ok {
				for k, v := range cm.Data {
					p.env[from.Prefix+k], p.envAt[from.Prefix+k] = v, where
				}
			}
		}
		// Secret values stay unknown; their names are known only when the
		// Secret is in the bundle.
		if ref := from.SecretRef; ref != nil {
			s, ok := o.find("Secret", p.namespace, ref.Name).(*corev1.Secret)
			if !ok {
				p.unknownFrom = append(p.unknownFrom, envSource{secret: ref.Name, prefix: from.Prefix, at: where})
			}
			if ok {
				for k := range s.Data {
					p.env[from.Prefix+k], p.envAt[from.Prefix+k] = "<secret "+ref.Name+">", where
				}
				for k := range s.StringData {
					p.env[from.Prefix+k], p.envAt[from.Prefix+k] = "<secret "+ref.Name+">", where
				}
			}
		}
	}
	for i := range c.Env {
		e := &c.Env[i]
		v := expand(e.Value, p.env)
		if f := e.ValueFrom; f != nil {
			switch {
			case f.FieldRef != nil:
				v = o.field(p, f.FieldRef.FieldPath)
			case f.SecretKeyRef != nil:
				v = "<secret " + f.SecretKeyRef.Name + ">"
			case f.ConfigMapKeyRef != nil:
				if cm, ok := o.find("ConfigMap", p.namespace, f.ConfigMapKeyRef.Name).(*corev1.ConfigMap); ok {
					v = cm.Data[f.ConfigMapKeyRef.Key]
				}
			default:
				v = "<" + e.Name + ">"
			}
		}
		p.env[e.Name], p.envAt[e.Name], p.envVar[e.Name] = v, fmt.Sprintf("%s: %s.env[%d] (%s)", p.at, p.containerAt, i, e.Name), e
	}
}

// field is a Downward API field's value as far as the objects tell.
func (o objects) field(p *releasePod, path string) string {
	switch path {
	case "status.podIP":
		return podIP
	case "metadata.name":
		return podName
	case "metadata.namespace":
		return p.namespace
	}
	return "<" + path + ">"
}

var kubeRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expand replaces $(VAR) with the values defined so far, as Kubernetes
// does: $$ is a literal $, unknown references stay as written.
func expand(s string, env map[string]string) string {
	return kubeRef.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		if v, ok := env[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

var osVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// replaceOSVars substitutes ${VAR} as Distillery's REPLACE_OS_VARS does:
// unset variables become empty.
func replaceOSVars(s string, env map[string]string) string {
	return osVar.ReplaceAllStringFunc(s, func(m string) string { return env[m[2:len(m)-1]] })
}

// file reads the file at name in the container from the ConfigMap mounted
// there, when the ConfigMap is in the bundle.
func (o objects) file(p *releasePod, name string) (text, where string, ok bool) {
	var best *corev1.VolumeMount
	for i, m := range p.container.VolumeMounts {
		if name == m.MountPath || strings.HasPrefix(name, strings.TrimSuffix(m.MountPath, "/")+"/") {
			if best == nil || len(m.MountPath) > len(best.MountPath) {
				best = &p.container.VolumeMounts[i]
			}
		}
	}
	if best == nil {
		return "", "", false
	}
	vi := slices.IndexFunc(p.pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == best.Name })
	if vi < 0 || p.pod.Spec.Volumes[vi].ConfigMap == nil {
		return "", "", false
	}
	src := p.pod.Spec.Volumes[vi].ConfigMap
	rel := strings.TrimPrefix(strings.TrimPrefix(name, best.MountPath), "/")
	if best.SubPath != "" {
		rel = path.Join(best.SubPath, rel)
	}
	key := rel
	if len(src.Items) > 0 {
		key = ""
		for _, it := range src.Items {
			if path.Clean(it.Path) == path.Clean(rel) {
				key = it.Key
			}
		}
	}
	cm, ok := o.find("ConfigMap", p.namespace, src.Name).(*corev1.ConfigMap)
	if !ok || key == "" {
		return "", "", false
	}
	text, ok = cm.Data[key]
	return text, fmt.Sprintf("ConfigMap %s: data[%s]", cm.Name, key), ok
}

// readRuntime reads vm.args, the node name and the discovery config.
func (o objects) readRuntime(p *releasePod) {
	p.distillery = p.envVar["VMARGS_PATH"] != nil || p.envVar["REPLACE_OS_VARS"] != nil
	p.replaces = p.distillery && p.env["REPLACE_OS_VARS"] != "" && p.env["RELEASE_READ_ONLY"] == ""
	vmPath := p.env["RELEASE_VM_ARGS"]
	if p.distillery {
		vmPath = p.env["VMARGS_PATH"]
	}
	if vmPath != "" {
		p.vmArgs, p.vmArgsAt, _ = o.file(p, vmPath)
	}
	var args, rawArgs []vmargs.Arg
	if p.vmArgs != "" {
		rawArgs, _ = vmargs.Parse(p.vmArgs)
		text := p.vmArgs
		if p.replaces {
			text = replaceOSVars(text, p.env)
		}
		args, _ = vmargs.Parse(text)
	}
	// The node name: mix's start script passes RELEASE_NODE with
	// RELEASE_DISTRIBUTION (sname unless set); Distillery's comes from
	// vm.args.
	if node, ok := p.env["RELEASE_NODE"]; ok && !p.distillery {
		p.node, p.nodeAt, p.rawNode = node, p.envAt["RELEASE_NODE"], node
		if e := p.envVar["RELEASE_NODE"]; e != nil {
			p.rawNode = e.Value
		}
		p.long = p.env["RELEASE_DISTRIBUTION"] == "name"
		if !p.long {
			p.shortAt = p.envAt["RELEASE_DISTRIBUTION"]
		}
	}
	for _, flag := range []string{"-name", "-sname"} {
		for i, a := range vmargs.Find(args, flag) {
			if len(a.Values) == 1 && p.node == "" {
				p.node, p.long = a.Values[0], flag == "-name"
				p.nodeAt = fmt.Sprintf("%s: line %d: %s", p.vmArgsAt, a.Line, flag)
				if raw := vmargs.Find(rawArgs, flag); i < len(raw) && len(raw[i].Values) == 1 {
					p.rawNode = raw[i].Values[0]
				}
			}
		}
	}
	// Discovery config files loaded with -config; a later file wins, so
	// it is looked up first.
	var config discovery.List
	var where []string
	for _, a := range slices.Backward(vmargs.Find(args, "-config")) {
		for _, name := range a.Values {
			if !strings.HasSuffix(name, ".config") {
				if _, _, ok := o.file(p, name); !ok {
					name += ".config"
				}
			}
			text, at, ok := o.file(p, name)
			if !ok {
				continue
			}
			t, err := discovery.ParseConfig(text)
			if l, isList := t.(discovery.List); err == nil && isList {
				config = append(config, l...)
				where = append(where, at)
				if p.configText == "" {
					p.configText = text
				}
			}
		}
	}
	p.discovery = discovery.Delivered{Env: p.env, EnvAt: p.envAt}
	if len(where) > 0 {
		p.discovery.Config, p.discovery.ConfigAt = config, strings.Join(where, " and ")
	}
}

// undefinedRef reports whether the node name refers to a variable the
// pod env does not define: a $(VAR) Kubernetes left as written (not
// defined before it), or a ${VAR} Distillery substitutes with nothing.
func (p *releasePod) undefinedRef() bool {
	if strings.Contains(p.node, "$(") || p.distillery && !p.replaces && osVar.MatchString(p.rawNode) {
		return true
	}
	for _, m := range osVar.FindAllStringSubmatch(p.rawNode, -1) {
		if _, ok := p.env[m[1]]; p.replaces && !ok {
			return true
		}
	}
	return false
}

// nodeParts splits the node name at '@'.
func (p *releasePod) nodeParts() (base, host string) {
	base, host, _ = strings.Cut(p.node, "@")
	return base, host
}

// selects reports whether a label selector picks the pods.
func (p *releasePod) selects(set map[string]string) bool {
	return len(set) > 0 && labels.SelectorFromSet(set).Matches(labels.Set(p.pod.Labels))
}

// statefulSet returns the workload as a StatefulSet, or nil.
func (p *releasePod) statefulSet() *appsv1.StatefulSet {
	sts, _ := p.work.(*appsv1.StatefulSet)
	return sts
}

// readOnlyRoot reports whether the release container's root file system
// is read-only.
func (p *releasePod) readOnlyRoot() bool {
	sc := p.container.SecurityContext
	return sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
}

// writable reports whether dir is on a writable emptyDir mount of the
// release container (the kubelet's default HOME, /, is not).
func (p *releasePod) writable(dir string) bool {
	if dir == "" {
		dir = "/"
	}
	for _, m := range p.container.VolumeMounts {
		under := dir == m.MountPath || strings.HasPrefix(dir, strings.TrimSuffix(m.MountPath, "/")+"/")
		if m.ReadOnly || !under {
			continue
		}
		for _, v := range p.pod.Spec.Volumes {
			if v.Name == m.Name && v.EmptyDir != nil {
				return true
			}
		}
	}
	return false
}
