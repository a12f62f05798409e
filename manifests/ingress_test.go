package manifests

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/relgen/relgen/release"
)

func TestIngress(t *testing.T) {
	c := config("mix")
	c.Deployment.Ingress = &release.Ingress{Class: "nginx", Annotations: map[string]string{"example.com/a": "1"}}
	c.Environments["prod"] = release.Environment{Namespace: "default", DeploymentConfig: release.DeploymentConfig{
		Ingress: &release.Ingress{Host: "myapp.example.com", TLSSecret: "myapp-tls"},
	}}
	b, err := Generate(resolve(t, c, "prod"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	var in *networkingv1.Ingress
	for _, o := range b.Objects {
		if o, ok := o.(*networkingv1.Ingress); ok {
			in = o
		}
	}
	if in == nil {
		t.Fatal("no Ingress in the bundle")
	}
	rule := in.Spec.Rules[0]
	backend := rule.HTTP.Paths[0].Backend.Service
	switch {
	case rule.Host != "myapp.example.com" || rule.HTTP.Paths[0].Path != "/":
		t.Errorf("rule = %s%s, want myapp.example.com/", rule.Host, rule.HTTP.Paths[0].Path)
	case backend.Name != "myapp" || backend.Port.Name != PortHTTP:
		t.Errorf("backend = %+v, want the ClusterIP Service myapp port http", backend)
	case in.Spec.IngressClassName == nil || *in.Spec.IngressClassName != "nginx":
		t.Errorf("ingressClassName = %v, want the base section's nginx", in.Spec.IngressClassName)
	case len(in.Spec.TLS) != 1 || in.Spec.TLS[0].SecretName != "myapp-tls" || in.Spec.TLS[0].Hosts[0] != rule.Host:
		t.Errorf("tls = %+v", in.Spec.TLS)
	case in.Annotations["example.com/a"] != "1":
		t.Errorf("annotations = %v", in.Annotations)
	}
	pod := podOf(t, b)
	if got := envValue(pod, "PHX_HOST"); got != "myapp.example.com" {
		t.Errorf("PHX_HOST = %q, want the ingress host", got)
	}
	found := false
	for _, n := range b.Needs() {
		found = found || n.Kind == "Secret" && n.Name == "myapp-tls" && n.For[0] == "Ingress TLS"
	}
	if !found {
		t.Errorf("Needs() = %+v, want the TLS Secret", b.Needs())
	}

	// The cross-check follows the Ingress to the pods.
	rule.HTTP.Paths[0].Backend.Service.Port.Name = "metrics"
	for i, e := range pod.Spec.Containers[0].Env {
		if e.Name == "PHX_HOST" {
			pod.Spec.Containers[0].Env[i].Value = "other.example.com"
		}
	}
	err = b.Check()
	for _, want := range []string{
		"environments.prod.ingress: Ingress myapp routes myapp.example.com/ to Service myapp port metrics, which is no Service port of the bundle",
		`environments.prod.ingress.host: the Ingress serves myapp.example.com, but the pods' PHX_HOST is "other.example.com"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v, want %q", err, want)
		}
	}
}

func podOf(t *testing.T, b *Bundle) *corev1.PodTemplateSpec {
	t.Helper()
	for _, o := range b.Objects {
		if p, _, ok := WorkloadPod(o); ok {
			return p
		}
	}
	t.Fatal("bundle has no workload")
	return nil
}
