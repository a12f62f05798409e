package manifests

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/relgen/relgen/release"
)

// ingress routes the host's HTTP traffic under the path prefix to the
// ClusterIP Service's app port, with TLS from the named Secret.
func ingress(s *release.Spec) *networkingv1.Ingress {
	in := s.Deployment.Ingress
	prefix := networkingv1.PathTypePrefix
	o := &networkingv1.Ingress{
		TypeMeta:   typeMeta("networking.k8s.io/v1", "Ingress"),
		ObjectMeta: meta(s, s.Deployment.Name),
		Spec: networkingv1.IngressSpec{
			Rules: []networkingv1.IngressRule{{
				Host: in.Host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path:     in.Path,
						PathType: &prefix,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: s.Topology.Service,
							Port: networkingv1.ServiceBackendPort{Name: PortHTTP},
						}},
					}},
				}},
			}},
		},
	}
	if len(in.Annotations) > 0 {
		o.Annotations = in.Annotations
	}
	if in.Class != "" {
		o.Spec.IngressClassName = &in.Class
	}
	if in.TLSSecret != "" {
		o.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{in.Host}, SecretName: in.TLSSecret}}
	}
	return o
}

// checkIngress follows the Ingress to the pods: its backend is a Service
// of the bundle with that port, the Service selects the pods, and the pod
// env carries the same host (ingress.host_env).
func (b *Bundle) checkIngress(pod *corev1.PodTemplateSpec) []error {
	s := b.Spec
	var errs []error
	for _, o := range b.Objects {
		in, ok := o.(*networkingv1.Ingress)
		if !ok {
			continue
		}
		for _, rule := range in.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				svc := p.Backend.Service
				if svc == nil || !b.servicePort(svc.Name, svc.Port.Name) {
					errs = append(errs, s.Errorf("ingress", "Ingress %s routes %s%s to %s, which is no Service port of the bundle", in.Name, rule.Host, p.Path, backendName(svc)))
				}
			}
			if env := s.Deployment.Ingress.HostEnv; env != "" {
				if got := envValue(pod, env); got != rule.Host {
					errs = append(errs, s.Errorf("ingress.host", "the Ingress serves %s, but the pods' %s is %q", rule.Host, env, got))
				}
			}
		}
	}
	return errs
}

func backendName(svc *networkingv1.IngressServiceBackend) string {
	if svc == nil {
		return "no Service"
	}
	return fmt.Sprintf("Service %s port %s", svc.Name, svc.Port.Name)
}

// servicePort reports whether the bundle has a Service name with a port
// named port.
func (b *Bundle) servicePort(name, port string) bool {
	for _, o := range b.Objects {
		if svc, ok := o.(*corev1.Service); ok && svc.Name == name {
			for _, p := range svc.Spec.Ports {
				if p.Name == port {
					return true
				}
			}
		}
	}
	return false
}

// envValue is the plain value of the release container's env var name.
func envValue(pod *corev1.PodTemplateSpec, name string) string {
	for _, e := range pod.Spec.Containers[0].Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
