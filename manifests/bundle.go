package manifests

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/vmargs"
)

// Well-known names inside the pod.
const (
	// ConfigHashAnnotation on the pod template changes whenever the
	// runtime config does, so a config-only change rolls the pods.
	ConfigHashAnnotation = "relgen.dev/runtime-config-hash"
	// VMArgsKey and DiscoveryKey are the ConfigMap keys, mounted as files
	// under release.ConfigDir.
	VMArgsKey    = "vm.args"
	DiscoveryKey = "discovery.config"
	// ContainerName is the release container's name.
	ContainerName = "release"
	managedBy     = "relgen"
)

// Options are the inputs besides the spec.
type Options struct {
	// Image is the image reference; empty means repository:version.
	Image string
	// VMArgsName and VMArgsTemplate are the user's vm.args template and
	// the name to report it under; an empty template selects the
	// built-in one for the release kind.
	VMArgsName     string
	VMArgsTemplate string
	// ImageWarnings reports the image problems that are about what gets
	// deployed rather than whether the bundle is consistent (no image to
	// name, an unpinned image in a protected environment) as Warnings
	// instead of errors; relgen check sets it. The bundle then names
	// image.repository alone when there is no image.
	ImageWarnings bool
}

// Bundle is one environment's generated objects plus the runtime files
// they carry.
type Bundle struct {
	Spec    *release.Spec
	Image   string
	Objects []Object
	// VMArgs and DiscoveryConfig are the rendered runtime files, as
	// mounted in the pod.
	VMArgs          string
	DiscoveryConfig string
	// RemoteVMArgs and SSLDist are the distribution files (remote shells'
	// vm.args, the ssl_dist_optfile), empty when the mode needs none.
	RemoteVMArgs string
	SSLDist      string
	Plan         discovery.Plan
	// Warnings are problems that do not stop generation: an
	// *UnpinnedError in an unprotected environment.
	Warnings []error
	// vmArgsName labels vm.args in errors.
	vmArgsName string
}

// Generate builds and cross-checks the bundle for spec.
func Generate(spec *release.Spec, opts Options) (*Bundle, error) {
	rt, err := NewRuntime(spec, opts)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Spec: spec, VMArgs: rt.VMArgs, DiscoveryConfig: rt.Plan.Config, RemoteVMArgs: rt.RemoteVMArgs, SSLDist: rt.SSLDist,
		Plan: rt.Plan, vmArgsName: rt.VMArgsName}
	if b.Image, err = imageRef(spec, opts, &b.Warnings); err != nil {
		return nil, err
	}
	if sa := spec.Deployment.Pod.ServiceAccount; sa != "" && rt.Plan.ServiceAccount != "" {
		return nil, spec.Errorf("service_account", "discovery %s runs the pods as its own ServiceAccount %s, bound to the Role it needs; remove service_account", spec.Discovery, rt.Plan.ServiceAccount)
	}
	cm := configMap(spec, b)
	if spec.CreateNamespace {
		b.Objects = append(b.Objects, namespace(spec))
	}
	if spec.Deployment.Pod.CreateServiceAccount {
		b.Objects = append(b.Objects, serviceAccount(spec))
	}
	for _, o := range rt.Plan.Objects {
		o.SetLabels(standardLabels(spec))
		b.Objects = append(b.Objects, o)
	}
	work := workload(spec, b, cm)
	b.Objects = append(b.Objects, cm, headlessService(spec), service(spec), work)
	b.Objects = append(b.Objects, jobs(spec, b, work)...)
	if minReplicas(spec) > 1 {
		b.Objects = append(b.Objects, podDisruptionBudget(spec))
	}
	if spec.Deployment.Autoscaling != nil {
		b.Objects = append(b.Objects, horizontalPodAutoscaler(spec))
	}
	b.Objects = append(b.Objects, networkPolicy(spec))
	if c := certificate(spec); c != nil {
		b.Objects = append(b.Objects, c)
	}
	if spec.Deployment.Ingress != nil {
		b.Objects = append(b.Objects, ingress(spec))
	}
	sortObjects(b.Objects)
	if err := b.Check(); err != nil {
		return nil, err
	}
	return b, nil
}

// Runtime is what a node boots with in one environment: the rendered
// vm.args and the discovery plan.
type Runtime struct {
	VMArgs     string
	VMArgsName string
	Plan       discovery.Plan
	// RemoteVMArgs and SSLDist are the distribution files, when the
	// distribution mode needs them.
	RemoteVMArgs, SSLDist string
}

