package release

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var specOpts = cmp.Options{cmpopts.IgnoreUnexported(Spec{}), cmpopts.EquateEmpty()}

func TestResolveSeed(t *testing.T) {
	cfg := parseFile(t, "../examples/seed/relgen.yaml")
	if err := cfg.Validate(fakeStrategies{}); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	base := Spec{
		Release: ReleaseConfig{
			Name: "myapp", Version: "0.1.0", Kind: KindDistillery, Path: "../examples/seed/_build/prod/rel/myapp", // relative to the file,
			Build:  []string{"mix", "distillery.release", "--env=prod"},
			Cookie: CookieRef{Secret: "myapp-cookie", Key: "cookie"},
		},
		Image: ImageConfig{
			Repository: "registry.example.com/acme/myapp", Base: Base{Ref: "debian:bookworm-slim"},
			User: DefaultUser, AppLayers: []string{"myapp"},
		},
		User:      DefaultImageUser,
		Discovery: "peerage", DiscoveryConfig: DiscoveryConfigFile,
		Deployment: DeploymentSpec{
			Name:                   "myapp-deployment",
			Labels:                 map[string]string{"app": "myapp"},
			Replicas:               2,
			Env:                    []EnvVar{{Name: "HOST", Value: "example.com"}},
			TerminationGracePeriod: 30 * time.Second,
			Pod:                    PodSpec{TopologySpread: true},
			Shutdown:               ShutdownSpec{PreStop: DefaultPreStop, Shutdown: DefaultShutdown},
		},
		Topology: Topology{
			Basename: "myapp", HeadlessService: "myapp-service-headless", Service: "myapp",
			Domain: "cluster.local", Selector: map[string]string{"app": "myapp"},
			HTTPPort: 8000, EPMDPort: 4369, DistPort: 9000, Interval: 5 * time.Second, PodIPEnv: "MY_POD_IP",
		},
		Distribution: DistributionSpec{EPMD: true},
	}
	prod := base
	prod.Environment = "prod"
	prod.Topology.Namespace = "default"
	prod.DNSName, prod.AppName = "myapp-service-headless.default.svc.cluster.local", "myapp"

	staging := base
	staging.Environment = "staging"
	staging.Topology.Namespace = "staging"
	staging.Deployment.Env = []EnvVar{{Name: "HOST", Value: "staging.example.com"}}

	for _, want := range []Spec{prod, staging} {
		t.Run(want.Environment, func(t *testing.T) {
			got, err := cfg.Resolve(want.Environment, fakeStrategies{})
			if err != nil {
				t.Fatalf("Resolve(%q) error: %v", want.Environment, err)
			}
			if diff := cmp.Diff(want, *got, specOpts); diff != "" {
				t.Errorf("Resolve(%q) mismatch (-want +got):\n%s", want.Environment, diff)
			}
			if err := got.Errorf("replicas", "x"); !strings.HasPrefix(err.Error(), "../examples/seed/relgen.yaml:") {
				t.Errorf("Errorf() = %q, want it to name the config file", err)
			}
		})
	}
}

func TestResolveDefaults(t *testing.T) {
	got, err := minimal().Resolve("prod", fakeStrategies{})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	labels := map[string]string{"app.kubernetes.io/name": "my-app", "app.kubernetes.io/instance": "my-app"}
	want := Spec{
		Environment: "prod",
		Release: ReleaseConfig{
			Name: "my_app", Kind: KindMix,
			Cookie: CookieRef{Secret: "my-app-cookie", Key: "cookie"},
		},
		Image: ImageConfig{
			Repository: "registry.example.com/acme/my_app", User: "65532", AppLayers: []string{"my_app"},
		},
		User:      DefaultImageUser,
		Discovery: "none", DiscoveryConfig: DiscoveryConfigFile,
		Deployment: DeploymentSpec{
			Name: "my-app", Labels: labels, Replicas: 2, TerminationGracePeriod: 30 * time.Second,
			Pod:      PodSpec{TopologySpread: true},
			Shutdown: ShutdownSpec{PreStop: DefaultPreStop, Shutdown: DefaultShutdown},
		},
		Topology: Topology{
			Basename: "my_app", Namespace: "default", HeadlessService: "my-app-headless", Service: "my-app",
			Domain: "cluster.local", Selector: labels, HTTPPort: 4000, EPMDPort: 4369, DistPort: 9000,
			Interval: 5 * time.Second, PodIPEnv: "POD_IP",
		},
		Distribution: DistributionSpec{EPMD: true},
	}
	if diff := cmp.Diff(want, *got, specOpts); diff != "" {
		t.Errorf("Resolve(prod) of a minimal config mismatch (-want +got):\n%s", diff)
	}
	if got, want := got.Topology.NodeName(), "my_app@${POD_IP}"; got != want {
		t.Errorf("NodeName() = %q, want %q", got, want)
	}
}

