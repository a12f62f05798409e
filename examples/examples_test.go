package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/relgen/relgen/cmd/relgen/cli"
	"github.com/relgen/relgen/internal/testutil"
	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release/load"
	"github.com/relgen/relgen/vmargs"
)

// A digest the tests pin every bundle to, as relgen build --record would.
const digest = "sha256:4f1d8b5c0b7a6a1c1f0e2d3c4b5a69788766554433221100ffeeddccbbaa9988"

type example struct {
	dir   string
	image string
	envs  []string
	// discovery is the strategy the example's config chooses, whose
	// Verify hook checks the bundle's discovery parts.
	discovery string
	// envDiff lists the only JSON paths (object/field) allowed to differ
	// between staging and prod: what the config says differs.
	envDiff []string
}

var examples = []example{
	{
		dir: "seed", discovery: discovery.Peerage, image: "registry.example.com/acme/myapp@" + digest, envs: []string{"staging", "prod"},
		envDiff: []string{
			"*/metadata.namespace",
			"ConfigMap/myapp-runtime/data.discovery.config",
			"ConfigMap/myapp-runtime/data.vm.args",
			"Deployment/myapp-deployment/spec.template.metadata.annotations.relgen.dev/runtime-config-hash",
			"Deployment/myapp-deployment/spec.template.spec.containers.0.env.6.value",
		},
	},
	{
		dir: "mix", discovery: discovery.LibclusterKubernetes, image: "registry.example.com/acme/my_app@" + digest, envs: []string{"staging", "prod"},
		envDiff: []string{
			"*/metadata.namespace",
			"RoleBinding/my-app-discovery/subjects.0.namespace",
			"ConfigMap/my-app-runtime/data.discovery.config",
			"ConfigMap/my-app-runtime/data.vm.args",
			"Deployment/my-app/spec.replicas",
			"Deployment/my-app/spec.template.metadata.annotations.relgen.dev/runtime-config-hash",
			// prod adds POD_NAME from the Downward API, shifting the env list.
			"Deployment/my-app/spec.template.spec.containers.0.env.*",
		},
	},
	{
		dir: "phoenix", discovery: discovery.DNSCluster, image: "ghcr.io/acme/shop@" + digest, envs: []string{"staging", "prod"},
		envDiff: []string{
			"*/metadata.namespace",
			"ConfigMap/shop-runtime/data.vm.args",
			"Deployment/shop/spec.replicas",
			"Deployment/shop/spec.template.metadata.annotations.relgen.dev/runtime-config-hash",
			"Deployment/shop/spec.template.spec.containers.0.env.*",
			"Deployment/shop/spec.template.spec.containers.0.resources.*",
			"HorizontalPodAutoscaler/shop/*", // prod autoscales
			"Namespace/shop/*",               // prod creates its namespace
			"Ingress/shop/spec.rules.0.host",
			"Ingress/shop/spec.tls.*",
			// The migrate Job has the pods' env (PHX_HOST) and resources.
			"Job/shop-migrate-4f1d8b5c0b/spec.template.spec.containers.0.env.*",
			"Job/shop-migrate-4f1d8b5c0b/spec.template.spec.containers.0.resources.*",
		},
	},
	{
		dir: "statefulset", discovery: discovery.LibclusterDNSSRV, image: "registry.example.com/acme/chat@" + digest, envs: []string{"staging", "prod"},
		envDiff: []string{
			"*/metadata.namespace",
			"ConfigMap/chat-runtime/data.discovery.config",
			"ConfigMap/chat-runtime/data.vm.args",
			"StatefulSet/chat/spec.replicas",
			"StatefulSet/chat/spec.template.metadata.annotations.relgen.dev/runtime-config-hash",
			// RELEASE_NODE is on the pod's DNS name, which holds the namespace.
			"StatefulSet/chat/spec.template.spec.containers.0.env.4.value",
		},
	},
	{
		dir: "libcluster", discovery: discovery.LibclusterDNS, image: "registry.example.com/acme/api@" + digest, envs: []string{"staging", "prod"},
		envDiff: []string{
			"*/metadata.namespace",
			"ConfigMap/api-runtime/data.discovery.config",
			"ConfigMap/api-runtime/data.vm.args",
			"Deployment/api/spec.replicas",
			"Deployment/api/spec.template.metadata.annotations.relgen.dev/runtime-config-hash",
		},
	},
	{
		dir: "hello", discovery: discovery.None, image: "registry.example.com/acme/hello@" + digest, envs: []string{"staging", "prod"},
		envDiff: []string{
			"*/metadata.namespace",
			"ConfigMap/hello-runtime/data.vm.args",
			"Deployment/hello/spec.replicas",
			"Deployment/hello/spec.template.metadata.annotations.relgen.dev/runtime-config-hash",
		},
	},
	{
		dir: "secure", discovery: discovery.DNSCluster, image: "registry.example.com/acme/vault@" + digest, envs: []string{"staging", "prod"},
		envDiff: []string{
			"*/metadata.namespace",
			// The TLS identity is the headless Service's name, which holds
			// the namespace; so do the remote shells' and nodes' files.
			"ConfigMap/vault-runtime/data.ssl_dist.conf",
			"ConfigMap/vault-runtime/data.vm.args",
			"ConfigMap/vault-runtime/data.remote.vm.args",
			"Deployment/vault/spec.replicas",
			"Deployment/vault/spec.template.metadata.annotations.relgen.dev/runtime-config-hash",
			"Deployment/vault/spec.template.spec.containers.0.env.*",
			// prod's certificate comes from cert-manager.
			"Certificate/vault-dist-tls/*",
		},
	},
}

