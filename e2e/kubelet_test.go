package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/relgen/relgen/manifests"
)

// What kubelet and the container runtime make of a pod template, for the
// simulated pods. Anything the simulation cannot reproduce faithfully is
// an error rather than silently ignored, so a new field in relgen's
// output cannot slip past the end-to-end test untested.

// podMeta is what the Downward API knows about one pod.
type podMeta struct {
	Name, Namespace, UID string
	IP, HostIP, NodeName string
	ServiceAccount       string
	Labels, Annotations  map[string]string
}

// field answers a fieldRef.fieldPath the way the Downward API does.
func (m podMeta) field(path string) (string, error) {
	switch path {
	case "metadata.name":
		return m.Name, nil
	case "metadata.namespace":
		return m.Namespace, nil
	case "metadata.uid":
		return m.UID, nil
	case "spec.nodeName":
		return m.NodeName, nil
	case "spec.serviceAccountName":
		return m.ServiceAccount, nil
	case "status.hostIP", "status.hostIPs":
		return m.HostIP, nil
	case "status.podIP", "status.podIPs":
		return m.IP, nil
	}
	for prefix, values := range map[string]map[string]string{"metadata.labels": m.Labels, "metadata.annotations": m.Annotations} {
		if key, ok := strings.CutPrefix(path, prefix+"['"); ok {
			if key, ok = strings.CutSuffix(key, "']"); ok {
				return values[key], nil
			}
		}
	}
	return "", fmt.Errorf("fieldRef %q is not supported by the Downward API simulation", path)
}

// apiObjects are the Secrets and ConfigMaps of one namespace, as the API
// server would serve them to kubelet.
type apiObjects struct {
	namespace  string
	secrets    map[string]map[string]string
	configMaps map[string]map[string]string
}

func newAPIObjects(namespace string, objs ...manifests.Object) (*apiObjects, error) {
	a := &apiObjects{namespace: namespace, secrets: map[string]map[string]string{}, configMaps: map[string]map[string]string{}}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Secret:
			if o.Namespace != namespace {
				return nil, fmt.Errorf("secret %s is in namespace %q, the pods in %q cannot read it", o.Name, o.Namespace, namespace)
			}
			// The API server folds stringData into data; stringData wins.
			data := map[string]string{}
			for k, v := range o.Data {
				data[k] = string(v)
			}
			maps.Copy(data, o.StringData)
			a.secrets[o.Name] = data
		case *corev1.ConfigMap:
			if o.Namespace != namespace {
				return nil, fmt.Errorf("configmap %s is in namespace %q, the pods in %q cannot read it", o.Name, o.Namespace, namespace)
			}
			data := map[string]string{}
			maps.Copy(data, o.Data)
			for k, v := range o.BinaryData {
				data[k] = string(v)
			}
			a.configMaps[o.Name] = data
		}
	}
	return a, nil
}

// keyRef looks a key up in a Secret or ConfigMap; a missing one is what
// kubelet reports as CreateContainerConfigError, unless optional.
func keyRef(kind string, objs map[string]map[string]string, name, key string, optional *bool) (string, bool, error) {
	data, ok := objs[name]
	if ok {
		if v, ok := data[key]; ok {
			return v, true, nil
		}
	}
	if optional != nil && *optional {
		return "", false, nil
	}
	if !ok {
		return "", false, fmt.Errorf("%s %q not found", kind, name)
	}
	return "", false, fmt.Errorf("key %q not found in %s %q", key, kind, name)
}

