package e2e

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/relgen/relgen/manifests/discovery"
)

// cluster is the simulated cluster: one node with its network and DNS,
// running the pods of one Deployment or StatefulSet from relgen's bundle.
type cluster struct {
	t        *testing.T
	tools    *tools
	dir      string
	net      *network
	image    *unpackedImage
	wl       *workload
	headless *corev1.Service
	// domain is the cluster domain kubelet is configured with.
	domain string
	// delivered is the peerage config the bundle gives the nodes, for
	// the diagnosis.
	delivered peerageConfig
	// variant is what the pods were shipped as.
	variant variant
	pods    []*pod
	ready   map[*pod]bool
	// jobs are the pods of Jobs, which the workload does not own.
	jobs []*pod
}

func newCluster(t *testing.T, tl *tools, dir string, img *unpackedImage, wl *workload, headless *corev1.Service) *cluster {
	c := &cluster{t: t, tools: tl, dir: dir, image: img, wl: wl, headless: headless, domain: "cluster.local", ready: map[*pod]bool{}}
	c.net = newNetwork(t, tl, dir)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("RELGEN_E2E_LOGS") == "1" {
			for _, p := range append(c.pods, c.jobs...) {
				t.Logf("log of pod %s:\n%s", p.name, p.log.String())
			}
		}
	})
	return c
}

// fqdn is the headless Service's DNS name.
func (c *cluster) fqdn() string {
	return fmt.Sprintf("%s.%s.svc.%s", c.headless.Name, c.headless.Namespace, c.domain)
}

// dnsRecords are what cluster DNS answers for the headless Service
// (headlessRecords): the endpoints are the pods it selects, ready or not
// when it publishes not-ready addresses.
func (c *cluster) dnsRecords() dnsZone {
	var eps []endpoint
	for _, p := range append(c.pods, c.jobs...) {
		if selects(c.headless.Spec.Selector, p.labels) && (c.headless.Spec.PublishNotReadyAddresses || c.ready[p]) {
			eps = append(eps, endpointFor(c.headless, p.ip, &p.spec))
		}
	}
	z, err := headlessRecords(c.headless, eps, c.domain)
	if err != nil {
		c.t.Fatal(err)
	}
	return z
}

// addPod does what the workload's controller (ReplicaSet or StatefulSet),
// the scheduler and kubelet do before a pod's container starts: name the
// pod, give it an IP, compute the container's env and process from the
// pod template and the API objects, and write the files it mounts.
func (c *cluster) addPod(api *apiObjects) *pod {
	c.t.Helper()
	tmpl := *c.wl.template.DeepCopy()
	name, labels, hostname, subdomain := c.wl.podIdentity(c.t, len(c.pods))
	if err := simulable(&tmpl.Spec); err != nil {
		c.t.Fatalf("%s %s: %v", c.wl.kind, c.wl.name, err)
	}
	tmpl.Spec.Hostname, tmpl.Spec.Subdomain = hostname, subdomain
	p := c.newPod(api, c.wl.kind+" "+c.wl.name, tmpl, name, labels)
	c.pods = append(c.pods, p)
	return p
}

// addJobPod does what the Job controller, the scheduler and kubelet do
// for a Job's pod; the pod is not one of the Deployment's pods.
func (c *cluster) addJobPod(api *apiObjects, job *batchv1.Job) *pod {
	c.t.Helper()
	i := len(c.pods) + len(c.jobs) + 1
	name := fmt.Sprintf("%s-%s", job.Name, safeString(fmt.Sprint(i), 5))
	if err := simulable(&job.Spec.Template.Spec); err != nil {
		c.t.Fatalf("job %s: %v", job.Name, err)
	}
	p := c.newPod(api, "job "+job.Name, job.Spec.Template, name, map[string]string{"batch.kubernetes.io/job-name": job.Name, "job-name": job.Name})
	c.jobs = append(c.jobs, p)
	return p
}

