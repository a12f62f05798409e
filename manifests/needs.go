package manifests

import (
	"cmp"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/relgen/relgen/release"
)

// userEnvVar is one deployment.env entry as a container env var: a plain
// value, or a Secret or ConfigMap key.
func userEnvVar(e release.EnvVar) corev1.EnvVar {
	r := e.From
	if r == nil {
		return corev1.EnvVar{Name: e.Name, Value: e.Value}
	}
	var optional *bool
	if r.Optional {
		yes := true
		optional = &yes
	}
	if r.Secret != "" {
		return corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: r.Secret}, Key: r.Key, Optional: optional,
		}}}
	}
	return corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: r.ConfigMap}, Key: r.Key, Optional: optional,
	}}}
}

// envFrom imports whole Secrets and ConfigMaps (deployment.env_from).
// Entries of env win over them, as Kubernetes defines.
func envFrom(from []release.EnvFrom) []corev1.EnvFromSource {
	var out []corev1.EnvFromSource
	for _, f := range from {
		var optional *bool
		if f.Optional {
			yes := true
			optional = &yes
		}
		src := corev1.EnvFromSource{Prefix: f.Prefix}
		if f.Secret != "" {
			src.SecretRef = &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: f.Secret}, Optional: optional}
		} else {
			src.ConfigMapRef = &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: f.ConfigMap}, Optional: optional}
		}
		out = append(out, src)
	}
	return out
}

// Need is an object the bundle refers to but does not contain: a Secret or
// ConfigMap (key) that has to exist in the namespace before the pods can
// start. Key is empty when the whole object is read (env_from) or the
// object is used as a whole (a TLS or image pull Secret).
type Need struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Key       string `json:"key,omitempty"`
	Optional  bool   `json:"optional,omitempty"`
	// For says what uses it: an env var, env_from, ...
	For []string `json:"for"`
}

// Needs lists every Secret and ConfigMap the bundle's objects refer to and
// the bundle does not hold (nor a cert-manager Certificate in it), read from the objects themselves, so the list
// is complete by construction. Sorted by kind, name and key.
func (b *Bundle) Needs() []Need {
	return needsOf(b.Objects)
}

func needsOf(objs []Object) []Need {
	type id struct{ kind, ns, name, key string }
	found := map[id]*Need{}
	var order []id
	add := func(kind, ns, name, key string, optional *bool, use string) {
		k := id{kind, ns, name, key}
		n, ok := found[k]
		if !ok {
			n = &Need{Kind: kind, Namespace: ns, Name: name, Key: key, Optional: true}
			found[k] = n
			order = append(order, k)
		}
		// Required as soon as one use requires it.
		n.Optional = n.Optional && optional != nil && *optional
		if !slices.Contains(n.For, use) {
			n.For = append(n.For, use)
		}
	}
	own := map[string]bool{}
	for _, o := range objs {
		own[kindOf(o)+"/"+o.GetName()] = true
		// cert-manager writes a Certificate's Secret.
		if u, ok := o.(*unstructured.Unstructured); ok && kindOf(o) == "Certificate" {
			if secret, _ := certificateFields(u); secret != "" {
				own["Secret/"+secret] = true
			}
		}
	}
	for _, o := range objs {
		ns := o.GetNamespace()
		for _, r := range objectRefs(o) {
			add(r.kind, ns, r.name, r.key, r.optional, r.use)
		}
	}
	var out []Need
	for _, k := range order {
		if !own[k.kind+"/"+k.name] {
			out = append(out, *found[k])
		}
	}
	slices.SortFunc(out, func(a, b Need) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// objectRef is one reference from an object to a Secret or ConfigMap.
type objectRef struct {
	kind, name, key string
	optional        *bool
	use             string
}

// objectRefs lists the Secrets and ConfigMaps o refers to.
func objectRefs(o Object) []objectRef {
	var out []objectRef
	if spec := podSpecOf(o); spec != nil {
		out = append(out, podRefs(spec)...)
	}
	if in, ok := o.(*networkingv1.Ingress); ok {
		for _, tls := range in.Spec.TLS {
			out = append(out, objectRef{"Secret", tls.SecretName, "", nil, "Ingress TLS"})
		}
	}
	return out
}

// podRefs lists what a pod spec reads from Secrets and ConfigMaps.
func podRefs(spec *corev1.PodSpec) []objectRef {
	var out []objectRef
	for _, c := range spec.Containers {
		for _, e := range c.Env {
			switch f := e.ValueFrom; {
			case f == nil:
			case f.SecretKeyRef != nil:
				out = append(out, objectRef{"Secret", f.SecretKeyRef.Name, f.SecretKeyRef.Key, f.SecretKeyRef.Optional, "env " + e.Name})
			case f.ConfigMapKeyRef != nil:
				out = append(out, objectRef{"ConfigMap", f.ConfigMapKeyRef.Name, f.ConfigMapKeyRef.Key, f.ConfigMapKeyRef.Optional, "env " + e.Name})
			}
		}
		for _, f := range c.EnvFrom {
			switch {
			case f.SecretRef != nil:
				out = append(out, objectRef{"Secret", f.SecretRef.Name, "", f.SecretRef.Optional, "env_from"})
			case f.ConfigMapRef != nil:
				out = append(out, objectRef{"ConfigMap", f.ConfigMapRef.Name, "", f.ConfigMapRef.Optional, "env_from"})
			}
		}
	}
	for _, v := range spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			out = append(out, objectRef{"ConfigMap", v.ConfigMap.Name, "", v.ConfigMap.Optional, "volume " + v.Name})
		case v.Secret != nil:
			out = append(out, objectRef{"Secret", v.Secret.SecretName, "", v.Secret.Optional, "volume " + v.Name})
		}
	}
	for _, s := range spec.ImagePullSecrets {
		out = append(out, objectRef{"Secret", s.Name, "", nil, "image pull"})
	}
	return out
}

// podSpecOf returns the pod spec of a workload or Job, or nil.
func podSpecOf(o Object) *corev1.PodSpec {
	if pod, _, ok := WorkloadPod(o); ok {
		return &pod.Spec
	}
	if j, ok := o.(*batchv1.Job); ok {
		return &j.Spec.Template.Spec
	}
	return nil
}