// cookie is set in the test's environment: it must never reach a bundle.
const cookie = "test-cookie-must-not-leak-7f3a"

func generate(t *testing.T, ex example, env string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := []string{"manifests", "-f", filepath.Join(ex.dir, "relgen.yaml"), "--env", env, "--image", ex.image}
	if code := cli.Execute(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("relgen %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("relgen %s printed on stderr: %s", strings.Join(args, " "), stderr.String())
	}
	return stdout.Bytes()
}

func TestExamples(t *testing.T) {
	t.Setenv("RELEASE_COOKIE", cookie)
	for _, ex := range examples {
		bundles := map[string][]manifests.Object{}
		for _, env := range ex.envs {
			t.Run(ex.dir+"/"+env, func(t *testing.T) {
				out := generate(t, ex, env)
				golden := filepath.Join(ex.dir, "expected", env+".yaml")
				testutil.Golden(t, golden, out)
				if bytes.Contains(out, []byte(cookie)) {
					t.Fatalf("the cookie from the environment appears in the bundle")
				}
				objs, err := manifests.Decode(out)
				if err != nil {
					t.Fatalf("parsing the bundle back: %v", err)
				}
				checkMeaning(t, objs, ex.discovery)
				bundles[env] = objs
			})
		}
		t.Run(ex.dir+"/staging-vs-prod", func(t *testing.T) {
			if len(bundles) != 2 {
				t.Skip("a bundle failed to generate")
			}
			got := differingPaths(t, bundles["staging"], bundles["prod"])
			for _, p := range got {
				if !slices.ContainsFunc(ex.envDiff, func(pat string) bool { return matchPath(pat, p) }) {
					t.Errorf("staging and prod differ at %s, which the config does not ask for", p)
				}
			}
		})
	}
}

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// checkMeaning asserts what the bundle means once applied: one namespace,
// Services selecting the pods, discovery querying the headless Service
// for nodes of the right basename, every variable defined, image pinned.
func checkMeaning(t *testing.T, objs []manifests.Object, strategy string) {
	t.Helper()
	var work manifests.Object
	var pod *corev1.PodTemplateSpec
	var selector map[string]string
	var cm *corev1.ConfigMap
	var headless *corev1.Service
	var services []*corev1.Service
	ns := ""
	for _, o := range objs {
		if kind(o) == "Namespace" {
			continue // cluster-scoped; TestExamplesProduction checks its name
		}
		if ns == "" {
			ns = o.GetNamespace()
		}
		if o.GetNamespace() != ns || ns == "" {
			t.Errorf("%s %s: namespace %q, want every object in %q", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), o.GetNamespace(), ns)
		}
		if p, sel, ok := manifests.WorkloadPod(o); ok {
			if work != nil {
				t.Errorf("bundle has two workloads, %s and %s", kind(work), kind(o))
			}
			work, pod, selector = o, p, sel.MatchLabels
		}
		switch o := o.(type) {
		case *corev1.ConfigMap:
			cm = o
		case *corev1.Service:
			services = append(services, o)
			if o.Spec.ClusterIP == corev1.ClusterIPNone {
				headless = o
			}
		}
	}
	if work == nil || cm == nil || headless == nil {
		t.Fatalf("bundle lacks a Deployment or StatefulSet, ConfigMap or headless Service")
	}
	podLabels := labels.Set(pod.Labels)
	if !labels.SelectorFromSet(selector).Matches(podLabels) {
		t.Errorf("%s selector %v does not match pod labels %v", kind(work), selector, podLabels)
	}
	if _, ok := selector["app.kubernetes.io/version"]; ok {
		t.Errorf("selector contains the version label")
	}
	for _, s := range services {
		if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			t.Errorf("Service %s selector %v does not select the pods %v", s.Name, s.Spec.Selector, podLabels)
		}
	}
	if !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("headless Service %s does not publish not-ready addresses", headless.Name)
	}
	for _, o := range objs {
		if hpa, ok := o.(*autoscalingv2.HorizontalPodAutoscaler); ok {
			if ref := hpa.Spec.ScaleTargetRef; ref.Kind != kind(work) || ref.Name != work.GetName() {
				t.Errorf("HorizontalPodAutoscaler scales %s %s, not the %s %s", ref.Kind, ref.Name, kind(work), work.GetName())
			}
			if replicas(work) != nil {
				t.Errorf("the %s sets replicas although an autoscaler owns them", kind(work))
			}
		}
	}
	c := pod.Spec.Containers[0]
	if !strings.Contains(c.Image, "@sha256:") {
		t.Errorf("image %s is not pinned by digest", c.Image)
	}

	fqdn := fmt.Sprintf("%s.%s.svc.cluster.local", headless.Name, headless.Namespace)
	basename, host := nodeName(t, cm.Data[manifests.VMArgsKey], c.Env)
	if cm.Data[manifests.DiscoveryKey] != "" && !strings.Contains(cm.Data[manifests.VMArgsKey], "-config /etc/relgen/"+manifests.DiscoveryKey) {
		t.Errorf("vm.args does not load the discovery config")
	}
	s, err := discovery.For(strategy)
	if err != nil {
		t.Fatal(err)
	}
	applied := discovery.Applied{
		Objects: objs, Workload: work, Pod: pod, Headless: headless, Domain: "cluster.local",
		Config: cm.Data[manifests.DiscoveryKey], Basename: basename, Host: host,
	}
	if fqdn != applied.FQDN() {
		t.Errorf("Applied.FQDN() = %q, want %q", applied.FQDN(), fqdn)
	}
	if err := s.Verify(applied); err != nil {
		t.Errorf("%s: %v", strategy, err)
	}
	checkDistribution(t, objs, pod, cm, headless, fqdn)

	defined := map[string]bool{}
	for _, e := range c.Env {
		for _, m := range envRef.FindAllStringSubmatch(e.Value, -1) {
			if !defined[m[1]] {
				t.Errorf("env %s uses $(%s) before it is defined", e.Name, m[1])
			}
		}
		defined[e.Name] = true
	}
	ph, err := vmargs.Placeholders(cm.Data[manifests.VMArgsKey])
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ph {
		if !p.InComment && !defined[p.Name] {
			t.Errorf("vm.args line %d uses ${%s}, which the pod env does not define", p.Line, p.Name)
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || m.MountPath == "/etc/relgen"
	}
	if !mounted {
		t.Errorf("the runtime ConfigMap is not mounted at /etc/relgen")
	}
}

