package release

import (
	"reflect"
	"strings"
	"time"
)

// Release kinds: how a release boots and reads its vm.args.
const (
	KindDistillery = "distillery"
	KindMix        = "mix"
)

// How the discovery settings reach the VM (cluster.discovery_config).
const (
	// DiscoveryConfigFile mounts an Erlang config file and loads it with
	// -config after the release's sys.config.
	DiscoveryConfigFile = "file"
	// DiscoveryConfigEnv sets the values as env vars that the release's
	// config/runtime.exs reads.
	DiscoveryConfigEnv = "env"
)

// Fixed locations inside the image and the pod. The image builder, the
// manifests and the templates all use these, so they live here once.
const (
	// Root is where the release directory is unpacked in the image.
	Root = "/app"
	// ConfigDir is where the environment's ConfigMap is mounted.
	ConfigDir = "/etc/relgen"
	// EPMDPort is the Erlang port mapper's well-known port.
	EPMDPort = 4369
)

// Config is relgen.yaml as written by the user, before defaults and
// environment overrides. The mapstructure tags are the file's key names.
type Config struct {
	Release      ReleaseConfig          `mapstructure:"release"`
	Image        ImageConfig            `mapstructure:"image"`
	Cluster      ClusterConfig          `mapstructure:"cluster"`
	Deployment   DeploymentConfig       `mapstructure:"deployment"`
	Environments map[string]Environment `mapstructure:"environments"`

	// Origin locates keys for error messages; loaders set it.
	Origin Origin `mapstructure:"-"`
}

// ReleaseConfig describes the BEAM release itself.
type ReleaseConfig struct {
	// Name is the release name; it is also the node basename and the
	// default app label.
	Name string `mapstructure:"name"`
	// Version defaults to the version found in the release directory.
	Version string `mapstructure:"version"`
	// Kind is distillery or mix.
	Kind string `mapstructure:"kind"`
	// Path is the built release directory, the input of `relgen build`.
	Path string `mapstructure:"path"`
	// Paths gives a multi-platform image one release directory per
	// platform ("linux/arm64": _build/arm64/rel/myapp); ERTS is native code.
	Paths map[string]string `mapstructure:"paths"`
	// Build is an optional command run before packing the release.
	Build []string `mapstructure:"build"`
	// VMArgs is an optional vm.args template, relative to the config file.
	VMArgs string `mapstructure:"vm_args"`
	// Cookie says which Secret the pods read the Erlang cookie from.
	Cookie CookieRef `mapstructure:"cookie"`
}

// CookieRef points at the Secret key holding the Erlang cookie.
type CookieRef struct {
	Secret string `mapstructure:"secret"`
	Key    string `mapstructure:"key"`
}

// ImageConfig describes the OCI image `relgen build` produces.
type ImageConfig struct {
	Repository string   `mapstructure:"repository"`
	Base       Base     `mapstructure:"base"`
	Platforms  []string `mapstructure:"platforms"`
	// ABICheck turns the build-time check of the release's native code
	// against the base's libraries off when false (default on).
	ABICheck *bool  `mapstructure:"abi_check"`
	User     string `mapstructure:"user"`
	// AppLayers lists the project's own OTP applications (default: the
	// release name); they go into their own, most often rebuilt layer.
	AppLayers []string `mapstructure:"app_layers"`
	// Exclude lists glob patterns (relative to the release dir) never packed.
	Exclude []string `mapstructure:"exclude"`
	// Source is the source repository URL recorded in the image labels.
	Source string `mapstructure:"source"`
}

// Base is image.base: either a reference written as a string (a
// registry reference, oci-layout:DIR, tarball:FILE or scratch), or a map
// naming Debian packages ({debian: [libc6, ...]}) or a directory of .deb
// files ({debs: DIR}) that relgen builds the base layer from.
type Base struct {
	// Ref is the string form.
	Ref string `mapstructure:"-"`
	// Debian lists the packages of a base built from .deb files.
	Debian []string `mapstructure:"debian"`
	// Debs is a directory holding the .deb files (relative to the config
	// file); without it packages are fetched into the cache.
	Debs string `mapstructure:"debs"`
}

// BaseHook is a mapstructure decode hook that reads image.base written
// as a string (a reference) into Base; the map form decodes field by field.
func BaseHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(Base{}) || from.Kind() != reflect.String {
		return data, nil
	}
	return Base{Ref: data.(string)}, nil
}

// IsZero reports whether image.base is unset.
func (b Base) IsZero() bool { return b.Ref == "" && len(b.Debian) == 0 && b.Debs == "" }

// IsPackages reports whether the base is built from Debian packages.
func (b Base) IsPackages() bool { return len(b.Debian) > 0 || b.Debs != "" }

