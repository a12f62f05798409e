package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/load"
)

const (
	validConfig = "testdata/relgen.yaml"
	// pinnedRef keeps the output free of the not-pinned warning.
	pinnedRef = "registry.example.com/acme/myapp@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// deploymentOf parses relgen manifests' output and returns its one
// Deployment.
func deploymentOf(t *testing.T, out string) *appsv1.Deployment {
	t.Helper()
	var found *appsv1.Deployment
	for _, doc := range strings.Split(out, "\n---\n") {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("output is not YAML: %v\n%s", err, doc)
		}
		if meta.Kind != "Deployment" {
			continue
		}
		if found != nil {
			t.Fatal("output has two Deployments")
		}
		found = &appsv1.Deployment{}
		if err := yaml.UnmarshalStrict([]byte(doc), found); err != nil {
			t.Fatalf("parsing the Deployment: %v", err)
		}
	}
	if found == nil {
		t.Fatalf("output has no Deployment:\n%s", out)
	}
	return found
}

// prodDeployment runs relgen manifests for prod and returns its Deployment.
func prodDeployment(t *testing.T, args ...string) *appsv1.Deployment {
	t.Helper()
	code, stdout, stderr := run(t, append([]string{"manifests", "--env", "prod", "--image", pinnedRef}, args...)...)
	if code != 0 || stderr != "" {
		t.Fatalf("relgen manifests %v: exit %d, stderr:\n%s", args, code, stderr)
	}
	return deploymentOf(t, stdout)
}

func podPort(t *testing.T, d *appsv1.Deployment, name string) int32 {
	t.Helper()
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container has no port %s", name)
	return 0
}

func podEnv(d *appsv1.Deployment, name string) (corev1.EnvVar, bool) {
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

// TestPrecedence checks the documented precedence (docs/config.md):
// --set > RELGEN_* env > file > default.
func TestPrecedence(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		set          []string
		wantReplicas int32
		wantPort     int32
	}{
		{name: "file", wantReplicas: 3, wantPort: 8000},
		{name: "env beats file", env: map[string]string{"RELGEN_ENVIRONMENTS_PROD_REPLICAS": "5", "RELGEN_DEPLOYMENT_PORT": "8080"},
			wantReplicas: 5, wantPort: 8080},
		{name: "set beats file", set: []string{"environments.prod.replicas=7", "deployment.port=8181"},
			wantReplicas: 7, wantPort: 8181},
		{name: "set beats env", env: map[string]string{"RELGEN_ENVIRONMENTS_PROD_REPLICAS": "5", "RELGEN_DEPLOYMENT_PORT": "8080"},
			set: []string{"environments.prod.replicas=7", "deployment.port=8181"}, wantReplicas: 7, wantPort: 8181},
		// The environment's section still beats the base section, wherever
		// each value came from.
		{name: "base key from env does not beat the environment's key", env: map[string]string{"RELGEN_DEPLOYMENT_REPLICAS": "9"},
			wantReplicas: 3, wantPort: 8000},
		{name: "env sets a key the file does not have", env: map[string]string{"RELGEN_ENVIRONMENTS_PROD_PORT": "9090"},
			wantReplicas: 3, wantPort: 9090},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := []string{"-f", validConfig}
			for _, s := range tt.set {
				args = append(args, "--set", s)
			}
			d := prodDeployment(t, args...)
			if got := *d.Spec.Replicas; got != tt.wantReplicas {
				t.Errorf("replicas = %d, want %d", got, tt.wantReplicas)
			}
			if got := podPort(t, d, "http"); got != tt.wantPort {
				t.Errorf("http port = %d, want %d", got, tt.wantPort)
			}
		})
	}
}

// TestEnvNestedKeys covers keys absent from the file, which viper only
// sees in env vars when they are bound (spf13/viper#761).
func TestEnvNestedKeys(t *testing.T) {
	t.Setenv("RELGEN_RELEASE_COOKIE_SECRET", "other-cookie")
	t.Setenv("RELGEN_DEPLOYMENT_HEALTH_PATH", "/healthz")
	t.Setenv("RELGEN_CLUSTER_DIST_PORT", "9100")
	d := prodDeployment(t, "-f", validConfig)
	cookie, ok := podEnv(d, release.CookieEnv)
	if !ok || cookie.ValueFrom == nil || cookie.ValueFrom.SecretKeyRef == nil || cookie.ValueFrom.SecretKeyRef.Name != "other-cookie" {
		t.Errorf("%s = %+v, want it from Secret other-cookie", release.CookieEnv, cookie)
	}
	if p := d.Spec.Template.Spec.Containers[0].ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Errorf("readiness probe = %+v, want GET /healthz", p)
	}
	if got := podPort(t, d, "dist"); got != 9100 {
		t.Errorf("dist port = %d, want 9100", got)
	}
}