// newPod gives the pod the next IP, computes the container's env and
// process from its spec (the template, with the hostname and subdomain
// its controller set) and the API objects, and writes the files it
// mounts.
func (c *cluster) newPod(api *apiObjects, owner string, tmpl corev1.PodTemplateSpec, name string, extraLabels map[string]string) *pod {
	c.t.Helper()
	spec := &tmpl.Spec
	i := len(c.pods) + len(c.jobs) + 1
	netns, ip := c.net.addPod(i)
	labels := maps.Clone(extraLabels)
	maps.Copy(labels, tmpl.Labels)
	meta := podMeta{
		Name: name, Namespace: c.wl.namespace, UID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		IP: ip, HostIP: gateway, NodeName: "e2e-node", ServiceAccount: cmp.Or(spec.ServiceAccountName, "default"),
		Labels: labels, Annotations: tmpl.Annotations,
	}
	// kubelet: the pod's hostname is spec.hostname, else its name; with
	// a subdomain it also has the FQDN <hostname>.<subdomain>.<ns>.svc.<domain>.
	hostname, fqdn := cmp.Or(spec.Hostname, name), ""
	if spec.Subdomain != "" {
		fqdn = fmt.Sprintf("%s.%s.%s.svc.%s", hostname, spec.Subdomain, meta.Namespace, c.domain)
	}
	// Discovery connects to <basename>@<pod IP>, or, for a strategy that
	// names nodes by hostname, to <basename>@<the pod's SRV target>: its
	// FQDN when the headless Service governs its subdomain.
	host := ip
	if c.namedByHostname() {
		host = endpointFor(c.headless, ip, spec).dnsName(c.fqdn())
	}
	ctr := &spec.Containers[0]
	env, err := containerEnv(ctr, meta, api)
	if err != nil {
		c.t.Fatalf("pod %s: %v", name, err)
	}
	var passwd []byte
	if p := c.image.path("/etc/passwd"); p != "" {
		passwd, _ = os.ReadFile(p) // none: HOME is /
	}
	proc, err := containerProcess(c.image.config, string(passwd), spec, ctr, env, hostname)
	if err != nil {
		c.t.Fatalf("pod %s: %v", name, err)
	}
	dir := filepath.Join(c.dir, "pods", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	mounts, err := c.podFiles(dir, meta, hostname, fqdn)
	if err != nil {
		c.t.Fatalf("pod %s: %v", name, err)
	}
	vols, err := volumeMounts(dir, spec, ctr, api)
	if err != nil {
		c.t.Fatalf("pod %s: %v", name, err)
	}
	return &pod{
		t: c.t, tools: c.tools, name: name, hostname: hostname, host: host, spec: *spec, netns: netns, ip: ip, dir: dir, labels: labels,
		image: c.image.layers, mounts: append(mounts, vols...), proc: proc, log: &logBuffer{},
	}
}

// simulable refuses pod specs the simulation would get wrong.
func simulable(spec *corev1.PodSpec) error {
	switch {
	case len(spec.Containers) != 1:
		return fmt.Errorf("%d containers; the simulation runs exactly one", len(spec.Containers))
	case len(spec.InitContainers) > 0:
		return errors.New("init containers are not simulated")
	case spec.HostNetwork || spec.HostPID || spec.HostIPC:
		return errors.New("host namespaces are not simulated")
	case spec.DNSPolicy != "" && spec.DNSPolicy != corev1.DNSClusterFirst:
		return fmt.Errorf("dnsPolicy %s is not simulated", spec.DNSPolicy)
	case spec.Hostname != "" || spec.Subdomain != "" || len(spec.HostAliases) > 0:
		return errors.New("hostname, subdomain and hostAliases are not simulated")
	case spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace:
		return errors.New("a shared process namespace is not simulated")
	}
	return nil
}

// podFiles writes the files kubelet and the runtime give every container
// (/etc/hosts, /etc/hostname, /etc/resolv.conf for dnsPolicy ClusterFirst)
// and lists them with /proc, /dev and /sys as mounts. A pod with a
// subdomain has its FQDN in /etc/hosts, as kubelet writes it.
func (c *cluster) podFiles(dir string, m podMeta, hostname, fqdn string) ([]mountSpec, error) {
	ns := m.Namespace
	self := m.IP + "\t" + hostname + "\n"
	if fqdn != "" {
		self = m.IP + "\t" + fqdn + "\t" + hostname + "\n"
	}
	files := map[string]string{
		"hosts": "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
			"fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n" +
			self,
		"hostname": hostname + "\n",
		"resolv.conf": fmt.Sprintf("search %s.svc.%s svc.%s %s\nnameserver %s\noptions ndots:5\n",
			ns, c.domain, c.domain, c.domain, gateway),
	}
	mounts := []mountSpec{{Target: "/proc", Type: "proc"}, {Target: "/dev", Type: "dev"}, {Target: "/sys", Type: "sysfs"}}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			return nil, err
		}
		mounts = append(mounts, mountSpec{Target: "/etc/" + name, Type: "bind", Source: p})
	}
	return mounts, nil
}

