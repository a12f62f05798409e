package release

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Defaults applied by Resolve when neither the base sections nor the
// environment set a key.
const (
	DefaultKind                   = KindMix
	DefaultDiscovery              = "none" // clusters nothing; manifests/discovery registers every strategy
	DefaultInterval               = 5 * time.Second
	DefaultDomain                 = "cluster.local"
	DefaultDistPort         int32 = 9000
	DefaultPort             int32 = 4000
	DefaultReplicas         int32 = 2
	DefaultPodIPEnv               = "POD_IP"
	DefaultPodNameEnv             = "POD_NAME" // when nodes are named by hostname
	DefaultUser                   = "65532"
	DefaultCookieKey              = "cookie"
	DefaultNamespace              = "default"
	DefaultTerminationGrace       = 30 * time.Second
	DefaultAutoscalingCPU   int32 = 80
	// CookieEnv is the container env var that carries the cookie from its
	// Secret. mix releases read it natively; the Distillery vm.args
	// template refers to it as ${RELEASE_COOKIE}.
	CookieEnv = "RELEASE_COOKIE"
)

// Spec is one environment's fully resolved configuration: defaults applied,
// overrides merged, every shared name derived once in Topology.
type Spec struct {
	// Environment is the environment's name, e.g. prod.
	Environment string
	Protected   bool
	// CreateNamespace adds the Namespace object to the bundle.
	CreateNamespace bool

	Release ReleaseConfig
	Image   ImageConfig
	// User is Image.User parsed: the uid and gid the pod runs as.
	User      User
	Discovery string
	// DiscoveryConfig is DiscoveryConfigFile or DiscoveryConfigEnv.
	DiscoveryConfig string
	Deployment      DeploymentSpec
	Topology        Topology
	// Distribution is how the nodes talk to each other: with or without
	// epmd, over TCP or TLS.
	Distribution DistributionSpec

	// DNSName and AppName are the values the config asserted, if any;
	// Resolve has checked that they agree with Topology.
	DNSName, AppName string

	origin Origin
	// paths maps a key name (replicas, dns_name, ...) to the key path that
	// set it in this environment, for error messages.
	paths map[string]string
}

// DeploymentSpec is the resolved deployment section.
type DeploymentSpec struct {
	Name string
	// Labels are the pod labels that the selector uses: stable, never the
	// version.
	Labels   map[string]string
	Replicas int32
	// Env is the user's env in an order where every $(VAR) reference
	// points at an earlier entry.
	Env []EnvVar
	// EnvFrom are the Secrets and ConfigMaps imported whole.
	EnvFrom                []EnvFrom
	FieldEnv               []EnvVar
	Resources              *Resources
	TerminationGracePeriod time.Duration
	HealthPath             string
	// Autoscaling is set when a HorizontalPodAutoscaler owns the replica
	// count.
	Autoscaling *AutoscalingSpec
	// Ingress is set when an Ingress routes traffic to the app.
	Ingress *IngressSpec
	// Jobs are the release commands, sorted by name.
	Jobs []JobSpec
	// Pod is how the pods are pulled, identified and placed.
	Pod PodSpec
	// Shutdown is how a pod stops.
	Shutdown ShutdownSpec
}

// AutoscalingSpec is the resolved autoscaling section.
type AutoscalingSpec struct {
	Min, Max, CPU int32
}

// EnvVar is one container env entry. For FieldEnv, Value is the
// Downward API fieldPath.
type EnvVar struct {
	Name, Value string
	// From, when set, is the Secret or ConfigMap key the value comes
	// from instead of Value.
	From *EnvValue
}

// Topology holds every name and number that two artefacts share: the node
// basename in vm.args and in discovery config, the headless Service that
// DNS discovery queries, its namespace, the ports. It is derived once, in
// Resolve, and passed down to every generator.
type Topology struct {
	// Basename is the node name's part before '@' (the release name).
	Basename string
	// Namespace is the environment's Kubernetes namespace.
	Namespace string
	// HeadlessService returns every pod's IP from DNS.
	HeadlessService string
	// Service is the ordinary ClusterIP Service for app traffic.
	Service string
	// Domain is the cluster DNS domain, usually cluster.local.
	Domain string
	// Selector are the pod labels every Service and policy selects on.
	Selector map[string]string
	HTTPPort int32
	// EPMDPort is epmd's port, or 0 when the nodes run without epmd
	// (cluster.epmd: false) and only DistPort is open.
	EPMDPort int32
	DistPort int32
	// Interval is how often discovery polls, as one duration.
	Interval time.Duration
	// PodIPEnv is the env var carrying the pod IP, the node name's host
	// unless PodNameEnv is set.
	PodIPEnv string
	// PodNameEnv, when set, is the env var carrying the pod's name
	// (Downward API metadata.name), and nodes are named by the pod's
	// stable DNS name <pod>.<headless svc>.<ns>.svc.<domain> instead of
	// its IP. Only a StatefulSet whose serviceName is the headless Service
	// gives pods that name; libcluster-dnssrv needs it, because it
	// connects to <basename>@<SRV target>.
	PodNameEnv string
}

