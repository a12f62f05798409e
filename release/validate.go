package release

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

var (
	// nodeBasename is what Erlang accepts before '@' in a node name and
	// what an OTP release name can be.
	nodeBasename = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	// envName is a variable name that ${VAR} and $(VAR) can refer to.
	envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	envRef  = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	kinds   = []string{KindDistillery, KindMix}
)

// fieldPaths are the Downward API fields a container env var can carry.
var fieldPaths = []string{
	"metadata.name", "metadata.namespace", "metadata.uid",
	"spec.nodeName", "spec.serviceAccountName",
	"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}

// Validate checks the whole config, every environment included, and
// reports every problem at once; strategies are the discovery strategies
// cluster.discovery may name.
func (c *Config) Validate(strategies Strategies) error {
	errs := fieldErrors{origin: c.Origin}
	c.checkBase(&errs)
	if len(errs.errs) == 0 {
		seen := map[string]bool{}
		for _, env := range c.EnvironmentNames() {
			envErrs := fieldErrors{origin: c.Origin}
			c.resolveInto(env, strategies, &envErrs)
			// A mistake in a base section shows up in every environment;
			// report it once.
			for _, err := range envErrs.errs {
				if msg := err.Error(); !seen[msg] {
					seen[msg] = true
					errs.errs = append(errs.errs, err)
				}
			}
		}
	}
	return errs.err()
}

// checkBase checks what does not depend on the environment.
func (c *Config) checkBase(errs *fieldErrors) {
	r := c.Release
	switch {
	case r.Name == "":
		errs.add("release.name", "is required")
	case !nodeBasename.MatchString(r.Name):
		errs.add("release.name", "%q is not a valid node basename (letters, digits, _ and -, starting with a letter)", r.Name)
	default:
		for _, msg := range validation.IsDNS1035Label(ObjectName(r.Name)) {
			errs.add("release.name", "%q gives object name %q: %s", r.Name, ObjectName(r.Name), msg)
		}
	}
	if r.Kind != "" && !slices.Contains(kinds, r.Kind) {
		errs.add("release.kind", "%q is not one of %s", r.Kind, strings.Join(kinds, ", "))
	}
	if r.Cookie.Secret != "" {
		for _, msg := range validation.IsDNS1123Subdomain(r.Cookie.Secret) {
			errs.add("release.cookie.secret", "%q: %s", r.Cookie.Secret, msg)
		}
	}
	if r.Cookie.Key != "" {
		for _, msg := range validation.IsConfigMapKey(r.Cookie.Key) {
			errs.add("release.cookie.key", "%q: %s", r.Cookie.Key, msg)
		}
	}
	if c.Image.Repository == "" {
		errs.add("image.repository", "is required (the registry repository the image is pushed to)")
	} else if _, err := ParseRepository(c.Image.Repository); err != nil {
		errs.add("image.repository", "%w", err)
	}
	for _, platform := range slices.Sorted(maps.Keys(c.Release.Paths)) {
		switch {
		case !platformSyntax.MatchString(platform):
			errs.add("release.paths."+platform, "%q is not a platform: want OS/ARCH[/VARIANT], e.g. linux/arm64", platform)
		case len(c.Image.Platforms) > 0 && !slices.Contains(c.Image.Platforms, platform):
			errs.add("release.paths."+platform, "platform %s is not in image.platforms %v", platform, c.Image.Platforms)
		}
	}
	for _, pkg := range c.Image.Base.Debian {
		if !debianPackage.MatchString(pkg) {
			errs.add("image.base.debian", "%q is not a Debian package name (lower case letters, digits, + - .)", pkg)
		}
	}
	if _, err := c.User(); err != nil {
		errs.errs = append(errs.errs, err)
	}
	if len(c.Environments) == 0 {
		errs.add("environments", "define at least one environment (e.g. prod: {namespace: default})")
	}
	for _, name := range c.EnvironmentNames() {
		if !nodeBasename.MatchString(name) {
			errs.add("environments."+name, "environment name %q must be letters, digits, _ and -", name)
		}
	}
}

// platformSyntax is an OCI platform as relgen writes one: os/arch[/variant].
var platformSyntax = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)