func TestBadOverrides(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "set with an unknown key", args: []string{"--set", "deployment.replicsa=3"},
			want: "relgen: --set deployment.replicsa=3: unknown key deployment.replicsa (did you mean deployment.replicas?): want key=value with a config key\n"},
		{name: "set without a value", args: []string{"--set", "deployment.replicas"},
			want: "relgen: --set deployment.replicas: want key=value"},
		{name: "set for an environment the file does not have", args: []string{"--set", "environments.qa.replicas=1"},
			want: "relgen: --set environments.qa.replicas=1: the file has no environment qa (it has: prod, staging); add it under environments first"},
		// A bad value is blamed on where it came from, not on the file.
		{name: "env value that is no number", env: map[string]string{"RELGEN_ENVIRONMENTS_PROD_REPLICAS": "lots"},
			want: "relgen: RELGEN_ENVIRONMENTS_PROD_REPLICAS: environments.prod.replicas: want a whole number, got \"lots\"\n"},
		{name: "env duration without unit", env: map[string]string{"RELGEN_CLUSTER_INTERVAL": "3"},
			want: "relgen: RELGEN_CLUSTER_INTERVAL: cluster.interval: \"3\" is not a duration; write one such as 5s or 500ms\n"},
		// Values that decode but fail validation are blamed the same way.
		{name: "env value out of range", env: map[string]string{"RELGEN_ENVIRONMENTS_PROD_REPLICAS": "0"},
			want: "relgen: RELGEN_ENVIRONMENTS_PROD_REPLICAS: environments.prod.replicas: must be at least 1, got 0\n"},
		{name: "set value out of range", args: []string{"--set", "deployment.port=80"},
			want: "relgen: --set deployment.port=80: deployment.port: 80: the container runs as non-root user 65532 and cannot bind ports below 1024\n"},
		// image.user is parsed once; a group that is no number or root used
		// to pass and render runAsGroup: 0.
		{name: "set user with a group that is no number", args: []string{"--set", "image.user=1000:abc"},
			want: "relgen: --set image.user=1000:abc: image.user: \"1000:abc\": want a numeric uid or uid:gid"},
		{name: "set user by name", args: []string{"--set", "image.user=abc"},
			want: "relgen: --set image.user=abc: image.user: \"abc\": want a numeric uid or uid:gid"},
		{name: "set user root", args: []string{"--set", "image.user=0"},
			want: "relgen: --set image.user=0: image.user: \"0\": must not be root"},
		{name: "set user with the root group", args: []string{"--set", "image.user=1000:0"},
			want: "relgen: --set image.user=1000:0: image.user: \"1000:0\": must not be root"},
		{name: "set value that is no number", env: map[string]string{"RELGEN_DEPLOYMENT_REPLICAS": "4"},
			args: []string{"--set", "deployment.replicas=x"},
			want: "relgen: --set deployment.replicas=x: deployment.replicas: want a whole number, got \"x\"\n"},
		{name: "env boolean that is not one", env: map[string]string{"RELGEN_IMAGE_ABI_CHECK": "maybe"},
			want: "relgen: RELGEN_IMAGE_ABI_CHECK: image.abi_check: want true or false, got \"maybe\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := run(t, append([]string{"manifests", "--env", "prod", "--image", pinnedRef, "-f", validConfig}, tt.args...)...)
			if code != 1 || stdout != "" {
				t.Errorf("exit code %d, stdout %d bytes; want 1 and nothing", code, len(stdout))
			}
			if !strings.HasPrefix(stderr, tt.want) {
				t.Errorf("stderr = %q, want prefix %q", stderr, tt.want)
			}
		})
	}
}