// NamedByHostname reports whether nodes are named by their pod's stable
// DNS name, which makes the workload a StatefulSet.
func (t Topology) NamedByHostname() bool { return t.PodNameEnv != "" }

// FQDN is the headless Service's DNS name, <svc>.<ns>.svc.<domain>.
func (t Topology) FQDN() string {
	return fmt.Sprintf("%s.%s.svc.%s", t.HeadlessService, t.Namespace, t.Domain)
}

// NodeName is the long node name with runtime placeholders in the ${VAR}
// syntax of vm.args, e.g. myapp@${POD_IP}, or
// myapp@${POD_NAME}.myapp-headless.ns.svc.cluster.local when nodes are
// named by hostname.
func (t Topology) NodeName() string {
	return t.Basename + "@" + t.NodeHost()
}

// NodeHost is NodeName's part after '@', with ${VAR} placeholders.
func (t Topology) NodeHost() string { return t.nodeHost("${", "}") }

// NodeNameEnv is NodeName in the $(VAR) syntax Kubernetes expands in
// container env values (for RELEASE_NODE).
func (t Topology) NodeNameEnv() string {
	return t.Basename + "@" + t.nodeHost("$(", ")")
}

func (t Topology) nodeHost(open, closing string) string {
	if t.NamedByHostname() {
		return open + t.PodNameEnv + closing + "." + t.FQDN()
	}
	return open + t.PodIPEnv + closing
}

// Errorf returns a FieldError for the key that set name in this
// environment (e.g. "replicas" → environments.prod.replicas when prod
// overrides it, else deployment.replicas).
func (s *Spec) Errorf(name, format string, args ...any) error {
	return s.origin.errorf(s.KeyPath(name), format, args...)
}

// KeyPath is the dotted config path that set the key name in this
// environment. Unknown names are returned unchanged.
func (s *Spec) KeyPath(name string) string {
	if p, ok := s.paths[name]; ok {
		return p
	}
	return name
}

// EnvironmentNames lists the configured environments, sorted.
func (c *Config) EnvironmentNames() []string {
	return slices.Sorted(maps.Keys(c.Environments))
}

// ObjectName turns a release name into a Kubernetes object name: Elixir
// release names are atoms like my_app, which Kubernetes names cannot hold.
func ObjectName(release string) string {
	return strings.ReplaceAll(strings.ToLower(release), "_", "-")
}