// containerEnv computes a container's environment from its env list, in
// order, as kubelet does: valueFrom sources are looked up, and $(VAR) in
// a value is expanded from the entries defined before it (later entries
// and unknown names stay as written). The result maps name to value; a
// repeated name takes the last value.
func containerEnv(c *corev1.Container, pod podMeta, api *apiObjects) (map[string]string, error) {
	if len(c.EnvFrom) > 0 {
		return nil, fmt.Errorf("container %s: envFrom is not simulated", c.Name)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		var (
			val string
			err error
			set = true
		)
		switch src := e.ValueFrom; {
		case src == nil:
			val = expand(e.Value, func(name string) (string, bool) {
				v, ok := env[name]
				return v, ok
			})
		case src.FieldRef != nil:
			if v := src.FieldRef.APIVersion; v != "" && v != "v1" {
				return nil, fmt.Errorf("env %s: fieldRef apiVersion %q", e.Name, v)
			}
			val, err = pod.field(src.FieldRef.FieldPath)
		case src.SecretKeyRef != nil:
			r := src.SecretKeyRef
			val, set, err = keyRef("secret", api.secrets, r.Name, r.Key, r.Optional)
		case src.ConfigMapKeyRef != nil:
			r := src.ConfigMapKeyRef
			val, set, err = keyRef("configmap", api.configMaps, r.Name, r.Key, r.Optional)
		default:
			err = fmt.Errorf("this valueFrom source is not simulated")
		}
		if err != nil {
			return nil, fmt.Errorf("container %s: env %s: %w", c.Name, e.Name, err)
		}
		if set {
			env[e.Name] = val
		}
	}
	return env, nil
}

// expand replaces $(NAME) references the way Kubernetes expands env
// values, command and args: $$ is a literal $ (so $$(NAME) stays
// $(NAME)), a reference lookup does not know and an unterminated $( are
// kept as written, and a $ before any other character is just a $.
func expand(s string, lookup func(string) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// defaultPath is the PATH containerd gives a container whose image sets
// none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// process is what the container runtime executes for one container.
type process struct {
	Args   []string
	Env    []string // NAME=value, sorted
	Dir    string
	UID    uint32
	GID    uint32
	Groups []uint32
	// ReadOnlyRoot, NoNewPrivs and DropAllCaps mirror the container's
	// securityContext.
	ReadOnlyRoot, NoNewPrivs, DropAllCaps bool
}

// containerProcess merges the image config with the container spec as
// kubelet and containerd do: image env overridden by the container's,
// HOSTNAME set to the pod's hostname, PATH defaulted and HOME set as runc
// sets it: the home of the process's uid in the image's /etc/passwd
// (passwd, empty when the image has none), else /; command/args replace
// entrypoint/cmd (with $(VAR) expanded from the env); the securityContext
// user wins over the image's.
func containerProcess(img v1.Config, passwd string, spec *corev1.PodSpec, c *corev1.Container, env map[string]string, hostname string) (*process, error) {
	all := map[string]string{"PATH": defaultPath}
	for _, kv := range img.Env {
		k, v, _ := strings.Cut(kv, "=")
		all[k] = v
	}
	all["HOSTNAME"] = hostname
	maps.Copy(all, env)
	p := &process{Dir: c.WorkingDir}
	if p.Dir == "" {
		p.Dir = img.WorkingDir
	}
	if p.Dir == "" {
		p.Dir = "/"
	}

	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	argv := append(slices.Clone(img.Entrypoint), img.Cmd...)
	switch {
	case len(c.Command) > 0:
		argv = append(slices.Clone(c.Command), c.Args...)
	case len(c.Args) > 0:
		argv = append(slices.Clone(img.Entrypoint), c.Args...)
	}
	if len(c.Command)+len(c.Args) > 0 {
		for i := range argv {
			argv[i] = expand(argv[i], lookup)
		}
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("container %s: no command: the image has no entrypoint or cmd", c.Name)
	}
	p.Args = argv

	if err := p.setUser(img.User, spec.SecurityContext, c.SecurityContext); err != nil {
		return nil, fmt.Errorf("container %s: %w", c.Name, err)
	}
	if _, ok := all["HOME"]; !ok {
		all["HOME"] = passwdHome(passwd, p.UID)
	}
	for _, k := range slices.Sorted(maps.Keys(all)) {
		p.Env = append(p.Env, k+"="+all[k])
	}
	if sc := c.SecurityContext; sc != nil {
		p.ReadOnlyRoot = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
		p.NoNewPrivs = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
		if sc.Capabilities != nil {
			if len(sc.Capabilities.Add) > 0 {
				return nil, fmt.Errorf("container %s: adding capabilities is not simulated", c.Name)
			}
			p.DropAllCaps = slices.Contains(sc.Capabilities.Drop, "ALL")
		}
		if sc.Privileged != nil && *sc.Privileged {
			return nil, fmt.Errorf("container %s: privileged containers are not simulated", c.Name)
		}
	}
	return p, nil
}

// passwdHome is the home directory of uid in an /etc/passwd file, or /.
func passwdHome(passwd string, uid uint32) string {
	for _, line := range strings.Split(passwd, "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 6 && f[2] == strconv.FormatUint(uint64(uid), 10) && f[5] != "" {
			return f[5]
		}
	}
	return "/"
}