// TestFormatsKeepKeys loads one config written as YAML, TOML and JSON:
// map keys with dots, slashes and capitals survive viper in all three.
func TestFormatsKeepKeys(t *testing.T) {
	loadFile := func(file string) *release.Config {
		t.Helper()
		cfg, err := load.File(file)
		if err != nil {
			t.Fatalf("load.File(%s): %v", file, err)
		}
		return cfg
	}
	want := loadFile("testdata/formats/relgen.yaml")
	labels := map[string]string{"app": "my-app", "example.com/Team": "Core", "app.kubernetes.io/part-of": "Shop"}
	if diff := cmp.Diff(labels, want.Deployment.Labels); diff != "" {
		t.Errorf("deployment.labels mismatch (-want +got):\n%s", diff)
	}
	env := release.PlainEnv(map[string]string{"HOST": "example.com", "MixedCase_Var": "Mixed", "URL": "https://$(HOST)/"})
	if diff := cmp.Diff(env, want.Deployment.Env); diff != "" {
		t.Errorf("deployment.env mismatch (-want +got):\n%s", diff)
	}
	prod := want.Environments["prod"]
	if diff := cmp.Diff(release.PlainEnv(map[string]string{"Region_EU": "1"}), prod.Env); diff != "" {
		t.Errorf("environments.prod.env mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"example.com/Env": "Prod"}, prod.Labels); diff != "" {
		t.Errorf("environments.prod.labels mismatch (-want +got):\n%s", diff)
	}

	_, yamlOut, _ := run(t, "manifests", "--env", "prod", "--image", pinnedRef, "-f", "testdata/formats/relgen.yaml")
	d := deploymentOf(t, yamlOut)
	podLabels := d.Spec.Template.Labels
	for k, v := range map[string]string{"example.com/Team": "Core", "example.com/Env": "Prod", "app.kubernetes.io/part-of": "Shop"} {
		if podLabels[k] != v || d.Spec.Selector.MatchLabels[k] != v {
			t.Errorf("label %s: pod %q, selector %q; want %q", k, podLabels[k], d.Spec.Selector.MatchLabels[k], v)
		}
	}
	for _, name := range []string{"HOST", "MixedCase_Var", "URL", "Region_EU", "POD_NAME"} {
		if _, ok := podEnv(d, name); !ok {
			t.Errorf("Deployment env lacks %s", name)
		}
	}

	for _, file := range []string{"testdata/formats/relgen.toml", "testdata/formats/relgen.json"} {
		t.Run(file, func(t *testing.T) {
			got := loadFile(file)
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(release.Config{}, "Origin")); diff != "" {
				t.Errorf("config differs from the YAML one (-yaml +this):\n%s", diff)
			}
			code, out, stderr := run(t, "manifests", "--env", "prod", "--image", pinnedRef, "-f", file)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if diff := cmp.Diff(yamlOut, out); diff != "" {
				t.Errorf("manifests differ from the YAML config's (-yaml +this):\n%s", diff)
			}
		})
	}
}

// TestEnvironmentWithoutOverrides: "prod:" with nothing under it is still
// an environment (viper drops keys with empty values).
func TestEnvironmentWithoutOverrides(t *testing.T) {
	d := prodDeployment(t, "-f", "testdata/relgen-bare-env.yaml")
	if d.Namespace != release.DefaultNamespace || *d.Spec.Replicas != release.DefaultReplicas {
		t.Errorf("Deployment %s/%s with %d replicas, want the defaults", d.Namespace, d.Name, *d.Spec.Replicas)
	}
}

func TestRelativePaths(t *testing.T) {
	cfg, err := load.File("testdata/errors/missing-var.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Release.VMArgs, "testdata/errors/missing-var.vm.args"; got != want {
		t.Errorf("release.vm_args = %q, want %q (relative to the config file)", got, want)
	}
}

