package manifests

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/internal/linediff"
)

// Diff is what differs between two bundles, object by object and field by
// field. Two things are lifted out of the per-field changes and reported
// once: the namespace, which differs between environments by design, and
// the image, which must not (promotion means the same digest).
type Diff struct {
	From Side `json:"from"`
	To   Side `json:"to"`
	// NamespaceChanged is set when each side sits in one namespace and the
	// two differ. Fields holding exactly those namespaces
	// (metadata.namespace, a RoleBinding subject's namespace) are then left
	// out of Changes.
	NamespaceChanged bool `json:"namespace_changed"`
	// ImageChanged is set when the sides run different images: different
	// digests, or different references when either is not pinned. The
	// container image fields are then left out of Changes.
	ImageChanged bool `json:"image_changed"`
	// DistributionChanged is set when the nodes of the two sides boot in
	// different distribution modes (TLS or TCP, with or without epmd):
	// they cannot connect to each other, so a rolling update from one side
	// to the other splits the cluster.
	DistributionChanged bool `json:"distribution_changed"`
	// OnlyInFrom and OnlyInTo list the objects ("Kind/name") one side lacks.
	OnlyInFrom []string `json:"only_in_from,omitempty"`
	OnlyInTo   []string `json:"only_in_to,omitempty"`
	// Changes lists every differing field of the objects both sides have,
	// in apply order of the objects and key order within each.
	Changes []Change `json:"changes,omitempty"`
}

// Side describes one bundle of a Diff.
type Side struct {
	// Environment is empty when the objects came without one.
	Environment string `json:"environment,omitempty"`
	// Namespace is empty when the objects do not share one namespace.
	Namespace string `json:"namespace,omitempty"`
	// Image is the release container's image, empty when the objects do
	// not run exactly one.
	Image string `json:"image,omitempty"`
	// Distribution is the nodes' distribution mode, e.g. "tls, no epmd";
	// empty when the objects carry no vm.args.
	Distribution string `json:"distribution,omitempty"`
}

// Change is one differing field.
type Change struct {
	// Object is "Kind/name".
	Object string `json:"object"`
	// Path is the field's path in the object as JSON keys joined with
	// dots (spec.replicas, data.vm.args); list entries are [NAME] when
	// every entry has a unique name (containers[release].env[HOST].value),
	// [INDEX] otherwise.
	Path string `json:"path"`
	// From and To are the JSON values; nil when that side lacks the
	// field. They are nil for text changes, which carry Lines instead.
	From any `json:"from,omitempty"`
	To   any `json:"to,omitempty"`
	// Lines is a unified line diff ("@@ -4 +4 @@", "-old", "+new", no
	// context) for strings of several lines, such as vm.args.
	Lines []string `json:"lines,omitempty"`
}

// Empty reports whether the sides differ in nothing but the namespace.
func (d *Diff) Empty() bool {
	return !d.ImageChanged && len(d.OnlyInFrom) == 0 && len(d.OnlyInTo) == 0 && len(d.Changes) == 0
}

// Compare reports what differs between two generated bundles, e.g. one
// release's staging and prod.
func Compare(from, to *Bundle) (*Diff, error) {
	side := func(b *Bundle) Side {
		return Side{Environment: b.Spec.Environment, Namespace: b.Spec.Topology.Namespace, Image: b.Image, Distribution: DistributionMode(b.VMArgs)}
	}
	return compare(side(from), side(to), from.Objects, to.Objects)
}

// compareObjects reports what differs between two lists of objects, such
// as bundles read back with Decode. Each side's namespace and image are
// taken from the objects when they agree on one.
func compareObjects(from, to []Object) (*Diff, error) {
	side := func(objs []Object) Side {
		return Side{Namespace: commonNamespace(objs), Image: commonImage(objs), Distribution: distributionOf(objs)}
	}
	return compare(side(from), side(to), from, to)
}

func compare(from, to Side, a, b []Object) (*Diff, error) {
	d := &Diff{From: from, To: to}
	d.NamespaceChanged = from.Namespace != "" && to.Namespace != "" && from.Namespace != to.Namespace
	d.ImageChanged = from.Image != to.Image && !sameDigest(from.Image, to.Image)
	d.DistributionChanged = from.Distribution != "" && to.Distribution != "" && from.Distribution != to.Distribution

	ga, err := generic(a)
	if err != nil {
		return nil, err
	}
	gb, err := generic(b)
	if err != nil {
		return nil, err
	}
	keys := slices.Collect(maps.Keys(ga))
	for k := range gb {
		if _, ok := ga[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y objectKey) int {
		if d := kindRank(x.kind) - kindRank(y.kind); d != 0 {
			return d
		}
		if c := strings.Compare(x.kind, y.kind); c != 0 {
			return c
		}
		return strings.Compare(x.name, y.name)
	})
	for _, k := range keys {
		va, inA := ga[k]
		vb, inB := gb[k]
		switch {
		case !inB:
			d.OnlyInFrom = append(d.OnlyInFrom, k.String())
		case !inA:
			d.OnlyInTo = append(d.OnlyInTo, k.String())
		default:
			w := walker{diff: d, object: k.String()}
			w.walk("", "", va, vb)
		}
	}
	return d, nil
}