func TestObjectName(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "plain", in: "myapp", want: "myapp"},
		{name: "underscores", in: "my_app_web", want: "my-app-web"},
		{name: "capitals", in: "My_App", want: "my-app"},
		{name: "dashes kept", in: "my-app", want: "my-app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ObjectName(tt.in); got != tt.want {
				t.Errorf("ObjectName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTopologyFQDN(t *testing.T) {
	tests := []struct {
		name string
		top  Topology
		want string
	}{
		{name: "default domain", top: Topology{HeadlessService: "myapp-headless", Namespace: "default", Domain: "cluster.local"},
			want: "myapp-headless.default.svc.cluster.local"},
		{name: "custom domain", top: Topology{HeadlessService: "svc", Namespace: "staging", Domain: "k8s.example.org"},
			want: "svc.staging.svc.k8s.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.top.FQDN(); got != tt.want {
				t.Errorf("FQDN() = %q, want %q", got, tt.want)
			}
		})
	}
}

const overridesYAML = `release:
  name: myapp
image:
  repository: registry.example.com/acme/myapp
cluster:
  discovery: none
  interval: 2s
  headless_service: peers
deployment:
  replicas: 2
  port: 8000
  labels: {app: myapp, tier: web}
  env: {HOST: example.com, LOG: info}
  field_env: {NODE: spec.nodeName}
  resources:
    requests: {cpu: 100m}
    limits: {memory: 256Mi}
environments:
  staging:
    namespace: staging
  prod:
    namespace: shop
    replicas: 4
    port: 8080
    discovery: peerage
    interval: 10s
    domain: k8s.example.org
    labels: {tier: api}
    env: {LOG: warn, REGION: eu}
    field_env: {NS: metadata.namespace}
    resources:
      requests: {memory: 128Mi}
`