// setUser resolves uid, gid and supplementary groups: container
// securityContext over pod securityContext over the image's numeric
// "uid[:gid]". runAsNonRoot with uid 0 is refused, as kubelet refuses it.
func (p *process) setUser(image string, pod *corev1.PodSecurityContext, c *corev1.SecurityContext) error {
	var uid, gid *int64
	var nonRoot bool
	if image != "" {
		u, g, hasGroup := strings.Cut(image, ":")
		n, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			return fmt.Errorf("image user %q is not numeric; the simulation has no passwd lookup", image)
		}
		uid = &n
		if hasGroup {
			m, err := strconv.ParseInt(g, 10, 64)
			if err != nil {
				return fmt.Errorf("image group %q is not numeric", image)
			}
			gid = &m
		}
	}
	if pod != nil {
		uid, gid = firstSet(pod.RunAsUser, uid), firstSet(pod.RunAsGroup, gid)
		nonRoot = pod.RunAsNonRoot != nil && *pod.RunAsNonRoot
		if pod.FSGroup != nil {
			p.Groups = append(p.Groups, uint32(*pod.FSGroup))
		}
		for _, g := range pod.SupplementalGroups {
			p.Groups = append(p.Groups, uint32(g))
		}
	}
	if c != nil {
		uid, gid = firstSet(c.RunAsUser, uid), firstSet(c.RunAsGroup, gid)
		if c.RunAsNonRoot != nil {
			nonRoot = *c.RunAsNonRoot
		}
	}
	if uid != nil {
		p.UID = uint32(*uid)
	}
	if gid != nil {
		p.GID = uint32(*gid)
	}
	if nonRoot && p.UID == 0 {
		return fmt.Errorf("runAsNonRoot is set but the container would run as root")
	}
	return nil
}

func firstSet(a, b *int64) *int64 {
	if a != nil {
		return a
	}
	return b
}