func TestVMArgsResolve(t *testing.T) {
	t.Run("variables set", func(t *testing.T) {
		t.Setenv("MY_POD_IP", "10.0.0.7")
		t.Setenv("RELEASE_COOKIE", "s3cret")
		code, stdout, stderr := run(t, "vmargs", "-f", validConfig, "--env", "prod", "--resolve")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, line := range []string{"-name myapp@10.0.0.7\n", "-setcookie [redacted]\n"} {
			if !strings.Contains(stdout, line) {
				t.Errorf("resolved vm.args lacks %q:\n%s", line, stdout)
			}
		}
		if strings.Contains(stdout, "${") {
			t.Errorf("resolved vm.args still has a placeholder:\n%s", stdout)
		}
		if strings.Contains(stdout+stderr, "s3cret") {
			t.Errorf("the cookie is printed; only relgen secret may print one:\n%s", stdout)
		}
	})
	t.Run("variables unset", func(t *testing.T) {
		for _, k := range []string{"MY_POD_IP", "RELEASE_COOKIE"} {
			t.Setenv(k, "") // restores the variable afterwards
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
		code, stdout, stderr := run(t, "vmargs", "-f", validConfig, "--env", "prod", "--resolve")
		if code != 1 || stdout != "" {
			t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout)
		}
		for _, name := range []string{"MY_POD_IP", "RELEASE_COOKIE"} {
			want := "${" + name + "} is not set; set it for this command (" + name + "=... relgen vmargs --resolve)"
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not name %s and how to set it (want %q):\n%s", name, want, stderr)
			}
		}
		if !strings.Contains(stderr, "resolving vm.args of prod: ") {
			t.Errorf("stderr does not name the environment:\n%s", stderr)
		}
		for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
			if !strings.HasPrefix(l, "relgen: ") {
				t.Errorf("stderr line %q does not start with relgen: ", l)
			}
		}
	})
	t.Run("without resolve the placeholders stay", func(t *testing.T) {
		code, stdout, _ := run(t, "vmargs", "-f", validConfig, "--env", "prod")
		if code != 0 || !strings.Contains(stdout, "-name myapp@${MY_POD_IP}\n") {
			t.Errorf("exit %d, vm.args:\n%s\nwant -name myapp@${MY_POD_IP}", code, stdout)
		}
	})
}

func TestNoEnvFlag(t *testing.T) {
	for _, verb := range []string{"manifests", "vmargs"} {
		t.Run(verb, func(t *testing.T) {
			code, _, stderr := run(t, verb, "-f", validConfig)
			want := "relgen: --env is required (" + validConfig + " defines: prod, staging)\n"
			if code != 1 || stderr != want {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := run(t, "version")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if v, ok := strings.CutPrefix(stdout, "relgen "); !ok || strings.TrimSpace(v) == "" {
		t.Errorf("version printed %q, want relgen VERSION", stdout)
	}

	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v1.2.3"
	if _, stdout, _ := run(t, "version"); stdout != "relgen v1.2.3\n" {
		t.Errorf("with Version set, printed %q, want %q", stdout, "relgen v1.2.3\n")
	}
}

// TestUserReachesPod: the pod runs as the parsed image.user, a lone uid
// also being the group.
func TestUserReachesPod(t *testing.T) {
	for in, want := range map[string][2]int64{"1000:2000": {1000, 2000}, "1000": {1000, 1000}} {
		sc := prodDeployment(t, "-f", validConfig, "--set", "image.user="+in).Spec.Template.Spec.SecurityContext
		if *sc.RunAsUser != want[0] || *sc.RunAsGroup != want[1] || *sc.FSGroup != want[1] {
			t.Errorf("image.user %s: runAsUser %d, runAsGroup %d, fsGroup %d; want %d, %d, %d",
				in, *sc.RunAsUser, *sc.RunAsGroup, *sc.FSGroup, want[0], want[1], want[1])
		}
	}
}

// TestImageHints: manifests reports image problems as typed errors; the
// command adds the flag that fixes them, on the same line.
func TestImageHints(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "protected and not pinned", args: []string{"--image", "r.example.com/x:1", "--set", "environments.prod.protected=true"},
			want: "relgen: --set environments.prod.protected=true: environments.prod.protected: image r.example.com/x:1 is not pinned by digest; pass --record FILE from relgen build so every environment runs the image that was tested\n"},
		{name: "no image and no version", args: []string{"--set", "release.version="},
			want: "relgen: --set release.version=: release.version: no image digest and no release version to tag the image with: pass --record FILE (from relgen build) or --image REF, or set release.version\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"manifests", "--env", "prod", "-f", validConfig}, tt.args...)...)
			if code != 1 || stderr != tt.want {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tt.want)
			}
		})
	}
}

// TestEnvironHook: RELGEN_* overrides come from GlobalOptions.Environ,
// the one door the environment comes in by.
func TestEnvironHook(t *testing.T) {
	t.Setenv("RELGEN_ENVIRONMENTS_PROD_REPLICAS", "9") // not in Environ: ignored
	root := newRootCommand(&GlobalOptions{Environ: func() []string {
		return []string{"RELGEN_ENVIRONMENTS_PROD_REPLICAS=5"}
	}})
	var out strings.Builder
	root.SetArgs([]string{"manifests", "--env", "prod", "--image", pinnedRef, "-f", validConfig})
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got := *deploymentOf(t, out.String()).Spec.Replicas; got != 5 {
		t.Errorf("replicas = %d, want 5 from Environ", got)
	}
}