func TestResolveOverrides(t *testing.T) {
	cfg := parse(t, "relgen.yaml", overridesYAML)
	baseEnv := maps.Clone(cfg.Deployment.Env)
	baseLabels := maps.Clone(cfg.Deployment.Labels)

	prod, err := cfg.Resolve("prod", fakeStrategies{})
	if err != nil {
		t.Fatalf("Resolve(prod): %v", err)
	}
	labels := map[string]string{"app": "myapp", "tier": "api"}
	wantDep := DeploymentSpec{
		Name:     "myapp",
		Labels:   labels,
		Replicas: 4,
		Env:      []EnvVar{{Name: "HOST", Value: "example.com"}, {Name: "LOG", Value: "warn"}, {Name: "REGION", Value: "eu"}},
		FieldEnv: []EnvVar{{Name: "NODE", Value: "spec.nodeName"}, {Name: "NS", Value: "metadata.namespace"}},
		Resources: &Resources{
			Requests: map[string]string{"cpu": "100m", "memory": "128Mi"},
			Limits:   map[string]string{"memory": "256Mi"},
		},
		TerminationGracePeriod: DefaultTerminationGrace,
		Pod:                    PodSpec{TopologySpread: true},
		Shutdown:               ShutdownSpec{PreStop: DefaultPreStop, Shutdown: DefaultShutdown},
	}
	if diff := cmp.Diff(wantDep, prod.Deployment); diff != "" {
		t.Errorf("prod Deployment mismatch (-want +got):\n%s", diff)
	}
	wantTop := Topology{
		Basename: "myapp", Namespace: "shop", HeadlessService: "peers", Service: "myapp",
		Domain: "k8s.example.org", Selector: labels, HTTPPort: 8080, EPMDPort: EPMDPort,
		DistPort: DefaultDistPort, Interval: 10 * time.Second, PodIPEnv: DefaultPodIPEnv,
	}
	if diff := cmp.Diff(wantTop, prod.Topology); diff != "" {
		t.Errorf("prod Topology mismatch (-want +got):\n%s", diff)
	}
	if prod.Discovery != "peerage" {
		t.Errorf("prod Discovery = %q, want %q", prod.Discovery, "peerage")
	}

	staging, err := cfg.Resolve("staging", fakeStrategies{})
	if err != nil {
		t.Fatalf("Resolve(staging): %v", err)
	}
	if got, want := staging.Deployment.Env, []EnvVar{{Name: "HOST", Value: "example.com"}, {Name: "LOG", Value: "info"}}; !cmp.Equal(got, want) {
		t.Errorf("staging env = %v, want the base env %v", got, want)
	}
	if diff := cmp.Diff(map[string]string{"app": "myapp", "tier": "web"}, staging.Deployment.Labels); diff != "" {
		t.Errorf("staging labels mismatch (-want +got):\n%s", diff)
	}
	if staging.Topology.Interval != 2*time.Second || staging.Topology.HTTPPort != 8000 || staging.Discovery != "none" {
		t.Errorf("staging interval, port, discovery = %s, %d, %s; want the base section's 2s, 8000, none",
			staging.Topology.Interval, staging.Topology.HTTPPort, staging.Discovery)
	}

	// Merging must not write prod's overrides into the base maps.
	if diff := cmp.Diff(baseEnv, cfg.Deployment.Env); diff != "" {
		t.Errorf("Resolve changed deployment.env (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(baseLabels, cfg.Deployment.Labels); diff != "" {
		t.Errorf("Resolve changed deployment.labels (-before +after):\n%s", diff)
	}
}

func TestSpecKeyPath(t *testing.T) {
	cfg := parse(t, "relgen.yaml", overridesYAML)
	prod, err := cfg.Resolve("prod", fakeStrategies{})
	if err != nil {
		t.Fatal(err)
	}
	staging, err := cfg.Resolve("staging", fakeStrategies{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		spec     *Spec
		key      string
		wantPath string
		wantLine int
	}{
		{name: "env override", spec: prod, key: "replicas", wantPath: "environments.prod.replicas", wantLine: 23},
		{name: "base value", spec: staging, key: "replicas", wantPath: "deployment.replicas", wantLine: 10},
		{name: "merged map with override", spec: prod, key: "env", wantPath: "environments.prod.env", wantLine: 29},
		{name: "merged map without override", spec: staging, key: "labels", wantPath: "deployment.labels", wantLine: 12},
		{name: "defaulted base key", spec: staging, key: "dist_port", wantPath: "cluster.dist_port", wantLine: 5},
		{name: "namespace", spec: prod, key: "namespace", wantPath: "environments.prod.namespace", wantLine: 22},
		{name: "protected is per environment", spec: staging, key: "protected", wantPath: "environments.staging.protected", wantLine: 19},
		{name: "release kind", spec: prod, key: "kind", wantPath: "release.kind", wantLine: 1},
		{name: "vm.args template", spec: prod, key: "vm_args", wantPath: "release.vm_args", wantLine: 1},
		{name: "unknown name passes through", spec: prod, key: "release.version", wantPath: "release.version", wantLine: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.spec.KeyPath(tt.key); got != tt.wantPath {
				t.Errorf("KeyPath(%q) = %q, want %q", tt.key, got, tt.wantPath)
			}
			err := tt.spec.Errorf(tt.key, "bad %s", "value")
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Errorf(%q) = %T, want *FieldError", tt.key, err)
			}
			want := FieldError{File: "relgen.yaml", Line: tt.wantLine, Path: tt.wantPath, Msg: "bad value"}
			if diff := cmp.Diff(want, *fe); diff != "" {
				t.Errorf("Errorf(%q) mismatch (-want +got):\n%s", tt.key, diff)
			}
		})
	}
}