// volumeMounts materialises the container's volumes: a ConfigMap volume
// in kubelet's layout (files are symlinks into ..data, which points at a
// timestamped directory), an emptyDir as a pod-scoped directory that
// survives container restarts.
func volumeMounts(dir string, spec *corev1.PodSpec, ctr *corev1.Container, api *apiObjects) ([]mountSpec, error) {
	var fsGroup *int64
	if spec.SecurityContext != nil {
		fsGroup = spec.SecurityContext.FSGroup
	}
	var out []mountSpec
	for _, vm := range ctr.VolumeMounts {
		if vm.SubPath != "" || vm.SubPathExpr != "" {
			return nil, fmt.Errorf("volume mount %s: subPath is not simulated", vm.Name)
		}
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name })
		if i < 0 {
			return nil, fmt.Errorf("volume mount %s: no such volume in the pod", vm.Name)
		}
		v := spec.Volumes[i]
		src := filepath.Join(dir, "volumes", v.Name)
		var err error
		switch {
		case v.ConfigMap != nil:
			err = configMapVolume(src, v.ConfigMap, api, fsGroup)
		case v.Secret != nil:
			err = secretVolume(src, v.Secret, api, fsGroup)
		case v.EmptyDir != nil:
			err = emptyDirVolume(src, fsGroup)
		default:
			err = errors.New("only configMap, secret and emptyDir volumes are simulated")
		}
		if err != nil {
			return nil, fmt.Errorf("volume %s: %w", v.Name, err)
		}
		out = append(out, mountSpec{Target: vm.MountPath, Type: "bind", Source: src, ReadOnly: vm.ReadOnly})
	}
	return out, nil
}

func configMapVolume(dir string, src *corev1.ConfigMapVolumeSource, api *apiObjects, fsGroup *int64) error {
	data, ok := api.configMaps[src.Name]
	if !ok && (src.Optional == nil || !*src.Optional) {
		return fmt.Errorf("configmap %q not found", src.Name)
	}
	return projectVolume(dir, "configmap", src.Name, data, src.Items, src.DefaultMode, fsGroup)
}

// secretVolume lays out a Secret volume as kubelet does: like a ConfigMap
// volume (the same atomic ..data layout, so a rotated Secret swaps all
// keys at once).
func secretVolume(dir string, src *corev1.SecretVolumeSource, api *apiObjects, fsGroup *int64) error {
	data, ok := api.secrets[src.SecretName]
	if !ok && (src.Optional == nil || !*src.Optional) {
		return fmt.Errorf("secret %q not found", src.SecretName)
	}
	return projectVolume(dir, "secret", src.SecretName, data, src.Items, src.DefaultMode, fsGroup)
}