func kind(o manifests.Object) string { return o.GetObjectKind().GroupVersionKind().Kind }

func replicas(o manifests.Object) *int32 {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return o.Spec.Replicas
	case *appsv1.StatefulSet:
		return o.Spec.Replicas
	}
	return nil
}

// nodeName is the node name the pod boots with, split at '@'.
func nodeName(t *testing.T, vmArgs string, env []corev1.EnvVar) (base, host string) {
	t.Helper()
	for _, e := range env {
		if e.Name == "RELEASE_NODE" {
			base, host, _ = strings.Cut(e.Value, "@")
			return base, host
		}
	}
	args, err := vmargs.Parse(vmArgs)
	if err != nil {
		t.Fatal(err)
	}
	names := vmargs.Find(args, "-name")
	if len(names) != 1 {
		t.Fatalf("vm.args has %d -name lines and no RELEASE_NODE", len(names))
	}
	base, host, _ = vmargs.NodeName(names[0].Values[0])
	return base, host
}

// differingPaths flattens both bundles to kind/name/json.path -> value and
// lists the paths whose values differ.
func differingPaths(t *testing.T, a, b []manifests.Object) []string {
	fa, fb := flattenAll(t, a), flattenAll(t, b)
	var out []string
	for k, v := range fa {
		if w, ok := fb[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func flattenAll(t *testing.T, objs []manifests.Object) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		j, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(j, &v); err != nil {
			t.Fatal(err)
		}
		flatten(o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName()+"/", v, out)
	}
	return out
}

func flatten(prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			flatten(join(prefix, k), x, out)
		}
	case []any:
		for i, x := range v {
			flatten(join(prefix, fmt.Sprint(i)), x, out)
		}
	default:
		out[prefix] = fmt.Sprint(v)
	}
}

