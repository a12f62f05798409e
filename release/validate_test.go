package release

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateReportsEveryProblem(t *testing.T) {
	const text = `release:
  name: myapp
image:
  repository: registry.example.com/acme/myapp
cluster:
  discovery: peerage
deployment:
  replicas: 0
  port: 80
environments:
  staging:
    namespace: Staging
    interval: 1500ms
  prod:
    namespace: default
    env: {RELEASE_COOKIE: abc}
    app_name: other
`
	cfg := parse(t, "relgen.yaml", text)
	err := cfg.Validate(fakeStrategies{})
	// The base section's replicas and port are wrong in both environments
	// but reported once; each environment adds its own problems.
	want := []located{
		{8, "deployment.replicas"},
		{9, "deployment.port"},
		{16, "environments.prod.env"},
		{17, "environments.prod.app_name"},
		{12, "environments.staging.namespace"},
		{13, "environments.staging.interval"},
	}
	if diff := cmp.Diff(want, locations(t, err)); diff != "" {
		t.Errorf("Validate() locations mismatch (-want +got):\n%s\nerror:\n%v", diff, err)
	}
}

func TestValidateBaseProblemsFirst(t *testing.T) {
	cfg := &Config{
		Release:      ReleaseConfig{Kind: "rebar", Cookie: CookieRef{Secret: "Not_A_Name"}},
		Image:        ImageConfig{User: "root"},
		Environments: map[string]Environment{"prod.eu": {DeploymentConfig: DeploymentConfig{Replicas: ptr[int32](0)}}},
	}
	want := []located{
		{0, "release.name"},
		{0, "release.kind"},
		{0, "release.cookie.secret"},
		{0, "image.repository"},
		{0, "image.user"},
		{0, "environments.prod.eu"},
	}
	// The environment's replicas: 0 is not reported: with the base
	// broken, names derived from it would only add noise.
	if diff := cmp.Diff(want, locations(t, cfg.Validate(fakeStrategies{}))); diff != "" {
		t.Errorf("Validate() locations mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, locations(t, func() error { _, err := cfg.Resolve("prod.eu", fakeStrategies{}); return err }())); diff != "" {
		t.Errorf("Resolve() locations mismatch (-want +got):\n%s", diff)
	}
}

func TestValidateNoEnvironments(t *testing.T) {
	cfg := minimal()
	cfg.Environments = nil
	want := []located{{0, "environments"}}
	if diff := cmp.Diff(want, locations(t, cfg.Validate(fakeStrategies{}))); diff != "" {
		t.Errorf("Validate() locations mismatch (-want +got):\n%s", diff)
	}
}

// check resolves prod of a minimal config changed by edit and returns its
// problems as "path: message" lines.
func check(t *testing.T, edit func(c *Config, prod *Environment)) []string {
	t.Helper()
	cfg := minimal()
	prod := cfg.Environments["prod"]
	edit(cfg, &prod)
	cfg.Environments["prod"] = prod
	_, err := cfg.Resolve("prod", fakeStrategies{})
	var out []string
	for _, fe := range fieldErrorsOf(t, err) {
		out = append(out, fe.Path+": "+fe.Msg)
	}
	return out
}

func TestResolveChecks(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config, prod *Environment)
		// want are substrings of the problems, one per problem, in order.
		want []string
	}{
		{
			name: "valid",
			edit: func(c *Config, p *Environment) {},
		},
		{
			name: "dns_name in another namespace",
			edit: func(c *Config, p *Environment) {
				p.Namespace = "shop"
				c.Cluster.DNSName = "my-app-headless.default.svc.cluster.local"
			},
			want: []string{`cluster.dns_name: "my-app-headless.default.svc.cluster.local" does not match the headless Service my-app-headless in namespace shop, whose DNS name is "my-app-headless.shop.svc.cluster.local"`},
		},
		{
			name: "dns_name for another service, set in the environment",
			edit: func(c *Config, p *Environment) { p.DNSName = "myapp-service-headless.default.svc.cluster.local" },
			want: []string{`environments.prod.dns_name: "myapp-service-headless.default.svc.cluster.local" does not match`},
		},
		{
			name: "dns_name that matches",
			edit: func(c *Config, p *Environment) {
				p.Namespace, p.Domain, p.HeadlessService = "shop", "k8s.local", "peers"
				p.DNSName = "peers.shop.svc.k8s.local"
			},
		},
		{
			name: "app_name mismatch",
			edit: func(c *Config, p *Environment) { c.Cluster.AppName = "my-app" },
			want: []string{`cluster.app_name: "my-app" does not match the node basename "my_app" (release.name)`},
		},
		{
			name: "a strategy's own check, located",
			edit: func(c *Config, p *Environment) { p.Discovery, p.Interval = "peerage", dur("1500ms") },
			want: []string{"environments.prod.interval: 1.5s: not whole seconds"},
		},
		{
			name: "peerage with whole seconds",
			edit: func(c *Config, p *Environment) { c.Cluster.Discovery, c.Cluster.Interval = "peerage", dur("2m") },
		},
		{
			name: "sub-second interval is fine for other discovery",
			edit: func(c *Config, p *Environment) {
				c.Cluster.Discovery, c.Cluster.Interval = "libcluster-dns", dur("1500ms")
			},
		},
		{
			name: "sub-millisecond interval",
			edit: func(c *Config, p *Environment) { c.Cluster.Interval = dur("1500us") },
			want: []string{"cluster.interval: 1.5ms: discovery polls in whole milliseconds"},
		},
		{
			name: "zero interval",
			edit: func(c *Config, p *Environment) { p.Interval = dur("0s") },
			want: []string{"environments.prod.interval: must be positive, got 0s"},
		},
		{
			name: "unknown discovery",
			edit: func(c *Config, p *Environment) { c.Cluster.Discovery = "consul" },
			want: []string{`cluster.discovery: "consul" is not one of peerage, libcluster-dns`},
		},
		{
			name: "privileged port",
			edit: func(c *Config, p *Environment) { p.Port = ptr[int32](80) },
			want: []string{"environments.prod.port: 80: the container runs as non-root user 65532 and cannot bind ports below 1024"},
		},
		{
			name: "privileged port names the configured user",
			edit: func(c *Config, p *Environment) { c.Image.User = "1000:1000"; c.Cluster.DistPort = ptr[int32](1023) },
			want: []string{"cluster.dist_port: 1023: the container runs as non-root user 1000:1000"},
		},
		{
			name: "port 1024 is fine",
			edit: func(c *Config, p *Environment) { p.Port = ptr[int32](1024) },
		},
		{
			name: "not a port",
			edit: func(c *Config, p *Environment) { c.Deployment.Port = ptr[int32](0); p.DistPort = ptr[int32](70000) },
			want: []string{"deployment.port: 0 is not a port number", "environments.prod.dist_port: 70000 is not a port number"},
		},
		{
			name: "epmd port and clash",
			edit: func(c *Config, p *Environment) { p.Port, p.DistPort = ptr[int32](4369), ptr[int32](4369) },
			want: []string{"environments.prod.port: 4369 is epmd's port", "environments.prod.dist_port: 4369 is epmd's port",
				"environments.prod.dist_port: 4369 is also the app port"},
		},
		{
			name: "replicas",
			edit: func(c *Config, p *Environment) { p.Replicas = ptr[int32](-1) },
			want: []string{"environments.prod.replicas: must be at least 1, got -1"},
		},
		{
			name: "namespace and headless service names",
			edit: func(c *Config, p *Environment) { p.Namespace = "Prod"; c.Cluster.HeadlessService = "my-app" },
			want: []string{`environments.prod.namespace: "Prod": a lowercase RFC 1123 label`,
				`cluster.headless_service: "my-app" is also the name of the ClusterIP Service`},
		},
		{
			name: "version label in the selector",
			edit: func(c *Config, p *Environment) {
				c.Deployment.Labels = map[string]string{"app.kubernetes.io/version": "1", "example.com/Team": "Core"}
			},
			want: []string{"deployment.labels: app.kubernetes.io/version must not be a selector label"},
		},
		{
			name: "bad label key",
			edit: func(c *Config, p *Environment) { p.Labels = map[string]string{"bad key": "x"} },
			want: []string{`environments.prod.labels: label key "bad key"`},
		},
		{
			name: "field_env",
			edit: func(c *Config, p *Environment) {
				c.Deployment.FieldEnv = map[string]string{"NODE": "spec.nodeName", "TEAM": "metadata.labels['team']", "X": "status.phase"}
				p.Env = PlainEnv(map[string]string{"NODE": "n"})
			},
			want: []string{`deployment.field_env: X: "status.phase" is not a Downward API field`,
				"environments.prod.env: NODE is also in field_env"},
		},
		{
			name: "env names",
			edit: func(c *Config, p *Environment) {
				c.Deployment.Env = PlainEnv(map[string]string{"my-var": "x", "MixedCase_Var": "ok"})
			},
			want: []string{`deployment.env: "my-var" is not a variable name`},
		},
		{
			name: "resources",
			edit: func(c *Config, p *Environment) {
				c.Deployment.Resources = &Resources{Requests: map[string]string{"cpu": "lots"}, Limits: map[string]string{"memory": "1Gi"}}
			},
			want: []string{`deployment.resources.requests: cpu: "lots" is not a quantity`},
		},
		{
			name: "grace period and health path",
			edit: func(c *Config, p *Environment) {
				p.TerminationGracePeriod = dur("1500ms")
				c.Deployment.HealthPath = "healthz"
			},
			want: []string{"environments.prod.termination_grace_period: 1.5s must be a non-negative whole number of seconds",
				`deployment.health_path: "healthz" must start with /`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, tt.edit)
			if len(got) != len(tt.want) {
				t.Fatalf("Resolve(prod) problems:\n%s\nwant %d:\n%s", strings.Join(got, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestReservedEnv(t *testing.T) {
	names := append([]string{"MY_POD_IP"}, ReservedEnv()...)
	for _, name := range names {
		for _, section := range []string{"env", "field_env"} {
			t.Run(section+"/"+name, func(t *testing.T) {
				got := check(t, func(c *Config, p *Environment) {
					c.Cluster.PodIPEnv = "MY_POD_IP"
					if section == "env" {
						p.Env = PlainEnv(map[string]string{name: "x"})
					} else {
						p.FieldEnv = map[string]string{name: "metadata.name"}
					}
				})
				want := []string{"environments.prod." + section + ": " + name + " is set by relgen; remove it"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("problems mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestFieldErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  FieldError
		want string
	}{
		{name: "everything", err: FieldError{File: "relgen.yaml", Line: 12, Path: "deployment.replicas", Msg: "must be at least 1"},
			want: "relgen.yaml:12: deployment.replicas: must be at least 1"},
		{name: "no line", err: FieldError{File: "relgen.toml", Path: "deployment.replicas", Msg: "m"}, want: "relgen.toml: deployment.replicas: m"},
		{name: "no file", err: FieldError{Path: "deployment.replicas", Msg: "m"}, want: "deployment.replicas: m"},
		{name: "no path", err: FieldError{File: "f.yaml", Line: 3, Msg: "m"}, want: "f.yaml:3: m"},
		// Each line of a multi-line message is one problem; each names
		// where it is, so the CLI's one-line-per-problem output does too.
		{name: "several lines", err: FieldError{File: "f.yaml", Line: 3, Path: "release.vm_args", Msg: "a: line 1: x\na: line 2: y\n"},
			want: "f.yaml:3: release.vm_args: a: line 1: x\nf.yaml:3: release.vm_args: a: line 2: y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReservedEnvDNSSRV: under libcluster-dnssrv relgen also sets the pod
// name and the cluster domain libcluster reads.
func TestReservedEnvDNSSRV(t *testing.T) {
	for name, by := range map[string]string{"POD_NAME": "", "CLUSTER_DOMAIN": " for discovery libcluster-dnssrv (discovery_config file)"} {
		got := check(t, func(c *Config, p *Environment) {
			c.Cluster.Discovery = "libcluster-dnssrv"
			p.Env = PlainEnv(map[string]string{name: "x"})
		})
		want := []string{"environments.prod.env: " + name + " is set by relgen" + by + "; remove it"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: problems mismatch (-want +got):\n%s", name, diff)
		}
	}
	got := check(t, func(c *Config, p *Environment) {
		c.Cluster.Discovery = "libcluster-dnssrv"
		c.Cluster.PodIPEnv = "POD_NAME"
	})
	if len(got) != 1 || !strings.Contains(got[0], "cluster.pod_ip_env: POD_NAME is the pod name's variable") {
		t.Errorf("problems = %q, want one about pod_ip_env", got)
	}
}
