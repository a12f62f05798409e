package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

const pinned = "registry.example.com/acme/myapp@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func ptr[T any](v T) *T { return &v }

func config(kind string) *release.Config {
	return &release.Config{
		Release: release.ReleaseConfig{Name: "myapp", Version: "0.1.0", Kind: kind},
		Image:   release.ImageConfig{Repository: "registry.example.com/acme/myapp"},
		Cluster: release.ClusterConfig{Discovery: "peerage", HeadlessService: "myapp-service-headless", PodIPEnv: "MY_POD_IP"},
		Deployment: release.DeploymentConfig{
			Labels: map[string]string{"app": "myapp"}, Port: ptr(int32(8000)),
			Env: release.PlainEnv(map[string]string{"HOST": "example.com"}),
		},
		Environments: map[string]release.Environment{
			"prod":    {Namespace: "default", Protected: true},
			"staging": {Namespace: "staging"},
		},
		Origin: release.Origin{File: "relgen.yaml"},
	}
}

func resolve(t *testing.T, c *release.Config, env string) *release.Spec {
	t.Helper()
	s, err := c.Resolve(env, discovery.Registry{})
	if err != nil {
		t.Fatalf("Resolve(%s): %v", env, err)
	}
	return s
}

func TestGenerateErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    string
		env     string
		opts    Options
		wantErr string
	}{
		{name: "protected needs digest", kind: "distillery", env: "prod",
			wantErr: "relgen.yaml: environments.prod.protected: image registry.example.com/acme/myapp:0.1.0 is not pinned by digest"},
		{name: "placeholder without source", kind: "distillery", env: "staging",
			opts:    Options{VMArgsName: "vm.args.tmpl", VMArgsTemplate: "-name myapp@${MY_POD_IP}\n-setcookie ${RELEASE_COOKIE}\n+A ${ASYNC_THREADS}\n"},
			wantErr: "vm.args.tmpl: line 3: ${ASYNC_THREADS} has no source in the pod env of environment staging"},
		{name: "literal cookie", kind: "distillery", env: "staging",
			opts:    Options{VMArgsName: "vm.args.tmpl", VMArgsTemplate: "-name myapp@${MY_POD_IP}\n-setcookie mymagiccookie\n"},
			wantErr: "line 2: -setcookie must take the cookie from the runtime"},
		{name: "sname", kind: "distillery", env: "staging",
			opts:    Options{VMArgsName: "vm.args.tmpl", VMArgsTemplate: "-sname myapp\n"},
			wantErr: "line 1: -sname gives a short node name"},
		{name: "wrong basename", kind: "distillery", env: "staging",
			opts:    Options{VMArgsName: "vm.args.tmpl", VMArgsTemplate: "-name other@${MY_POD_IP}\n"},
			wantErr: `node basename "other" does not match release.name "myapp"`},
		{name: "bare hostname", kind: "distillery", env: "staging",
			opts:    Options{VMArgsName: "vm.args.tmpl", VMArgsTemplate: "-name myapp@${HOSTNAME}\n"},
			wantErr: "node host ${HOSTNAME} is not the pod IP"},
		{name: "default unsupported by distillery", kind: "distillery", env: "staging",
			opts:    Options{VMArgsName: "vm.args.tmpl", VMArgsTemplate: "-name myapp@${MY_POD_IP}\n+A ${ASYNC:-4}\n"},
			wantErr: "Distillery's REPLACE_OS_VARS does not know defaults"},
		{name: "escape unsupported by distillery", kind: "distillery", env: "staging",
			opts:    Options{VMArgsName: "vm.args.tmpl", VMArgsTemplate: "-name myapp@${MY_POD_IP}\n-env LITERAL $${HOME}\n"},
			wantErr: "line 2: $${ is not an escape for Distillery"},
		{name: "mix placeholder", kind: "mix", env: "staging",
			opts:    Options{VMArgsName: "vm.args.tmpl", VMArgsTemplate: "+A ${ASYNC}\n"},
			wantErr: "mix releases do not substitute ${VAR}"},
		{name: "template error", kind: "mix", env: "staging",
			opts:    Options{VMArgsName: "vm.args.tmpl", VMArgsTemplate: "+A {{ .Nope }}\n"},
			wantErr: "relgen.yaml: release.vm_args: rendering vm.args"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(resolve(t, config(tc.kind), tc.env), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Generate() error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestGenerateWarnsWhenNotPinned(t *testing.T) {
	b, err := Generate(resolve(t, config("distillery"), "staging"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var unpinned *UnpinnedError
	if len(b.Warnings) != 1 || !errors.As(b.Warnings[0], &unpinned) {
		t.Errorf("Warnings = %q, want one about the digest", b.Warnings)
	}
	b, err = Generate(resolve(t, config("distillery"), "prod"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Warnings) != 0 {
		t.Errorf("Warnings = %q for a pinned image", b.Warnings)
	}
}

// TestCheckCatchesBrokenBundles breaks one part of a good bundle at a time
// and expects Check to name the disagreement.
func TestCheckCatchesBrokenBundles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(b *Bundle)
		wantErr string
	}{
		{name: "service selects other pods", wantErr: "Service myapp: spec.selector: map[app:other] matches no pods", breakIt: func(b *Bundle) {
			clusterIPService(b).Spec.Selector = map[string]string{"app": "other"}
		}},
		{name: "discovery queries another name", wantErr: `peerage queries "myapp-service-headless.prod.svc.cluster.local"`, breakIt: func(b *Bundle) {
			editDiscoveryConfig(b, ".default.svc", ".prod.svc")
		}},
		{name: "discovery expects another basename", wantErr: "peerage connects to nodes named web@", breakIt: func(b *Bundle) {
			editDiscoveryConfig(b, `{app_name, <<"myapp">>}`, `{app_name, <<"web">>}`)
		}},
		{name: "object in another namespace", wantErr: `Service myapp is in namespace "kube-system"`, breakIt: func(b *Bundle) {
			clusterIPService(b).Namespace = "kube-system"
		}},
		{name: "env reference out of order", wantErr: "HOST refers to $(LATER)", breakIt: func(b *Bundle) {
			c := &deploymentOf(b).Spec.Template.Spec.Containers[0]
			for i := range c.Env {
				if c.Env[i].Name == "HOST" {
					c.Env[i].Value = "$(LATER)"
				}
			}
			c.Env = append(c.Env, corev1.EnvVar{Name: "LATER", Value: "x"})
		}},
		{name: "literal cookie env", wantErr: "RELEASE_COOKIE must come from a Secret", breakIt: func(b *Bundle) {
			c := &deploymentOf(b).Spec.Template.Spec.Containers[0]
			for i := range c.Env {
				if c.Env[i].Name == release.CookieEnv {
					c.Env[i] = corev1.EnvVar{Name: release.CookieEnv, Value: "mymagiccookie"}
				}
			}
		}},
		{name: "pod IP var dropped", wantErr: "${MY_POD_IP} has no source", breakIt: func(b *Bundle) {
			c := &deploymentOf(b).Spec.Template.Spec.Containers[0]
			c.Env = c.Env[1:]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Generate(resolve(t, config("distillery"), "prod"), Options{Image: pinned})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Check(); err != nil {
				t.Fatalf("Check() on the unbroken bundle = %v", err)
			}
			tc.breakIt(b)
			if err := b.Check(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Check() = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func clusterIPService(b *Bundle) *corev1.Service {
	for _, o := range b.Objects {
		if s, ok := o.(*corev1.Service); ok && s.Spec.ClusterIP != corev1.ClusterIPNone {
			return s
		}
	}
	panic("no ClusterIP Service")
}

func deploymentOf(b *Bundle) *appsv1.Deployment { return objectOf[*appsv1.Deployment](b) }

// objectOf returns the bundle's first object of type T; tests call it for
// objects the bundle must have.
func objectOf[T Object](b *Bundle) T {
	for _, o := range b.Objects {
		if v, ok := o.(T); ok {
			return v
		}
	}
	var zero T
	panic(fmt.Sprintf("bundle has no %T", zero))
}

// TestConfigChangeRollsPods: the pod template annotation follows the
// runtime config, so kubectl apply restarts the pods when it changes.
func TestConfigChangeRollsPods(t *testing.T) {
	c := config("distillery")
	a, err := Generate(resolve(t, c, "prod"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	c.Cluster.Interval = ptr(10 * time.Second)
	b, err := Generate(resolve(t, c, "prod"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	ha := deploymentOf(a).Spec.Template.Annotations[ConfigHashAnnotation]
	hb := deploymentOf(b).Spec.Template.Annotations[ConfigHashAnnotation]
	if ha == "" || ha == hb {
		t.Errorf("config hash %q -> %q, want a change when the discovery interval changes", ha, hb)
	}
}

func TestWriteYAMLRoundTrip(t *testing.T) {
	b, err := Generate(resolve(t, config("mix"), "prod"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := b.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("creationTimestamp")) || bytes.Contains(buf.Bytes(), []byte("status:")) {
		t.Errorf("YAML carries server-side fields:\n%s", buf.String())
	}
	objs, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(b.Objects) {
		t.Fatalf("decoded %d objects, want %d", len(objs), len(b.Objects))
	}
	for i, o := range objs {
		if o.GetName() != b.Objects[i].GetName() || kindOf(o) != kindOf(b.Objects[i]) {
			t.Errorf("object %d = %s %s, want %s %s", i, kindOf(o), o.GetName(), kindOf(b.Objects[i]), b.Objects[i].GetName())
		}
	}
	files, err := b.Files()
	if err != nil {
		t.Fatal(err)
	}
	if files[0].Name != "01-configmap-myapp-runtime.yaml" {
		t.Errorf("first file = %s", files[0].Name)
	}
}

// TestDiscoveryConfigEnv: under cluster.discovery_config: env the
// discovery settings leave the ConfigMap and vm.args and reach the pods
// as env vars, for both release kinds; a user env var of the same name is
// refused rather than silently shadowed.
func TestDiscoveryConfigEnv(t *testing.T) {
	for _, kind := range []string{release.KindMix, release.KindDistillery} {
		t.Run(kind, func(t *testing.T) {
			c := config(kind)
			c.Cluster.DiscoveryConfig = release.DiscoveryConfigEnv
			b, err := Generate(resolve(t, c, "prod"), Options{Image: pinned})
			if err != nil {
				t.Fatal(err)
			}
			cm := objectOf[*corev1.ConfigMap](b)
			if _, ok := cm.Data[DiscoveryKey]; ok || strings.Contains(cm.Data[VMArgsKey], "-config") {
				t.Errorf("ConfigMap still carries the discovery config:\n%v", cm.Data)
			}
			env := map[string]string{}
			for _, e := range deploymentOf(b).Spec.Template.Spec.Containers[0].Env {
				env[e.Name] = e.Value
			}
			want := map[string]string{
				"PEERAGE_DNS_NAME": "myapp-service-headless.default.svc.cluster.local",
				"PEERAGE_APP_NAME": "myapp",
				"PEERAGE_INTERVAL": "5",
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("pod env %s = %q, want %q", k, env[k], v)
				}
			}

			c.Deployment.Env["PEERAGE_INTERVAL"] = release.Plain("1")
			if _, err := c.Resolve("prod", discovery.Registry{}); err == nil || !strings.Contains(err.Error(), "deployment.env: PEERAGE_INTERVAL is set by relgen for discovery peerage") {
				t.Errorf("user env shadowing a discovery variable: Resolve err = %v", err)
			}
			// The bundle's own cross-check catches it too, should a
			// strategy ever fail to list a variable it sets.
			spec, err := c.Resolve("prod", unlistedEnv{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = Generate(spec, Options{Image: pinned})
			if err == nil || !strings.Contains(err.Error(), "deployment.env: PEERAGE_INTERVAL is set twice in the pod env") {
				t.Errorf("user env shadowing a discovery variable: err = %v", err)
			}
		})
	}
}

// unlistedEnv is the real registry with strategies that do not list the
// env vars they set.
type unlistedEnv struct{ discovery.Registry }

func (r unlistedEnv) Lookup(name string) (release.Strategy, bool) {
	s, ok := r.Registry.Lookup(name)
	return noEnv{s}, ok
}

type noEnv struct{ release.Strategy }

func (noEnv) Env(release.Topology, string) []string { return nil }

// TestEveryRelgenEnvIsReserved: each variable relgen puts in the pod is
// one that user env may not set, for both kinds and every strategy.
func TestEveryRelgenEnvIsReserved(t *testing.T) {
	for _, kind := range []string{release.KindMix, release.KindDistillery} {
		for _, name := range discovery.Names() {
			t.Run(kind+"/"+name, func(t *testing.T) {
				c := config(kind)
				c.Cluster.Discovery = name
				s := resolve(t, c, "prod")
				b, err := Generate(s, Options{Image: pinned})
				if err != nil {
					t.Fatal(err)
				}
				strategy, _ := discovery.Registry{}.Lookup(name)
				reserved := append(release.ReservedEnv(), s.Topology.PodIPEnv, s.Topology.PodNameEnv)
				reserved = append(reserved, strategy.Env(s.Topology, s.DiscoveryConfig)...)
				for _, e := range b.workloadEnv() {
					if _, user := c.Deployment.Env[e.Name]; !user && !slices.Contains(reserved, e.Name) {
						t.Errorf("relgen sets %s in the pod, but user env may set it too", e.Name)
					}
				}
			})
		}
	}
}

// editDiscoveryConfig replaces old with new in the bundle's mounted
// discovery config, as a hand edit or an overlay would.
func editDiscoveryConfig(b *Bundle, old, new string) {
	for _, o := range b.Objects {
		if cm, ok := o.(*corev1.ConfigMap); ok {
			cm.Data[DiscoveryKey] = strings.Replace(cm.Data[DiscoveryKey], old, new, 1)
		}
	}
}