func join(prefix, k string) string {
	if strings.HasSuffix(prefix, "/") {
		return prefix + k
	}
	return prefix + "." + k
}

// matchPath matches p against pat, where a leading "*/" stands for any
// kind/name, a trailing ".*" for any subpath and a trailing "/*" for the
// whole object.
func matchPath(pat, p string) bool {
	if object, ok := strings.CutSuffix(pat, "/*"); ok {
		return strings.HasPrefix(p, object+"/")
	}
	if rest, ok := strings.CutPrefix(pat, "*/"); ok {
		parts := strings.SplitN(p, "/", 3)
		if len(parts) < 3 {
			return false
		}
		pat, p = rest, parts[2]
	}
	if prefix, ok := strings.CutSuffix(pat, ".*"); ok {
		return strings.HasPrefix(p, prefix+".")
	}
	return pat == p
}

// TestExamplesValidate checks the expected bundles with real Kubernetes
// tools: kubectl-validate against the built-in 1.30 schemas, and kubectl
// kustomize reading them as a base.
func TestExamplesValidate(t *testing.T) {
	var files []string
	for _, ex := range examples {
		for _, env := range ex.envs {
			files = append(files, filepath.Join(ex.dir, "expected", env+".yaml"))
		}
	}
	t.Run("kubectl-validate", func(t *testing.T) {
		bin := tool(t, "kubectl-validate")
		dir := t.TempDir()
		for i, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// kubectl-validate knows no CRD schemas offline: cert-manager's
			// Certificate is checked by checkDistribution instead.
			data = withoutCRDs(t, data)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.yaml", i)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// The oldest and newest schemas kubectl-validate v0.0.4 ships:
		// every API version relgen emits exists across that range.
		for _, version := range []string{"1.23", "1.30"} {
			cmd := exec.Command(bin, dir, "--version", version)
			cmd.Env = append(os.Environ(), "KUBECONFIG=/dev/null")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("kubectl-validate --version %s: %v\n%s", version, err, out)
			}
		}
	})
	t.Run("kustomize", func(t *testing.T) {
		bin := tool(t, "kubectl")
		for _, f := range files {
			dir := t.TempDir()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "bundle.yaml"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources: [bundle.yaml]\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "kustomize", dir).Output()
			if err != nil {
				t.Fatalf("kubectl kustomize %s: %v", f, err)
			}
			want, _ := manifests.Decode(data)
			got, err := manifests.Decode(out)
			if err != nil {
				t.Fatalf("parsing kustomize output for %s: %v", f, err)
			}
			if diff := cmp.Diff(names(want), names(got), cmpSorted); diff != "" {
				t.Errorf("kustomize of %s changed the objects (-want +got):\n%s", f, diff)
			}
		}
	})
}

// withoutCRDs drops the documents of custom resources (cert-manager's
// Certificate) from a bundle.
func withoutCRDs(t *testing.T, data []byte) []byte {
	t.Helper()
	var keep [][]byte
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		if !bytes.Contains(doc, []byte("apiVersion: "+manifests.CertificateAPIVersion+"\n")) {
			keep = append(keep, doc)
		}
	}
	return bytes.Join(keep, []byte("\n---\n"))
}

var cmpSorted = cmp.Transformer("sort", func(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
})

func names(objs []manifests.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetNamespace()+"/"+o.GetName())
	}
	return out
}

// tool finds a binary on PATH (or in GOPATH/bin); without it the test
// skips, unless RELGEN_REQUIRE_TOOLS=1 (CI) makes that a failure.
func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("RELGEN_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is not installed and RELGEN_REQUIRE_TOOLS=1", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// TestEveryStrategyHasAnExample: a registered discovery strategy's golden
// example is one of its parts, and each example runs the strategy it is
// listed under (the environment's cluster.discovery, else the base one).
func TestEveryStrategyHasAnExample(t *testing.T) {
	covered := map[string]bool{}
	for _, ex := range examples {
		covered[ex.discovery] = true
		cfg, err := load.File(filepath.Join(ex.dir, "relgen.yaml"), load.WithEnviron(nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range ex.envs {
			spec, err := cfg.Resolve(env, discovery.Registry{})
			if err != nil {
				t.Fatal(err)
			}
			if got := spec.Discovery; got != ex.discovery {
				t.Errorf("example %s, environment %s: cluster.discovery is %q, but the test checks it as %q", ex.dir, env, got, ex.discovery)
			}
		}
	}
	for _, name := range discovery.Names() {
		if !covered[name] {
			t.Errorf("discovery strategy %s has no golden example in examples/", name)
		}
	}
}
