package manifests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Marshal renders one object as YAML without the fields an unsubmitted
// object has no value for (creationTimestamp: null, status: {}).
func Marshal(o Object) ([]byte, error) {
	m, err := plain(o)
	if err != nil {
		return nil, err
	}
	return yaml.Marshal(m)
}

// plain is o in its JSON form as Marshal writes it, the form diff compares:
// no status, no null fields.
func plain(o Object) (map[string]any, error) {
	j, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", kindOf(o), o.GetName(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", kindOf(o), o.GetName(), err)
	}
	delete(m, "status")
	prune(m)
	return m, nil
}

// prune drops null values, which only mean "unset" in these objects.
func prune(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x == nil {
				delete(v, k)
				continue
			}
			prune(x)
		}
	case []any:
		for _, x := range v {
			prune(x)
		}
	}
}

// WriteYAML writes the bundle as one multi-document YAML stream.
func (b *Bundle) WriteYAML(w io.Writer) error {
	var buf bytes.Buffer
	for i, o := range b.Objects {
		if i > 0 {
			buf.WriteString("---\n")
		}
		y, err := Marshal(o)
		if err != nil {
			return err
		}
		buf.Write(y)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteJSON writes the bundle as one JSON v1 List, as kubectl get -o json
// prints several objects; kubectl apply -f - reads it.
func (b *Bundle) WriteJSON(w io.Writer) error {
	list := corev1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	for _, o := range b.Objects {
		m, err := plain(o)
		if err != nil {
			return err
		}
		j, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", kindOf(o), o.GetName(), err)
		}
		list.Items = append(list.Items, runtime.RawExtension{Raw: j})
	}
	out, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// File is one object's YAML with a file name that keeps apply order.
type File struct {
	Name string
	Data []byte
}

// Files renders one file per object, named NN-kind-name.yaml.
func (b *Bundle) Files() ([]File, error) {
	out := make([]File, 0, len(b.Objects))
	for i, o := range b.Objects {
		y, err := Marshal(o)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("%02d-%s-%s.yaml", i+1, strings.ToLower(kindOf(o)), o.GetName())
		out = append(out, File{Name: name, Data: y})
	}
	return out, nil
}

// KustomizationFile is the name kustomize looks for in a directory.
const KustomizationFile = "kustomization.yaml"

// kustomization is a kustomize base that lists the bundle's files, so
// overlays can patch an environment without copying it.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

// KustomizeFiles renders Files plus a kustomization.yaml listing them.
func (b *Bundle) KustomizeFiles() ([]File, error) {
	files, err := b.Files()
	if err != nil {
		return nil, err
	}
	k := kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization"}
	for _, f := range files {
		k.Resources = append(k.Resources, f.Name)
	}
	y, err := yaml.Marshal(k)
	if err != nil {
		return nil, err
	}
	return append(files, File{Name: KustomizationFile, Data: y}), nil
}

// Decode parses a multi-document YAML stream of the kinds relgen emits,
// strictly: an unknown field is an error. It is Marshal's inverse, part of
// the API so that code reading relgen's output (the example and command
// tests, the end-to-end tests) gets typed objects back.
func Decode(data []byte) ([]Object, error) {
	var out []Object
	for i, doc := range splitDocuments(data) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		o, err := newObject(tm)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if err := strictDecode(doc, o); err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i+1, tm.Kind, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// splitDocuments splits a YAML stream at its document separators, as
// kubectl does, dropping empty documents.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		d, err := r.Read()
		if err != nil {
			return docs
		}
		if len(bytes.TrimSpace(d)) > 0 && !isComments(d) {
			docs = append(docs, d)
		}
	}
}

func newObject(tm metav1.TypeMeta) (Object, error) {
	switch tm.APIVersion + "/" + tm.Kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1/Service":
		return &corev1.Service{}, nil
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "v1/Secret":
		return &corev1.Secret{}, nil
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, nil
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, nil
	case "batch/v1/Job":
		return &batchv1.Job{}, nil
	case "v1/Namespace":
		return &corev1.Namespace{}, nil
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, nil
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}, nil
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "rbac.authorization.k8s.io/v1/Role":
		return &rbacv1.Role{}, nil
	case "rbac.authorization.k8s.io/v1/RoleBinding":
		return &rbacv1.RoleBinding{}, nil
	case "rbac.authorization.k8s.io/v1/ClusterRole":
		return &rbacv1.ClusterRole{}, nil
	case "rbac.authorization.k8s.io/v1/ClusterRoleBinding":
		return &rbacv1.ClusterRoleBinding{}, nil
	case CertificateAPIVersion + "/Certificate":
		return &unstructured.Unstructured{}, nil
	}
	return nil, fmt.Errorf("unexpected object %s %s", tm.APIVersion, tm.Kind)
}