// Resolve validates what the environment env depends on and returns its
// spec; strategies are the discovery strategies cluster.discovery may
// name. All problems are reported at once as FieldErrors; a problem in
// another environment does not stop this one.
func (c *Config) Resolve(env string, strategies Strategies) (*Spec, error) {
	errs := fieldErrors{origin: c.Origin}
	c.checkBase(&errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	if _, ok := c.Environments[env]; !ok {
		names := c.EnvironmentNames()
		err := c.Origin.errorf("environments", "unknown environment %q (defined: %s)", env, strings.Join(names, ", "))
		err.Err = ErrUnknownEnvironment
		return nil, err
	}
	return c.resolveEnv(env, strategies)
}

// resolveEnv merges one environment over the base sections, applies
// defaults, derives the Topology and checks the result.
func (c *Config) resolveEnv(env string, strategies Strategies) (*Spec, error) {
	e := c.Environments[env]
	m := merger{env: env, paths: map[string]string{}}
	m.paths["protected"] = m.envPath("protected")
	m.paths["vm_args"] = "release.vm_args"
	s := &Spec{Environment: env, Protected: e.Protected, CreateNamespace: e.CreateNamespace, Release: c.Release, Image: c.Image, origin: c.Origin, paths: m.paths}
	if err := c.resolveRelease(s, &m); err != nil {
		return nil, err
	}
	c.resolveDeployment(s, &m, e)
	c.resolveTopology(s, &m, e, strategies)
	c.resolveDistribution(s, &m, e)

	s.Deployment.EnvFrom = pick(&m, "env_from", "deployment.env_from", nilIfEmpty(c.Deployment.EnvFrom), nilIfEmpty(e.EnvFrom), nil)
	userEnv := m.envMap("env", "deployment.env", c.Deployment.Env, e.Env)
	var errs fieldErrors
	errs.origin = c.Origin
	userEnv = s.deriveHostEnv(userEnv, &errs)
	s.Deployment.Pod = m.pod(c.Deployment.PodConfig, e.PodConfig, &errs)
	s.Deployment.Shutdown = m.shutdown(c.Deployment.ShutdownConfig, e.ShutdownConfig)
	// On a cycle the entries come back sorted, so every name (reserved,
	// malformed) is still checked below.
	ordered, err := withRefs(userEnv)
	if err != nil {
		errs.add(s.KeyPath("env"), "%v", err)
	}
	s.Deployment.Env = ordered
	var jobErrs []error
	s.Deployment.Jobs, jobErrs = m.jobs(c.Deployment.Jobs, e.Jobs, userEnv)
	if err == nil {
		// A cycle in deployment.env is reported once, above.
		for _, err := range jobErrs {
			errs.add(s.KeyPath("jobs"), "%v", err)
		}
	}
	s.check(&errs, strategies)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// resolveRelease fills the release and image parts of s: the kind, the
// cookie's Secret, the parsed user and the own apps' layers.
func (c *Config) resolveRelease(s *Spec, m *merger) error {
	s.Release.Kind = m.str("kind", "release.kind", c.Release.Kind, "", DefaultKind)
	obj := ObjectName(c.Release.Name)
	if s.Release.Cookie.Secret == "" {
		s.Release.Cookie.Secret = obj + "-cookie"
	}
	if s.Release.Cookie.Key == "" {
		s.Release.Cookie.Key = DefaultCookieKey
	}
	if s.Image.User == "" {
		s.Image.User = DefaultUser
	}
	user, err := c.User()
	if err != nil {
		return err
	}
	s.User = user
	if len(s.Image.AppLayers) == 0 {
		s.Image.AppLayers = []string{c.Release.Name}
	}
	return nil
}

// resolveDeployment fills the workload's part of s: discovery choice,
// asserted names, labels, replicas, resources and probes. The user env is
// ordered by resolveEnv, which reports its cycles.
func (c *Config) resolveDeployment(s *Spec, m *merger, e Environment) {
	obj := ObjectName(c.Release.Name)
	d, ec := c.Deployment, e.DeploymentConfig
	cl, ecl := c.Cluster, e.ClusterConfig
	s.Discovery = m.str("discovery", "cluster.discovery", cl.Discovery, ecl.Discovery, DefaultDiscovery)
	s.DiscoveryConfig = m.str("discovery_config", "cluster.discovery_config", cl.DiscoveryConfig, ecl.DiscoveryConfig, DiscoveryConfigFile)
	s.DNSName = m.str("dns_name", "cluster.dns_name", cl.DNSName, ecl.DNSName, "")
	s.AppName = m.str("app_name", "cluster.app_name", cl.AppName, ecl.AppName, "")

	labels := m.strMap("labels", "deployment.labels", d.Labels, ec.Labels)
	if len(labels) == 0 {
		labels = map[string]string{"app.kubernetes.io/name": obj, "app.kubernetes.io/instance": obj}
	}
	s.Deployment = DeploymentSpec{
		Name:                   m.str("name", "deployment.name", d.Name, ec.Name, obj),
		Labels:                 labels,
		Replicas:               pick(m, "replicas", "deployment.replicas", d.Replicas, ec.Replicas, DefaultReplicas),
		Resources:              m.resources(d.Resources, ec.Resources),
		TerminationGracePeriod: pick(m, "termination_grace_period", "deployment.termination_grace_period", d.TerminationGracePeriod, ec.TerminationGracePeriod, DefaultTerminationGrace),
		HealthPath:             m.str("health_path", "deployment.health_path", d.HealthPath, ec.HealthPath, ""),
		Ingress:                m.ingress(d.Ingress, ec.Ingress),
	}
	if a := pick(m, "autoscaling", "deployment.autoscaling", d.Autoscaling, ec.Autoscaling, Autoscaling{}); a != (Autoscaling{}) {
		s.Deployment.Autoscaling = &AutoscalingSpec{Min: deref(a.Min, 1), Max: deref(a.Max, 0), CPU: deref(a.CPU, DefaultAutoscalingCPU)}
	}
	s.Deployment.FieldEnv = sortedEnv(m.strMap("field_env", "deployment.field_env", d.FieldEnv, ec.FieldEnv))
}

// resolveTopology derives the names and ports every part of the bundle
// shares (release.Topology) from the resolved deployment and the cluster
// section.
func (c *Config) resolveTopology(s *Spec, m *merger, e Environment, strategies Strategies) {
	obj := ObjectName(c.Release.Name)
	d, ec := c.Deployment, e.DeploymentConfig
	cl, ecl := c.Cluster, e.ClusterConfig
	s.Topology = Topology{
		Basename:        c.Release.Name,
		Namespace:       m.str("namespace", "", "", e.Namespace, DefaultNamespace),
		HeadlessService: m.str("headless_service", "cluster.headless_service", cl.HeadlessService, ecl.HeadlessService, obj+"-headless"),
		Service:         obj,
		Domain:          m.str("domain", "cluster.domain", cl.Domain, ecl.Domain, DefaultDomain),
		Selector:        s.Deployment.Labels,
		HTTPPort:        pick(m, "port", "deployment.port", d.Port, ec.Port, DefaultPort),
		EPMDPort:        EPMDPort,
		DistPort:        pick(m, "dist_port", "cluster.dist_port", cl.DistPort, ecl.DistPort, DefaultDistPort),
		Interval:        pick(m, "interval", "cluster.interval", cl.Interval, ecl.Interval, DefaultInterval),
		PodIPEnv:        m.str("pod_ip_env", "cluster.pod_ip_env", cl.PodIPEnv, ecl.PodIPEnv, DefaultPodIPEnv),
	}
	if strategy, known := strategies.Lookup(s.Discovery); known && strategy.NamedByHostname() {
		s.Topology.PodNameEnv = DefaultPodNameEnv
	}
}

// merger picks each value from the environment, else the base section,
// else a default, and remembers which key path supplied it.
type merger struct {
	env   string
	paths map[string]string
}

func (m *merger) envPath(name string) string { return "environments." + m.env + "." + name }

func (m *merger) str(name, basePath, base, override, def string) string {
	switch {
	case override != "":
		m.paths[name] = m.envPath(name)
		return override
	case base != "":
		m.paths[name] = basePath
		return base
	}
	m.paths[name] = m.defaultPath(name, basePath)
	return def
}

// defaultPath blames the environment's key for a defaulted value when
// there is no base section key to blame (namespace).
func (m *merger) defaultPath(name, basePath string) string {
	if basePath == "" {
		return m.envPath(name)
	}
	return basePath
}

// pick returns the environment's value, else the base section's, else
// def, recording which key path supplied it under name.
func pick[T any](m *merger, name, basePath string, base, override *T, def T) T {
	switch {
	case override != nil:
		m.paths[name] = m.envPath(name)
		return *override
	case base != nil:
		m.paths[name] = basePath
		return *base
	}
	m.paths[name] = basePath
	return def
}

// strMap merges override over base key by key.
func (m *merger) strMap(name, basePath string, base, override map[string]string) map[string]string {
	m.paths[name] = basePath
	if len(override) > 0 {
		m.paths[name] = m.envPath(name)
	}
	if len(base) == 0 && len(override) == 0 {
		return nil
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, override)
	return out
}

func (m *merger) resources(base, override *Resources) *Resources {
	if base == nil && override == nil {
		return nil
	}
	var b, o Resources
	if base != nil {
		b = *base
	}
	if override != nil {
		o = *override
	}
	r := &Resources{
		Requests: m.strMap("resources.requests", "deployment.resources.requests", b.Requests, o.Requests),
		Limits:   m.strMap("resources.limits", "deployment.resources.limits", b.Limits, o.Limits),
	}
	return r
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func sortedEnv(m map[string]string) []EnvVar {
	out := make([]EnvVar, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, EnvVar{Name: k, Value: m[k]})
	}
	return out
}
