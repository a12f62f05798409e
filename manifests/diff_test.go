package manifests

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func generateEnv(t *testing.T, env, image string) *Bundle {
	t.Helper()
	b, err := Generate(resolve(t, config("distillery"), env), Options{Image: image})
	if err != nil {
		t.Fatalf("Generate(%s): %v", env, err)
	}
	return b
}

// changed lists the changes as "Kind/name/path".
func changed(d *Diff) []string {
	var out []string
	for _, c := range d.Changes {
		out = append(out, c.Object+"/"+c.Path)
	}
	return out
}

func TestCompareEnvironments(t *testing.T) {
	staging, prod := generateEnv(t, "staging", pinned), generateEnv(t, "prod", pinned)
	d, err := Compare(staging, prod)
	if err != nil {
		t.Fatal(err)
	}
	wantSides := [2]Side{
		{Environment: "staging", Namespace: "staging", Image: pinned, Distribution: "tcp, epmd"},
		{Environment: "prod", Namespace: "default", Image: pinned, Distribution: "tcp, epmd"},
	}
	if diff := cmp.Diff(wantSides, [2]Side{d.From, d.To}); diff != "" {
		t.Errorf("sides (-want +got):\n%s", diff)
	}
	if !d.NamespaceChanged || d.ImageChanged || d.Empty() {
		t.Errorf("NamespaceChanged, ImageChanged, Empty = %v, %v, %v; want true, false, false", d.NamespaceChanged, d.ImageChanged, d.Empty())
	}
	// The namespace is one summary, not a change per object; everything
	// else that differs follows from it or from the environment's name.
	want := []string{
		"ConfigMap/myapp-runtime/data.discovery.config",
		"ConfigMap/myapp-runtime/data.vm.args",
		"Deployment/myapp/spec.template.metadata.annotations." + ConfigHashAnnotation,
	}
	if diff := cmp.Diff(want, changed(d)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	lines := d.Changes[0].Lines
	if !slices.Contains(lines, `+   {dns_name, <<"myapp-service-headless.default.svc.cluster.local">>},`) ||
		!slices.Contains(lines, `-   {dns_name, <<"myapp-service-headless.staging.svc.cluster.local">>},`) {
		t.Errorf("discovery config diff lacks the dns_name change:\n%s", strings.Join(lines, "\n"))
	}

	again, err := Compare(staging, prod)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, again); diff != "" {
		t.Errorf("Compare is not deterministic (-first +second):\n%s", diff)
	}

	self, err := Compare(prod, prod)
	if err != nil {
		t.Fatal(err)
	}
	if !self.Empty() || self.NamespaceChanged || len(self.Changes) != 0 {
		t.Errorf("Compare(prod, prod) = %+v, want no differences", self)
	}
}

func TestCompareImage(t *testing.T) {
	const repo = "registry.example.com/acme/myapp"
	other := repo + "@sha256:" + strings.Repeat("f", 64)
	for _, tc := range []struct {
		name     string
		from, to string
		want     bool
	}{
		{name: "same digest", from: pinned, to: pinned, want: false},
		{name: "promoted to another registry", from: pinned, to: "mirror.example.com/myapp@" + strings.SplitN(pinned, "@", 2)[1], want: false},
		{name: "different digest", from: pinned, to: other, want: true},
		{name: "same tag", from: repo + ":0.1.0", to: repo + ":0.1.0", want: false},
		{name: "different tag", from: repo + ":0.1.0", to: repo + ":0.2.0", want: true},
		{name: "tag and digest", from: repo + ":0.1.0", to: pinned, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Compare(generateEnv(t, "staging", tc.from), generateEnv(t, "staging", tc.to))
			if err != nil {
				t.Fatal(err)
			}
			if d.ImageChanged != tc.want {
				t.Errorf("ImageChanged = %v, want %v", d.ImageChanged, tc.want)
			}
			// The image is reported once, in the summary.
			for _, c := range d.Changes {
				if strings.HasSuffix(c.Path, ".image") && tc.want {
					t.Errorf("image reported again as a field change: %+v", c)
				}
			}
			if tc.want && (len(d.Changes) != 0 || d.Empty()) {
				t.Errorf("changes %v, Empty %v; want only the image", changed(d), d.Empty())
			}
		})
	}
}