func TestConfigErrorf(t *testing.T) {
	cfg := parse(t, "relgen.yaml", overridesYAML)
	tests := []struct {
		name, path string
		want       string
	}{
		{name: "key with a line", path: "environments.prod.replicas", want: "relgen.yaml:23: environments.prod.replicas: nope"},
		{name: "missing key falls back to its parent", path: "environments.staging.replicas", want: "relgen.yaml:19: environments.staging.replicas: nope"},
		{name: "map key with dots", path: "deployment.labels.app.kubernetes.io/name", want: "relgen.yaml:12: deployment.labels.app.kubernetes.io/name: nope"},
		{name: "unknown top level", path: "nowhere", want: "relgen.yaml: nowhere: nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cfg.Errorf(tt.path, "nope").Error(); got != tt.want {
				t.Errorf("Errorf(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestOrderEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{name: "empty", env: nil, want: nil},
		{name: "no references stay sorted", env: map[string]string{"B": "b", "A": "a", "C": "c"}, want: []string{"A", "B", "C"}},
		{name: "reference to a later name", env: map[string]string{"A": "http://$(Z):80", "Z": "z"}, want: []string{"Z", "A"}},
		{name: "chain", env: map[string]string{"A": "$(B)", "B": "$(C)-x", "C": "c"}, want: []string{"C", "B", "A"}},
		{name: "several references", env: map[string]string{"URL": "$(SCHEME)://$(HOST)", "HOST": "h", "SCHEME": "https", "A": "a"},
			want: []string{"A", "HOST", "SCHEME", "URL"}},
		{name: "variable not in env is ignored", env: map[string]string{"B": "$(POD_IP)", "A": "a"}, want: []string{"A", "B"}},
		{name: "self reference is not a cycle", env: map[string]string{"PATH": "$(PATH):/app/bin"}, want: []string{"PATH"}},
		{name: "shell syntax is not a reference", env: map[string]string{"A": "${B}", "B": "b"}, want: []string{"A", "B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := orderEnv(tt.env)
			if err != nil {
				t.Fatalf("orderEnv(%v) error: %v", tt.env, err)
			}
			var names []string
			for _, e := range got {
				names = append(names, e.Name)
				if e.Value != tt.env[e.Name] {
					t.Errorf("orderEnv: %s = %q, want %q", e.Name, e.Value, tt.env[e.Name])
				}
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("orderEnv(%v) order mismatch (-want +got):\n%s", tt.env, diff)
			}
		})
	}
}

func TestOrderEnvCycle(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "two", env: map[string]string{"A": "$(B)", "B": "$(A)"}, want: "A -> B -> A"},
		{name: "three", env: map[string]string{"A": "$(B)", "B": "$(C)", "C": "x$(A)", "D": "d"}, want: "A -> B -> C -> A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := orderEnv(tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("orderEnv(%v) error = %v, want a cycle %s", tt.env, err, tt.want)
			}
		})
	}

	// Through Resolve the cycle is a FieldError on the key that set env,
	// and the names in the cycle's env are still checked.
	cfg := minimal()
	cfg.Environments["prod"] = Environment{DeploymentConfig: DeploymentConfig{
		Env: PlainEnv(map[string]string{"A": "$(B)", "B": "$(A)", "ERL_FLAGS": "+S 2"}),
	}}
	_, err := cfg.Resolve("prod", fakeStrategies{})
	var got []string
	for _, fe := range fieldErrorsOf(t, err) {
		got = append(got, fe.Error())
	}
	want := []string{
		"environments.prod.env: $(VAR) references form a cycle: A -> B -> A",
		"environments.prod.env: ERL_FLAGS is set by relgen; remove it",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve with an env cycle: errors mismatch (-want +got):\n%s", diff)
	}
}

func TestResolveUnknownEnvironment(t *testing.T) {
	cfg := minimal()
	cfg.Environments["staging"] = Environment{}
	_, err := cfg.Resolve("qa", fakeStrategies{})
	if !errors.Is(err, ErrUnknownEnvironment) {
		t.Fatalf("Resolve(qa) = %v, want ErrUnknownEnvironment", err)
	}
	want := `environments: unknown environment "qa" (defined: prod, staging)`
	if err.Error() != want {
		t.Errorf("Resolve(qa) = %q, want %q", err, want)
	}
}

func TestResolveOtherEnvironmentDoesNotStopThisOne(t *testing.T) {
	cfg := minimal()
	cfg.Environments["broken"] = Environment{DeploymentConfig: DeploymentConfig{Replicas: ptr[int32](0)}}
	if _, err := cfg.Resolve("prod", fakeStrategies{}); err != nil {
		t.Errorf("Resolve(prod) = %v, want nil: only environment broken is wrong", err)
	}
	if _, err := cfg.Resolve("broken", fakeStrategies{}); err == nil {
		t.Error("Resolve(broken) = nil, want an error for replicas 0")
	}
}

// TestResolveDNSSRV: libcluster-dnssrv connects to <basename>@<SRV
// target>, so the topology names nodes by the pod's stable DNS name.
func TestResolveDNSSRV(t *testing.T) {
	c := minimal()
	c.Cluster.Discovery = "libcluster-dnssrv"
	c.Environments["prod"] = Environment{Namespace: "shop"}
	s, err := c.Resolve("prod", fakeStrategies{})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	top := s.Topology
	if !top.NamedByHostname() || top.PodNameEnv != DefaultPodNameEnv {
		t.Fatalf("PodNameEnv = %q, want %q", top.PodNameEnv, DefaultPodNameEnv)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"NodeName", top.NodeName(), "my_app@${POD_NAME}.my-app-headless.shop.svc.cluster.local"},
		{"NodeHost", top.NodeHost(), "${POD_NAME}.my-app-headless.shop.svc.cluster.local"},
		{"NodeNameEnv", top.NodeNameEnv(), "my_app@$(POD_NAME).my-app-headless.shop.svc.cluster.local"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s() = %q, want %q", tc.name, tc.got, tc.want)
		}
	}

	c.Cluster.Discovery = "libcluster-dns"
	s, err = c.Resolve("prod", fakeStrategies{})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if s.Topology.NamedByHostname() || s.Topology.NodeNameEnv() != "my_app@$(POD_IP)" {
		t.Errorf("libcluster-dns: PodNameEnv = %q, NodeNameEnv() = %q", s.Topology.PodNameEnv, s.Topology.NodeNameEnv())
	}
}