// objectKey matches objects across the sides: kind and name, never the
// namespace.
type objectKey struct{ kind, name string }

func (k objectKey) String() string { return k.kind + "/" + k.name }

// generic turns objects into their JSON form as Marshal writes it: no
// status, no null fields.
func generic(objs []Object) (map[objectKey]map[string]any, error) {
	g := map[objectKey]map[string]any{}
	for _, o := range objs {
		k := objectKey{kindOf(o), o.GetName()}
		if _, dup := g[k]; dup {
			return nil, fmt.Errorf("comparing bundles: %s appears twice", k)
		}
		m, err := plain(o)
		if err != nil {
			return nil, err
		}
		g[k] = m
	}
	return g, nil
}

// walker collects the changes of one object.
type walker struct {
	diff   *Diff
	object string
}

// walk compares a and b, found under key at path; nil means absent.
func (w *walker) walk(path, key string, a, b any) {
	if reflect.DeepEqual(a, b) {
		return
	}
	if w.expected(key, a, b) {
		return
	}
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA && okB {
		keys := maps.Clone(ma)
		maps.Copy(keys, mb)
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			w.walk(join(path, k), k, ma[k], mb[k])
		}
		return
	}
	la, okA := a.([]any)
	lb, okB := b.([]any)
	if okA && okB && (!scalars(la) || !scalars(lb)) {
		w.walkList(path, la, lb)
		return
	}
	c := Change{Object: w.object, Path: path, From: a, To: b}
	// Text of several lines gets a line diff, also against an absent
	// field; a difference in the final newline alone keeps From and To.
	sa, okA := a.(string)
	sb, okB := b.(string)
	if (okA || a == nil) && (okB || b == nil) && (strings.Contains(sa, "\n") || strings.Contains(sb, "\n")) {
		if lines := linediff.Unified(sa, sb); len(lines) > 0 {
			c.From, c.To, c.Lines = nil, nil, lines
		}
	}
	w.diff.Changes = append(w.diff.Changes, c)
}

// expected reports a field that differs only as the summary says it
// does: the namespace an object sits in or refers to, and the image.
func (w *walker) expected(key string, a, b any) bool {
	d := w.diff
	switch key {
	case "namespace":
		return d.NamespaceChanged && a == any(d.From.Namespace) && b == any(d.To.Namespace)
	case "image":
		return d.ImageChanged && a == any(d.From.Image) && b == any(d.To.Image)
	}
	return false
}

// walkList matches list entries by name when every entry has a unique
// one (containers, env, ports, volumes), by position otherwise.
func (w *walker) walkList(path string, a, b []any) {
	na, okA := names(a)
	nb, okB := names(b)
	if !okA || !okB {
		for i := range max(len(a), len(b)) {
			w.walk(fmt.Sprintf("%s[%d]", path, i), "", at(a, i), at(b, i))
		}
		return
	}
	order := slices.Clone(na)
	for _, n := range nb {
		if !slices.Contains(na, n) {
			order = append(order, n)
		}
	}
	for _, n := range order {
		w.walk(path+"["+n+"]", "", at(a, slices.Index(na, n)), at(b, slices.Index(nb, n)))
	}
}

// names returns the "name" of every entry, or false when an entry has
// none or two share one.
func names(l []any) ([]string, bool) {
	out := make([]string, 0, len(l))
	for _, x := range l {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		n, ok := m["name"].(string)
		if !ok || n == "" || slices.Contains(out, n) {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

// at is l[i], or nil (absent) when i is out of range.
func at(l []any, i int) any {
	if i >= 0 && i < len(l) {
		return l[i]
	}
	return nil
}

// scalars reports a list of plain values (command, args), compared and
// shown as one value.
func scalars(l []any) bool {
	for _, x := range l {
		switch x.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// sameDigest reports two references pinned to the same digest, perhaps
// in different repositories: the same image, promoted.
func sameDigest(a, b string) bool {
	_, da, okA := strings.Cut(a, "@")
	_, db, okB := strings.Cut(b, "@")
	return okA && okB && da == db
}

// commonNamespace is the namespace of every object, if they share one.
func commonNamespace(objs []Object) string {
	if len(objs) == 0 || slices.ContainsFunc(objs, func(o Object) bool { return o.GetNamespace() != objs[0].GetNamespace() }) {
		return ""
	}
	return objs[0].GetNamespace()
}

// commonImage is the one image the workloads' containers run, if there
// is exactly one.
func commonImage(objs []Object) string {
	var images []string
	for _, o := range objs {
		pod, _, ok := WorkloadPod(o)
		if !ok {
			continue
		}
		for _, c := range pod.Spec.Containers {
			if !slices.Contains(images, c.Image) {
				images = append(images, c.Image)
			}
		}
	}
	if len(images) != 1 {
		return ""
	}
	return images[0]
}

// distributionOf is the distribution mode of the vm.args in the objects'
// ConfigMap, if exactly one ConfigMap carries vm.args.
func distributionOf(objs []Object) string {
	var modes []string
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok {
			if v, ok := cm.Data[VMArgsKey]; ok {
				modes = append(modes, DistributionMode(v))
			}
		}
	}
	if len(modes) != 1 {
		return ""
	}
	return modes[0]
}