func TestCompareObjects(t *testing.T) {
	deploy := func(ns string, replicas int32, image string, env ...corev1.EnvVar) *appsv1.Deployment {
		d := &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
		}
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: image, Args: []string{"start"}, Env: env}}
		return d
	}
	service := func(ns string, ports ...int32) *corev1.Service {
		s := &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		}
		for _, p := range ports {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: p})
		}
		return s
	}
	cm := func(ns, name, text string) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Data:       map[string]string{"vm.args": text},
		}
	}
	dep := deploy("a", 2, "img:1", corev1.EnvVar{Name: "HOST", Value: "a.example.com"}, corev1.EnvVar{Name: "PORT", Value: "4000"})
	depB := deploy("b", 3, "img:2", corev1.EnvVar{Name: "EXTRA", Value: "x"}, corev1.EnvVar{Name: "PORT", Value: "4000"})
	depB.Spec.Template.Spec.Containers[0].Args = []string{"start", "--verbose"}
	// Listed out of apply order: the diff sorts.
	rt := cm("a", "rt", "-name a\n-setcookie c\n")
	rt.Data["discovery.config"] = "[{peerage, []}].\n"
	from := []Object{dep, service("a", 80), cm("a", "old", "x\n"), rt}
	to := []Object{service("b", 80, 443), depB, cm("b", "rt", "-name a\n-setcookie c\n+P 5000\n"), cm("b", "new", "y\n")}

	d, err := compareObjects(from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := &Diff{
		From:             Side{Namespace: "a", Image: "img:1"},
		To:               Side{Namespace: "b", Image: "img:2"},
		NamespaceChanged: true,
		ImageChanged:     true,
		OnlyInFrom:       []string{"ConfigMap/old"},
		OnlyInTo:         []string{"ConfigMap/new"},
		Changes: []Change{
			{Object: "ConfigMap/rt", Path: "data.discovery.config", Lines: []string{"@@ -1 +0,0 @@", "-[{peerage, []}]."}},
			{Object: "ConfigMap/rt", Path: "data.vm.args", Lines: []string{"@@ -2,0 +3 @@", "++P 5000"}},
			{Object: "Service/web", Path: "spec.ports[1]", To: map[string]any{"port": float64(443), "targetPort": float64(0)}},
			{Object: "Deployment/web", Path: "spec.replicas", From: float64(2), To: float64(3)},
			{Object: "Deployment/web", Path: "spec.template.spec.containers[app].args", From: []any{"start"}, To: []any{"start", "--verbose"}},
			{Object: "Deployment/web", Path: "spec.template.spec.containers[app].env[HOST]", From: map[string]any{"name": "HOST", "value": "a.example.com"}},
			{Object: "Deployment/web", Path: "spec.template.spec.containers[app].env[EXTRA]", To: map[string]any{"name": "EXTRA", "value": "x"}},
		},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("compareObjects (-want +got):\n%s", diff)
	}

	// An object twice on one side cannot be matched.
	if _, err := compareObjects([]Object{dep, dep}, to); err == nil || !strings.Contains(err.Error(), "Deployment/web appears twice") {
		t.Errorf("duplicate object: err = %v", err)
	}
	// Mixed namespaces: no summary, each differing namespace is a change.
	d, err = compareObjects([]Object{service("a", 80)}, []Object{service("b", 80), cm("c", "x", "")})
	if err != nil {
		t.Fatal(err)
	}
	if d.NamespaceChanged || d.To.Namespace != "" || !slices.Contains(changed(d), "Service/web/metadata.namespace") {
		t.Errorf("mixed namespaces: NamespaceChanged %v, To %+v, changes %v", d.NamespaceChanged, d.To, changed(d))
	}
}

// TestCompareDecoded compares bundles read back from their YAML: the
// same changes as comparing the generated bundles.
func TestCompareDecoded(t *testing.T) {
	staging, prod := generateEnv(t, "staging", pinned), generateEnv(t, "prod", pinned)
	decode := func(b *Bundle) []Object {
		var buf bytes.Buffer
		if err := b.WriteYAML(&buf); err != nil {
			t.Fatal(err)
		}
		objs, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	want, err := Compare(staging, prod)
	if err != nil {
		t.Fatal(err)
	}
	got, err := compareObjects(decode(staging), decode(prod))
	if err != nil {
		t.Fatal(err)
	}
	want.From.Environment, want.To.Environment = "", ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compareObjects on decoded bundles (-Compare +compareObjects):\n%s", diff)
	}
}
