package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/relgen/relgen/release"
)

// Read parses a bundle from any source (relgen's output, kustomize build,
// helm template, hand-written files): a stream of YAML or JSON documents,
// where a v1 List stands for its items. The kinds relgen knows are decoded
// strictly into their k8s.io/api types, so a misspelt field is an error
// naming the document; other kinds (Ingress, custom resources) are kept
// as unstructured objects. Every problem is reported, with its document
// number.
func Read(r io.Reader) ([]Object, error) {
	br := bufio.NewReader(r)
	// A UTF-8 byte order mark, as Windows editors write, is not YAML.
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	docs := k8syaml.NewYAMLReader(br)
	var out []Object
	var errs []error
	for n := 1; ; n++ {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errors.Join(append(errs, fmt.Errorf("document %d: %w", n, err))...)
		}
		if len(bytes.TrimSpace(doc)) == 0 || isComments(doc) {
			continue
		}
		objs, err := readDocument(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", n, err))
		}
		out = append(out, objs...)
	}
	return out, errors.Join(errs...)
}

// CheckBundle reads a bundle from r (see Read) and runs CheckObjects on
// it; with a spec it also compares the objects with it (CompareSpec), and
// the spec's domain and namespace replace opts'. A bundle that cannot be
// read is an error; its inconsistencies are the report's problems.
func CheckBundle(r io.Reader, opts CheckOptions, spec *release.Spec) (*Report, error) {
	objs, err := Read(r)
	if err != nil {
		return nil, err
	}
	if spec != nil {
		opts.Domain, opts.Namespace = spec.Topology.Domain, spec.Topology.Namespace
	}
	rep := CheckObjects(objs, opts)
	if spec != nil {
		for _, err := range CompareSpec(objs, spec) {
			rep.Problems = append(rep.Problems, &Problem{Err: err})
		}
	}
	return rep, nil
}

// isComments reports whether doc holds nothing but comments and document
// separators (the YAML reader keeps a "---" that follows another one in
// the next document).
func isComments(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		l := bytes.TrimSpace(line)
		if rest, ok := bytes.CutPrefix(l, []byte("---")); ok {
			l = bytes.TrimSpace(rest)
		}
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
}

func readDocument(doc []byte) ([]Object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		// sigs.k8s.io/yaml says "error converting YAML to JSON: yaml:
		// line 3: ..."; the cause is the YAML.
		return nil, fmt.Errorf("not YAML or JSON: %s", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "), "yaml: "))
	}
	if tm.Kind == "" || tm.APIVersion == "" {
		return nil, fmt.Errorf("not a Kubernetes object: apiVersion and kind are required")
	}
	if tm.APIVersion == "v1" && tm.Kind == "List" {
		var list struct {
			metav1.TypeMeta `json:",inline"`
			metav1.ListMeta `json:"metadata"`
			Items           []jsonRaw `json:"items"`
		}
		if err := strictDecode(doc, &list); err != nil {
			return nil, fmt.Errorf("v1 List: %w", err)
		}
		var out []Object
		var errs []error
		for i, item := range list.Items {
			objs, err := readDocument(item)
			if err != nil {
				errs = append(errs, fmt.Errorf("items[%d]: %w", i, err))
			}
			out = append(out, objs...)
		}
		return out, errors.Join(errs...)
	}
	o, err := newObject(tm)
	if err != nil {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, fmt.Errorf("%s: %w", tm.Kind, err)
		}
		return []Object{u}, nil
	}
	if err := strictDecode(doc, o); err != nil {
		var meta struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		_ = yaml.Unmarshal(doc, &meta)
		return nil, fmt.Errorf("%s %s: %w", tm.Kind, meta.Metadata.Name, err)
	}
	return []Object{o}, nil
}

// strictDecode decodes one YAML or JSON document into o, refusing
// duplicate and unknown fields; errors name the field's path
// (spec.template.spec.contianers), as the API server's strict field
// validation does.
func strictDecode(doc []byte, o any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, o)
	if err != nil {
		return release.JSONValueError(err)
	}
	return errors.Join(strict...)
}

// jsonRaw keeps one List item as JSON for readDocument.
type jsonRaw []byte

func (r *jsonRaw) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}