// String names the base in messages: the reference, or the packages.
func (b Base) String() string {
	if !b.IsPackages() {
		return b.Ref
	}
	if len(b.Debian) == 0 {
		return "the .deb files in " + b.Debs
	}
	return "Debian packages [" + strings.Join(b.Debian, " ") + "]"
}

// ClusterConfig describes how the nodes find each other. Every key may be
// overridden per environment.
type ClusterConfig struct {
	Discovery string `mapstructure:"discovery"`
	// DiscoveryConfig is how the discovery settings reach the VM: file
	// (a mounted config file loaded with -config) or env (env vars read
	// by config/runtime.exs).
	DiscoveryConfig string         `mapstructure:"discovery_config"`
	HeadlessService string         `mapstructure:"headless_service"`
	Interval        *time.Duration `mapstructure:"interval"`
	Domain          string         `mapstructure:"domain"`
	DistPort        *int32         `mapstructure:"dist_port"`
	// PodIPEnv is the env var that carries the pod IP (Downward API
	// status.podIP) and forms the host part of the node name.
	PodIPEnv string `mapstructure:"pod_ip_env"`
	// DNSName, when set, must equal the headless Service's FQDN; it lets a
	// config state the name a hand-written discovery config used.
	DNSName string `mapstructure:"dns_name"`
	// AppName, when set, must equal the node basename.
	AppName string `mapstructure:"app_name"`
	// EPMD false runs the nodes without epmd: each listens on dist_port
	// and dials its peers there (distribution.go).
	EPMD *bool `mapstructure:"epmd"`
	// TLS runs Erlang distribution over mutually verified TLS.
	TLS *TLSConfig `mapstructure:"tls"`
}

// DeploymentConfig describes the Deployment. Every key may be overridden
// per environment.
type DeploymentConfig struct {
	Name     string            `mapstructure:"name"`
	Labels   map[string]string `mapstructure:"labels"`
	Replicas *int32            `mapstructure:"replicas"`
	Port     *int32            `mapstructure:"port"`
	// Env is the container env: plain values, which may use $(VAR) of
	// other entries, or keys of Secrets and ConfigMaps.
	Env map[string]EnvValue `mapstructure:"env"`
	// EnvFrom imports every key of Secrets and ConfigMaps as env vars.
	EnvFrom []EnvFrom `mapstructure:"env_from"`
	// FieldEnv exposes pod fields through the Downward API, VAR: fieldPath.
	FieldEnv  map[string]string `mapstructure:"field_env"`
	Resources *Resources        `mapstructure:"resources"`
	// TerminationGracePeriod is how long the VM gets to stop after SIGTERM.
	TerminationGracePeriod *time.Duration `mapstructure:"termination_grace_period"`
	// HealthPath switches the probes from TCP to an HTTP GET of this path.
	HealthPath string `mapstructure:"health_path"`
	// Autoscaling adds a HorizontalPodAutoscaler; the Deployment then
	// leaves replicas to it.
	Autoscaling *Autoscaling `mapstructure:"autoscaling"`
	// Ingress routes outside HTTP traffic for a host to the app.
	Ingress *Ingress `mapstructure:"ingress"`
	// Jobs are release commands run once per image before the rollout.
	Jobs map[string]Job `mapstructure:"jobs"`

	PodConfig `mapstructure:",squash"`
}

// Autoscaling configures a HorizontalPodAutoscaler on CPU utilisation.
type Autoscaling struct {
	Min *int32 `mapstructure:"min"`
	Max *int32 `mapstructure:"max"`
	// CPU is the target average CPU utilisation, in percent of the
	// containers' CPU requests.
	CPU *int32 `mapstructure:"cpu"`
}

// Resources are container requests and limits in Kubernetes quantity
// notation ("250m", "512Mi").
type Resources struct {
	Requests map[string]string `mapstructure:"requests"`
	Limits   map[string]string `mapstructure:"limits"`
}

// Environment is one deployment target. Its keys override the deployment
// and cluster sections for this environment only (they sit flat in the
// environment's section); env, field_env and labels maps are merged key by
// key over the base.
type Environment struct {
	Namespace string `mapstructure:"namespace"`
	// Protected environments refuse images not pinned by digest.
	Protected bool `mapstructure:"protected"`
	// CreateNamespace adds the Namespace object to the bundle.
	CreateNamespace bool `mapstructure:"create_namespace"`

	DeploymentConfig `mapstructure:",squash"`
	ClusterConfig    `mapstructure:",squash"`
}

// Origin says where a Config came from, so errors can name the file and
// line of a key. Loaders fill it; it is not part of the file's schema.
type Origin struct {
	// File is the config file name as the user gave it.
	File string
	// Lines maps a dotted key path ("deployment.replicas") to its 1-based
	// line in File, when the format records lines (YAML).
	Lines map[string]int
	// Overrides maps a dotted key path to what set it instead of the file
	// (a RELGEN_* env var or a --set flag), so errors blame that.
	Overrides map[string]string
}