// projectVolume writes the keys of a ConfigMap or Secret (kind name) in
// kubelet's layout: files are symlinks into ..data, which points at a
// timestamped directory.
func projectVolume(dir, kind, name string, data map[string]string, keys []corev1.KeyToPath, defaultMode *int32, fsGroup *int64) error {
	mode := int32(0o644)
	if defaultMode != nil {
		mode = *defaultMode
	}
	type item struct {
		path string
		mode int32
	}
	items := map[string]item{}
	for k := range data {
		items[k] = item{k, mode}
	}
	if len(keys) > 0 {
		items = map[string]item{}
		for _, it := range keys {
			if _, ok := data[it.Key]; !ok {
				return fmt.Errorf("%s %q has no key %q", kind, name, it.Key)
			}
			m := mode
			if it.Mode != nil {
				m = *it.Mode
			}
			items[it.Key] = item{it.Path, m}
		}
	}
	ts := "..2026_01_01_00_00_00.000000001"
	if err := os.MkdirAll(filepath.Join(dir, ts), 0o755); err != nil {
		return err
	}
	for key, it := range items {
		if strings.Contains(it.path, "/") {
			return fmt.Errorf("item path %q: nested paths are not simulated", it.path)
		}
		p := filepath.Join(dir, ts, it.path)
		if err := os.WriteFile(p, []byte(data[key]), 0o600); err != nil {
			return err
		}
		m := os.FileMode(it.mode)
		if fsGroup != nil {
			// kubelet hands volume files to the fsGroup, group-readable.
			if err := os.Chown(p, 0, int(*fsGroup)); err != nil {
				return err
			}
			m |= 0o440
		}
		if err := os.Chmod(p, m); err != nil {
			return err
		}
		if err := os.Symlink(filepath.Join("..data", it.path), filepath.Join(dir, it.path)); err != nil {
			return err
		}
	}
	return os.Symlink(ts, filepath.Join(dir, "..data"))
}

func emptyDirVolume(dir string, fsGroup *int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o777)
	if fsGroup != nil {
		if err := os.Chown(dir, 0, int(*fsGroup)); err != nil {
			return err
		}
		mode |= os.ModeSetgid
	}
	return os.Chmod(dir, mode)
}

// waitReady runs the container's startup and readiness probes from the
// node, as kubelet does, until both pass, then republishes DNS.
func (c *cluster) waitReady(p *pod, timeout time.Duration) error {
	ctr := &c.wl.template.Spec.Containers[0]
	for _, pr := range []*corev1.Probe{ctr.StartupProbe, ctr.ReadinessProbe} {
		if pr == nil {
			continue
		}
		err := c.await(timeout, fmt.Sprintf("probe of pod %s", p.name), func(ctx context.Context) error {
			if !p.running() {
				return permanent(fmt.Errorf("container of pod %s exited: %v", p.name, p.cur.err))
			}
			return c.probe(ctx, p, ctr, pr)
		})
		if err != nil {
			return err
		}
	}
	c.ready[p] = true
	c.net.publish(c.dnsRecords())
	return nil
}

func (c *cluster) probe(ctx context.Context, p *pod, ctr *corev1.Container, pr *corev1.Probe) error {
	switch {
	case pr.HTTPGet != nil:
		g := pr.HTTPGet
		if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP || g.Host != "" || len(g.HTTPHeaders) > 0 {
			return errors.New("only plain HTTP probes on the pod IP are simulated")
		}
		port, err := containerPort(ctr, g.Port)
		if err != nil {
			return err
		}
		code, err := c.net.httpGet(ctx, fmt.Sprintf("http://%s:%d%s", p.ip, port, g.Path))
		if err != nil {
			return err
		}
		if n, _ := strconv.Atoi(code); n < 200 || n >= 400 {
			return fmt.Errorf("HTTP GET %s: status %s", g.Path, code)
		}
		return nil
	case pr.TCPSocket != nil:
		port, err := containerPort(ctr, pr.TCPSocket.Port)
		if err != nil {
			return err
		}
		return c.net.tcpConnect(ctx, fmt.Sprintf("%s:%d", p.ip, port))
	}
	return errors.New("only httpGet and tcpSocket probes are simulated")
}

func containerPort(ctr *corev1.Container, port intstr.IntOrString) (int32, error) {
	if port.Type == intstr.Int {
		return port.IntVal, nil
	}
	for _, p := range ctr.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort, nil
		}
	}
	return 0, fmt.Errorf("probe port %q is not a named container port", port.StrVal)
}