// selects reports whether a Service selector picks pods with labels, as
// the endpoints controller decides which pod IPs DNS returns.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func objMeta(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"POD_IP": "10.0.0.7", "HOST": "example.com", "EMPTY": ""}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	for _, tc := range []struct{ name, in, want string }{
		{name: "reference", in: "my_app@$(POD_IP)", want: "my_app@10.0.0.7"},
		{name: "two references", in: "$(HOST):$(POD_IP)", want: "example.com:10.0.0.7"},
		{name: "empty value", in: "a$(EMPTY)b", want: "ab"},
		{name: "unknown stays", in: "x$(NOPE)y", want: "x$(NOPE)y"},
		{name: "escaped reference", in: "$$(POD_IP)", want: "$(POD_IP)"},
		{name: "escaped dollar", in: "cost $$5", want: "cost $5"},
		{name: "double escape then reference", in: "$$$(HOST)", want: "$example.com"},
		{name: "shell syntax untouched", in: "${POD_IP} $POD_IP", want: "${POD_IP} $POD_IP"},
		{name: "unterminated", in: "a$(POD_IP", want: "a$(POD_IP"},
		{name: "unterminated then reference", in: "$($(HOST)", want: "$($(HOST)"},
		{name: "trailing dollar", in: "a$", want: "a$"},
		{name: "empty name", in: "$()", want: "$()"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := expand(tc.in, lookup); got != tc.want {
				t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestContainerEnv(t *testing.T) {
	api, err := newAPIObjects("ns",
		&corev1.Secret{ObjectMeta: objMeta("cookie", "ns"), Data: map[string][]byte{"cookie": []byte("old")}, StringData: map[string]string{"cookie": "C00KIE"}},
		&corev1.ConfigMap{ObjectMeta: objMeta("cfg", "ns"), Data: map[string]string{"k": "v"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	field := func(p string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: p}}
	}
	c := &corev1.Container{Name: "release", Env: []corev1.EnvVar{
		{Name: "LATE", Value: "$(POD_IP)"}, // defined before POD_IP: stays literal
		{Name: "POD_IP", ValueFrom: field("status.podIP")},
		{Name: "POD_NAME", ValueFrom: field("metadata.name")},
		{Name: "APP", ValueFrom: field("metadata.labels['app']")},
		{Name: "RELEASE_COOKIE", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cookie"}, Key: "cookie"}}},
		{Name: "K", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "k"}}},
		{Name: "RELEASE_NODE", Value: "app@$(POD_IP)"},
		{Name: "LITERAL", Value: "$$(POD_IP)"},
		{Name: "FROM_SECRET", Value: "$(RELEASE_COOKIE)"},
	}}
	pod := podMeta{Name: "app-1", IP: "10.0.0.7", Labels: map[string]string{"app": "a"}}
	got, err := containerEnv(c, pod, api)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"LATE": "$(POD_IP)", "POD_IP": "10.0.0.7", "POD_NAME": "app-1", "APP": "a",
		"RELEASE_COOKIE": "C00KIE", "K": "v", "RELEASE_NODE": "app@10.0.0.7",
		"LITERAL": "$(POD_IP)", "FROM_SECRET": "C00KIE",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("containerEnv (-want +got):\n%s", diff)
	}

	c.Env = append(c.Env, corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "other"}, Key: "cookie"}}})
	if _, err := containerEnv(c, pod, api); err == nil || !strings.Contains(err.Error(), `secret "other" not found`) {
		t.Errorf("containerEnv with a missing Secret: error = %v, want secret \"other\" not found", err)
	}
}

func TestContainerProcess(t *testing.T) {
	uid, gid, fs := int64(65532), int64(65532), int64(65532)
	yes, no := true, false
	spec := &corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsUser: &uid, RunAsGroup: &gid, FSGroup: &fs, RunAsNonRoot: &yes}}
	c := &corev1.Container{Name: "release", SecurityContext: &corev1.SecurityContext{
		ReadOnlyRootFilesystem: &yes, AllowPrivilegeEscalation: &no,
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}}
	img := v1.Config{Entrypoint: []string{"/app/bin/app"}, Cmd: []string{"start"}, WorkingDir: "/app", Env: []string{"LANG=C.UTF-8", "X=image"}, User: "1000"}
	got, err := containerProcess(img, "", spec, c, map[string]string{"X": "pod"}, "app-1")
	if err != nil {
		t.Fatal(err)
	}
	want := &process{
		Args: []string{"/app/bin/app", "start"},
		Env:  []string{"HOME=/", "HOSTNAME=app-1", "LANG=C.UTF-8", "PATH=" + defaultPath, "X=pod"},
		Dir:  "/app", UID: 65532, GID: 65532, Groups: []uint32{65532},
		ReadOnlyRoot: true, NoNewPrivs: true, DropAllCaps: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("containerProcess (-want +got):\n%s", diff)
	}

	// A passwd entry for the uid gives HOME, as runc reads it.
	passwd := "root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin\n"
	if got, err = containerProcess(img, passwd, spec, c, map[string]string{"X": "pod"}, "app-1"); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got.Env, "HOME=/home/nonroot") {
		t.Errorf("env %q, want HOME=/home/nonroot from the image's /etc/passwd", got.Env)
	}

	c.Args = []string{"eval", "$(X)"}
	if got, err = containerProcess(img, "", spec, c, map[string]string{"X": "pod"}, "app-1"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/app/bin/app", "eval", "pod"}; !slices.Equal(got.Args, want) {
		t.Errorf("args with container args = %q, want %q", got.Args, want)
	}

	root := int64(0)
	spec.SecurityContext.RunAsUser = &root
	if _, err := containerProcess(img, "", spec, c, nil, "app-1"); err == nil {
		t.Error("runAsNonRoot with uid 0: no error, want kubelet's refusal")
	}
}
