package release

import (
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// DefaultHostEnv is the env var relgen sets to ingress.host: Phoenix's
// config/runtime.exs reads the endpoint's host from it.
const DefaultHostEnv = "PHX_HOST"

// NoHostEnv as ingress.host_env sets no env var from the host.
const NoHostEnv = "none"

// Ingress routes outside HTTP traffic for a host to the ClusterIP Service.
// Each key may be overridden per environment; annotations merge key by key.
type Ingress struct {
	Host string `mapstructure:"host"`
	// TLSSecret is the Secret (type kubernetes.io/tls) holding the host's
	// certificate; no TLS when empty.
	TLSSecret string `mapstructure:"tls_secret"`
	// Class is the IngressClass (ingressClassName).
	Class       string            `mapstructure:"class"`
	Annotations map[string]string `mapstructure:"annotations"`
	// Path is the path prefix routed to the app, default "/".
	Path string `mapstructure:"path"`
	// HostEnv is the env var that carries Host into the pod, default
	// PHX_HOST; "none" sets none.
	HostEnv string `mapstructure:"host_env"`
}

// IngressSpec is the resolved ingress section.
type IngressSpec struct {
	Host, TLSSecret, Class, Path string
	Annotations                  map[string]string
	// HostEnv is empty when no env var carries the host.
	HostEnv string
}

// ingress merges the environment's ingress keys over the base section's.
func (m *merger) ingress(base, override *Ingress) *IngressSpec {
	m.paths["ingress"] = "deployment.ingress"
	if base == nil && override == nil {
		return nil
	}
	var b, o Ingress
	if base != nil {
		b = *base
	}
	if override != nil {
		o = *override
		m.paths["ingress"] = m.envPath("ingress")
	}
	key := func(k string) (string, string) { return "ingress." + k, "deployment.ingress." + k }
	str := func(k, base, override, def string) string {
		name, path := key(k)
		return m.str(name, path, base, override, def)
	}
	in := &IngressSpec{
		Host:      str("host", b.Host, o.Host, ""),
		TLSSecret: str("tls_secret", b.TLSSecret, o.TLSSecret, ""),
		Class:     str("class", b.Class, o.Class, ""),
		Path:      str("path", b.Path, o.Path, "/"),
		HostEnv:   str("host_env", b.HostEnv, o.HostEnv, DefaultHostEnv),
	}
	name, path := key("annotations")
	in.Annotations = m.strMap(name, path, b.Annotations, o.Annotations)
	if in.HostEnv == NoHostEnv {
		in.HostEnv = ""
	}
	return in
}

// deriveHostEnv puts the ingress host into the pod env under HostEnv, so
// the app and the Ingress cannot disagree on it. A user value must be the
// same plain host; anything else is reported to errs.
func (s *Spec) deriveHostEnv(env map[string]EnvValue, errs *fieldErrors) map[string]EnvValue {
	in := s.Deployment.Ingress
	if in == nil || in.HostEnv == "" || in.Host == "" || !envName.MatchString(in.HostEnv) {
		return env // checkIngress reports a bad host_env
	}
	if v, ok := env[in.HostEnv]; ok {
		if v.IsRef() || v.Value != in.Host {
			errs.add(s.KeyPath("env."+in.HostEnv), "%s is derived from %s (%q); this value disagrees with it: remove it from env, or change the ingress host",
				in.HostEnv, s.KeyPath("ingress.host"), in.Host)
		}
		return env
	}
	out := maps.Clone(env)
	if out == nil {
		out = map[string]EnvValue{}
	}
	out[in.HostEnv] = Plain(in.Host)
	s.paths["env."+in.HostEnv] = s.KeyPath("ingress.host")
	return out
}

// checkIngress validates the resolved ingress section.
func (s *Spec) checkIngress(add func(name, format string, args ...any)) {
	in := s.Deployment.Ingress
	if in == nil {
		return
	}
	if in.Host == "" {
		add("ingress", "host is required: the name clients reach the app by, e.g. shop.example.com")
	} else if strings.HasPrefix(in.Host, "*.") {
		add("ingress.host", "%q: a wildcard host cannot be the app's own host; name one host", in.Host)
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(in.Host) {
			add("ingress.host", "%q: %s", in.Host, msg)
		}
	}
	if in.TLSSecret != "" {
		for _, msg := range validation.IsDNS1123Subdomain(in.TLSSecret) {
			add("ingress.tls_secret", "%q: %s", in.TLSSecret, msg)
		}
	}
	if in.Class != "" {
		for _, msg := range validation.IsDNS1123Subdomain(in.Class) {
			add("ingress.class", "%q: %s", in.Class, msg)
		}
	}
	if !strings.HasPrefix(in.Path, "/") {
		add("ingress.path", "%q must start with /", in.Path)
	}
	if in.HostEnv != "" && !envName.MatchString(in.HostEnv) {
		add("ingress.host_env", "%q is not a variable name ([A-Za-z_][A-Za-z0-9_]*), or none", in.HostEnv)
	}
	for _, k := range slices.Sorted(maps.Keys(in.Annotations)) {
		for _, msg := range validation.IsQualifiedName(k) {
			add("ingress.annotations", "annotation key %q: %s", k, msg)
		}
	}
}