// nodeView is what one node reports: its own name and its peers.
type nodeView struct {
	self  string
	peers []string
}

const viewExpr = `IO.puts(Enum.join([node() | Enum.sort(Node.list())], " "))`

// views asks every running pod's node for node() and Node.list(), in
// parallel.
func (c *cluster) views(ctx context.Context, pods []*pod) (map[*pod]nodeView, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
		out  = map[*pod]nodeView{}
	)
	for _, p := range pods {
		wg.Go(func() {
			s, err := p.rpc(ctx, viewExpr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			lines := strings.Split(s, "\n")
			f := strings.Fields(lines[len(lines)-1])
			if len(f) == 0 {
				errs = append(errs, fmt.Errorf("pod %s: rpc printed nothing", p.name))
				return
			}
			out[p] = nodeView{self: f[0], peers: f[1:]}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// nodeName is the node discovery connects to for pod p:
// <release>@<pod IP>, or <release>@<pod FQDN> for a strategy that names
// nodes by hostname.
func nodeName(p *pod) string { return releaseName + "@" + p.host }

// namedByHostname reports whether the variant's discovery strategy
// connects to nodes by their pod's DNS name.
func (c *cluster) namedByHostname() bool {
	s, err := discovery.For(c.variant.strategy())
	if err != nil {
		c.t.Fatal(err)
	}
	return s.NamedByHostname()
}

// meshed checks that each of pods is the node nodeName(p) and sees
// exactly the others of pods.
func (c *cluster) meshed(ctx context.Context, pods []*pod) error {
	views, err := c.views(ctx, pods)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range pods {
		v := views[p]
		if v.self != nodeName(p) {
			errs = append(errs, fmt.Errorf("pod %s runs node %s, want %s", p.name, v.self, nodeName(p)))
		}
		var want []string
		for _, q := range pods {
			if q != p {
				want = append(want, nodeName(q))
			}
		}
		slices.Sort(want)
		if !slices.Equal(v.peers, want) {
			errs = append(errs, fmt.Errorf("Node.list() on %s = %v, want %v", v.self, v.peers, want))
		}
	}
	return errors.Join(errs...)
}

// await polls check until it passes or timeout expires; there are no
// fixed sleeps, only a short pause between attempts. On timeout the error
// carries the last failure and what diagnose finds.
func (c *cluster) await(timeout time.Duration, what string, check func(ctx context.Context) error) error {
	return c.awaitEvery(timeout, 250*time.Millisecond, what, check)
}

// awaitEvery is await with pause between attempts. The checks that ask
// every node for its Node.list() pause a discovery interval, the time
// the answer needs to change, because each attempt boots an rpc VM per
// pod.
func (c *cluster) awaitEvery(timeout, pause time.Duration, what string, check func(ctx context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithDeadline(c.t.Context(), deadline.Add(15*time.Second))
		err := check(ctx)
		cancel()
		if err == nil {
			return nil
		}
		var stop permanentError
		if time.Now().After(deadline) || errors.As(err, &stop) {
			msg := fmt.Sprintf("%s: not within %s:\n%v", what, timeout, err)
			if errors.As(err, &stop) {
				msg = fmt.Sprintf("%s: %v", what, err)
			}
			if found := c.diagnose(); len(found) > 0 {
				msg += "\ndiagnosis:\n  - " + strings.Join(found, "\n  - ")
			}
			return errors.New(msg)
		}
		select {
		case <-c.t.Context().Done():
			return c.t.Context().Err()
		case <-time.After(pause):
		}
	}
}

// permanentError ends await at once: waiting longer cannot help.
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

func permanent(err error) error { return permanentError{err} }

// templateHash stands in for the ReplicaSet's pod-template-hash.
func templateHash(t *testing.T, tmpl corev1.PodTemplateSpec) string {
	b, err := yaml.Marshal(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return safeString(string(b), 10)
}

// safeString hashes s into n characters of the alphabet Kubernetes uses
// for generated names.
func safeString(s string, n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	v := h.Sum64()
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
	}
	return string(out)
}