// debianPackage is Debian policy's package name syntax (5.6.1), with an
// optional =version.
var debianPackage = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$`)

// resolveInto resolves env and adds its problems to errs; it returns nil
// when there were any.
func (c *Config) resolveInto(env string, strategies Strategies, errs *fieldErrors) *Spec {
	s, err := c.resolveEnv(env, strategies)
	if err != nil {
		errs.errs = append(errs.errs, Split(err)...)
		return nil
	}
	return s
}

// check validates the resolved values of one environment.
func (s *Spec) check(errs *fieldErrors, strategies Strategies) {
	add := func(name, format string, args ...any) { errs.add(s.KeyPath(name), format, args...) }
	t, d := s.Topology, s.Deployment

	strategy, known := strategies.Lookup(s.Discovery)
	if !known {
		add("discovery", "%q is not one of %s", s.Discovery, strings.Join(strategies.Names(), ", "))
	}
	if s.DiscoveryConfig != DiscoveryConfigFile && s.DiscoveryConfig != DiscoveryConfigEnv {
		add("discovery_config", "%q is not one of %s, %s", s.DiscoveryConfig, DiscoveryConfigFile, DiscoveryConfigEnv)
	}
	for _, msg := range validation.IsDNS1123Label(t.Namespace) {
		add("namespace", "%q: %s", t.Namespace, msg)
	}
	for _, msg := range validation.IsDNS1035Label(t.HeadlessService) {
		add("headless_service", "%q: %s", t.HeadlessService, msg)
	}
	if t.HeadlessService == t.Service {
		add("headless_service", "%q is also the name of the ClusterIP Service; choose another name", t.HeadlessService)
	}
	for _, msg := range validation.IsDNS1123Subdomain(d.Name) {
		add("name", "%q: %s", d.Name, msg)
	}
	for _, msg := range validation.IsDNS1123Subdomain(t.Domain) {
		add("domain", "%q: %s", t.Domain, msg)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Labels)) {
		for _, msg := range validation.IsQualifiedName(k) {
			add("labels", "label key %q: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(d.Labels[k]) {
			add("labels", "label %s value %q: %s", k, d.Labels[k], msg)
		}
		if k == "app.kubernetes.io/version" {
			add("labels", "%s must not be a selector label: the selector has to stay the same across versions", k)
		}
	}
	if d.Replicas < 1 {
		add("replicas", "must be at least 1, got %d", d.Replicas)
	}
	s.checkPorts(add)
	intervalOK := false
	if t.Interval <= 0 {
		add("interval", "must be positive, got %s", t.Interval)
	} else if t.Interval%time.Millisecond != 0 {
		add("interval", "%s: discovery polls in whole milliseconds", t.Interval)
	} else {
		intervalOK = true
	}
	if !envName.MatchString(t.PodIPEnv) {
		add("pod_ip_env", "%q is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", t.PodIPEnv)
	}
	if t.NamedByHostname() && t.PodIPEnv == t.PodNameEnv {
		add("pod_ip_env", "%s is the pod name's variable under discovery %s; choose another name", t.PodIPEnv, s.Discovery)
	}
	if d.TerminationGracePeriod < 0 || d.TerminationGracePeriod%time.Second != 0 {
		add("termination_grace_period", "%s must be a non-negative whole number of seconds", d.TerminationGracePeriod)
	}
	if d.HealthPath != "" && !strings.HasPrefix(d.HealthPath, "/") {
		add("health_path", "%q must start with /", d.HealthPath)
	}
	var strategyEnv []string
	if known && intervalOK {
		// What a strategy checks and sets builds on the general rules
		// above; a broken interval would only repeat itself.
		strategy.Check(t, add)
		strategyEnv = strategy.Env(t, s.DiscoveryConfig)
	}
	s.checkEnv(add, strategyEnv)
	s.checkEnvRefs(add)
	s.checkIngress(add)
	s.checkJobs(add, strategyEnv)
	s.checkPod(add)
	s.checkShutdown(add)
	s.checkResources(add)
	s.checkAutoscaling(add)
	s.checkDistribution(add)
	if s.DNSName != "" && s.DNSName != t.FQDN() {
		add("dns_name", "%q does not match the headless Service %s in namespace %s, whose DNS name is %q",
			s.DNSName, t.HeadlessService, t.Namespace, t.FQDN())
	}
	if s.AppName != "" && s.AppName != t.Basename {
		add("app_name", "%q does not match the node basename %q (release.name)", s.AppName, t.Basename)
	}
}

func (s *Spec) checkPorts(add func(name, format string, args ...any)) {
	t := s.Topology
	for _, p := range []struct {
		name string
		port int32
	}{{"port", t.HTTPPort}, {"dist_port", t.DistPort}} {
		switch {
		case p.port < 1 || p.port > 65535:
			add(p.name, "%d is not a port number (1-65535)", p.port)
		case p.port < 1024:
			add(p.name, "%d: the container runs as non-root user %s and cannot bind ports below 1024", p.port, s.Image.User)
		case p.port == EPMDPort:
			add(p.name, "%d is epmd's port", p.port)
		}
	}
	if t.HTTPPort == t.DistPort {
		add("dist_port", "%d is also the app port (deployment.port)", t.DistPort)
	}
}

// checkEnv checks the user's env; strategyEnv are the vars the discovery
// strategy sets.
func (s *Spec) checkEnv(add func(name, format string, args ...any), strategyEnv []string) {
	d := s.Deployment
	reserved := append(ReservedEnv(), s.Topology.PodIPEnv)
	if t := s.Topology; t.NamedByHostname() {
		reserved = append(reserved, t.PodNameEnv)
	}
	// The strategy's own vars get a message naming it: they differ
	// between strategies and routes.
	byStrategy := func(name string) string {
		if slices.Contains(strategyEnv, name) && !slices.Contains(reserved, name) {
			return fmt.Sprintf(" for discovery %s (discovery_config %s)", s.Discovery, s.DiscoveryConfig)
		}
		return ""
	}
	isReserved := func(name string) bool { return slices.Contains(reserved, name) || slices.Contains(strategyEnv, name) }
	fieldNames := map[string]bool{}
	for _, e := range d.FieldEnv {
		fieldNames[e.Name] = true
		if !envName.MatchString(e.Name) {
			add("field_env", "%q is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", e.Name)
		}
		if isReserved(e.Name) {
			add("field_env", "%s is set by relgen%s; remove it", e.Name, byStrategy(e.Name))
		}
		if !slices.Contains(fieldPaths, e.Value) && !isLabelField(e.Value) {
			add("field_env", "%s: %q is not a Downward API field (one of %s, metadata.labels['KEY'], metadata.annotations['KEY'])",
				e.Name, e.Value, strings.Join(fieldPaths, ", "))
		}
	}
	for _, e := range d.Env {
		if !envName.MatchString(e.Name) {
			add("env", "%q is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", e.Name)
		}
		if isReserved(e.Name) {
			add("env", "%s is set by relgen%s; remove it", e.Name, byStrategy(e.Name))
		}
		if fieldNames[e.Name] {
			add("env", "%s is also in field_env", e.Name)
		}
	}
}

func isLabelField(p string) bool {
	for _, prefix := range []string{"metadata.labels['", "metadata.annotations['"} {
		if strings.HasPrefix(p, prefix) && strings.HasSuffix(p, "']") && len(p) > len(prefix)+2 {
			return true
		}
	}
	return false
}

func (s *Spec) checkResources(add func(name, format string, args ...any)) {
	r := s.Deployment.Resources
	if r == nil {
		return
	}
	for _, part := range []struct {
		name string
		m    map[string]string
	}{{"resources.requests", r.Requests}, {"resources.limits", r.Limits}} {
		for _, k := range slices.Sorted(maps.Keys(part.m)) {
			if _, err := resource.ParseQuantity(part.m[k]); err != nil {
				add(part.name, "%s: %q is not a quantity (e.g. 250m, 512Mi)", k, part.m[k])
			}
		}
	}
}

func (s *Spec) checkAutoscaling(add func(name, format string, args ...any)) {
	a := s.Deployment.Autoscaling
	if a == nil {
		return
	}
	switch {
	case a.Min < 1:
		add("autoscaling", "min must be at least 1, got %d", a.Min)
	case a.Max == 0:
		add("autoscaling", "max is required")
	case a.Max < a.Min:
		add("autoscaling", "max %d is below min %d", a.Max, a.Min)
	}
	if a.CPU < 1 || a.CPU > 100 {
		add("autoscaling", "cpu is a target utilisation in percent (1-100), got %d", a.CPU)
	}
	if r := s.Deployment.Resources; r == nil || r.Requests["cpu"] == "" {
		add("autoscaling", "scaling on CPU utilisation needs deployment.resources.requests.cpu: utilisation is measured against it")
	}
}

// EnvRefs lists the variables a container env value refers to with
// Kubernetes' $(VAR) syntax, in order of appearance.
func EnvRefs(value string) []string {
	var out []string
	for _, m := range envRef.FindAllStringSubmatch(value, -1) {
		out = append(out, m[1])
	}
	return out
}

// orderEnv orders env so that every $(VAR) reference to another user
// variable comes after that variable's definition, as Kubernetes expands
// only earlier entries. Otherwise names stay sorted, so output is stable.
func orderEnv(env map[string]string) ([]EnvVar, error) {
	names := slices.Sorted(maps.Keys(env))
	var out []EnvVar
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var visit func(name string, chain []string) error
	visit = func(name string, chain []string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("$(VAR) references form a cycle: %s", strings.Join(append(chain, name), " -> "))
		case 2:
			return nil
		}
		state[name] = 1
		for _, ref := range EnvRefs(env[name]) {
			if _, ok := env[ref]; ok && ref != name {
				if err := visit(ref, append(chain, name)); err != nil {
					return err
				}
			}
		}
		state[name] = 2
		out = append(out, EnvVar{Name: name, Value: env[name]})
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
