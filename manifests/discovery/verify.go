package discovery

import (
	"errors"
	"fmt"
	"regexp"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Applied is a generated bundle read back from its YAML, as the cluster
// will see it: what a strategy's Verify checks. The fields are taken from
// the objects, never from the plan that made them.
type Applied struct {
	// Objects are all objects of the bundle; Workload the Deployment or
	// StatefulSet among them, and Pod its pod template.
	Objects []interface {
		metav1.Object
		runtime.Object
	}
	Workload interface {
		metav1.Object
		runtime.Object
	}
	Pod *corev1.PodTemplateSpec
	// Headless is the headless Service and Domain the cluster DNS domain.
	Headless *corev1.Service
	Domain   string
	// Config is the mounted discovery config file, empty when none.
	Config string
	// Basename and Host are the node name the pods boot with (-name in
	// vm.args or RELEASE_NODE), split at '@'; Host keeps its ${VAR} or
	// $(VAR) placeholders.
	Basename, Host string
}

// FQDN is the headless Service's DNS name as cluster DNS answers it.
func (a Applied) FQDN() string {
	return fmt.Sprintf("%s.%s.svc.%s", a.Headless.Name, a.Headless.Namespace, a.Domain)
}

// Env is the release container's env by name.
func (a Applied) Env() map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range a.Pod.Spec.Containers[0].Env {
		out[e.Name] = e
	}
	return out
}

// setting reads a library setting the way the node will get it: the
// {key, Value} of the mounted config file (a binary, string or atom, in
// any spelling Erlang accepts), or on the env route the variable env that
// config/runtime.exs reads.
func (a Applied) setting(key, env string) string {
	if t, err := ParseConfig(a.Config); err == nil {
		if v, ok := findKey(t, key); ok {
			return v
		}
	}
	return a.Env()[env].Value
}

// findKey is the text of the first {key, Value} tuple anywhere in t.
func findKey(t any, key string) (string, bool) {
	var items []any
	switch t := t.(type) {
	case Tuple:
		if len(t) == 2 && t[0] == Atom(key) {
			if v, ok := Text(t[1]); ok {
				return v, true
			}
		}
		items = t
	case List:
		items = t
	}
	for _, e := range items {
		if v, ok := findKey(e, key); ok {
			return v, true
		}
	}
	return "", false
}

// has reports whether the bundle holds an object of kind named name.
func (a Applied) has(kind, name string) bool {
	for _, o := range a.Objects {
		if o.GetObjectKind().GroupVersionKind().Kind == kind && o.GetName() == name {
			return true
		}
	}
	return false
}

// errorf is fmt.Errorf without wrapping, for Verify's findings.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// verifier collects Verify's findings.
type verifier []error

func (v *verifier) errorf(format string, args ...any) { *v = append(*v, errorf(format, args...)) }

func (v verifier) err() error { return errors.Join(v...) }

// regexpFind returns the first group of pattern's match in s, or "".
func regexpFind(pattern, s string) string {
	if m := regexp.MustCompile(pattern).FindStringSubmatch(s); len(m) > 1 {
		return m[1]
	}
	return ""
}

// expect records a finding unless the setting key (env on the env route)
// is want; what names want for the message.
func (v *verifier) expect(a Applied, key, env, want, what string) {
	if got := a.setting(key, env); got != want {
		v.errorf("%s = %q, want %s %q", key, got, what, want)
	}
}