// NewRuntime renders vm.args and derives the discovery plan for spec.
// When the strategy ships an Erlang config file, vm.args gets a -config
// line for it: a -config given after the release's sys.config wins key
// by key. Under cluster.discovery_config: env the settings travel as env
// vars for config/runtime.exs instead.
func NewRuntime(spec *release.Spec, opts Options) (*Runtime, error) {
	name := opts.VMArgsName
	if opts.VMArgsTemplate == "" {
		name = "vm.args (built-in template)"
	}
	text, err := vmargs.Render(name, opts.VMArgsTemplate, spec)
	if err != nil {
		return nil, spec.Errorf("vm_args", "%w", err)
	}
	if err := errors.Join(checkDistFlags(name, text), checkListenPorts(name, text, spec)); err != nil {
		return nil, blameEach(spec, "vm_args", err)
	}
	if block := distBlock(spec); block != "" {
		text = strings.TrimRight(text, "\n") + "\n" + block
	}
	ssl, err := sslDist(spec)
	if err != nil {
		return nil, spec.Errorf("tls", "%w", err)
	}
	strategy, err := discovery.For(spec.Discovery)
	if err != nil {
		return nil, spec.Errorf("discovery", "%w", err)
	}
	plan, err := strategy.Plan(spec.Topology)
	if err != nil {
		return nil, spec.Errorf("discovery", "%w", err)
	}
	if spec.DiscoveryConfig == release.DiscoveryConfigEnv {
		plan = plan.ViaEnv()
	}
	if plan.Config != "" {
		text = strings.TrimRight(text, "\n") + "\n\n## Peer discovery config, added by relgen (" + spec.Discovery + ").\n" +
			"-config " + release.ConfigDir + "/" + DiscoveryKey + "\n"
	}
	text = withSchedulers(spec, text)
	if err := vmargs.Check(name, text, spec); err != nil {
		return nil, blameEach(spec, "vm_args", err)
	}
	return &Runtime{VMArgs: text, VMArgsName: name, Plan: plan, RemoteVMArgs: remoteVMArgs(spec), SSLDist: ssl}, nil
}

// blameEach turns every joined problem in err into a FieldError on key.
func blameEach(spec *release.Spec, key string, err error) error {
	var errs []error
	for _, e := range release.Split(err) {
		errs = append(errs, spec.Errorf(key, "%w", e))
	}
	return errors.Join(errs...)
}

// ErrNoImage is returned (inside a FieldError for release.version) when
// there is neither an image reference nor a release version to tag the
// repository with.
var ErrNoImage = errors.New("no image digest and no release version to tag the image with")

// UnpinnedError is an image reference without a digest: an error in a
// protected environment, else a warning.
type UnpinnedError struct {
	Ref string
}

func (e *UnpinnedError) Error() string { return "image " + e.Ref + " is not pinned by digest" }

// imageRef picks the image reference and enforces digest pinning in
// protected environments (or warns, under opts.ImageWarnings).
func imageRef(spec *release.Spec, opts Options, warnings *[]error) (string, error) {
	ref := opts.Image
	if ref == "" {
		if spec.Release.Version == "" {
			err := spec.Errorf("release.version", "%w", ErrNoImage)
			if !opts.ImageWarnings {
				return "", err
			}
			*warnings = append(*warnings, err)
			return spec.Image.Repository, nil
		}
		ref = spec.Image.Repository + ":" + spec.Release.Version
	}
	parsed, err := release.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("image %w", err)
	}
	if _, pinned := parsed.(name.Digest); pinned {
		return ref, nil
	}
	var unpinned error = &UnpinnedError{Ref: ref}
	if spec.Protected {
		unpinned = spec.Errorf("protected", "%w", unpinned)
		if !opts.ImageWarnings {
			return "", unpinned
		}
	}
	*warnings = append(*warnings, unpinned)
	return ref, nil
}

// runtimeHash hashes the ConfigMap data, so the pod template changes when
// the runtime config does.
func runtimeHash(data map[string]string) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(data)) {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(data[k]), data[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// kindOrder is the apply order: what others refer to comes first.
var kindOrder = []string{
	"Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Certificate", "Service",
	"Deployment", "StatefulSet", "PodDisruptionBudget", "NetworkPolicy", "HorizontalPodAutoscaler",
	"Ingress", "Job",
}

// kindRank is kind's place in kindOrder; kinds not listed go last.
func kindRank(kind string) int {
	if i := slices.Index(kindOrder, kind); i >= 0 {
		return i
	}
	return len(kindOrder)
}

func sortObjects(objs []Object) {
	slices.SortStableFunc(objs, func(a, b Object) int {
		if d := kindRank(kindOf(a)) - kindRank(kindOf(b)); d != 0 {
			return d
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
}
