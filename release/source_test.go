package release

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSourceLines(t *testing.T) {
	const text = `release:
  name: myapp
deployment:
  labels:
    app.kubernetes.io/name: myapp
  env:
    HOST: example.com
environments:
  prod:
    replicas: 3
`
	src, err := ParseSource("relgen.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"release": 1, "release.name": 2,
		"deployment": 3, "deployment.labels": 4, "deployment.labels.app.kubernetes.io/name": 5,
		"deployment.env": 6, "deployment.env.HOST": 7,
		"environments": 8, "environments.prod": 9, "environments.prod.replicas": 10,
	}
	if diff := cmp.Diff(Origin{File: "relgen.yaml", Lines: want}, src.Origin); diff != "" {
		t.Errorf("Origin mismatch (-want +got):\n%s", diff)
	}
}

func TestParseSourceFormats(t *testing.T) {
	want := map[string]any{
		"deployment": map[string]any{
			"labels": map[string]any{"example.com/Team": "Core"},
			"env":    map[string]any{"MixedCase_Var": "x"},
		},
	}
	tests := []struct {
		name, file, text string
	}{
		{name: "yaml", file: "relgen.yaml", text: "deployment:\n  labels: {example.com/Team: Core}\n  env: {MixedCase_Var: x}\n"},
		{name: "yml", file: "relgen.yml", text: "deployment:\n  labels: {example.com/Team: Core}\n  env: {MixedCase_Var: x}\n"},
		{name: "no extension is yaml", file: "relgen", text: "deployment:\n  labels: {example.com/Team: Core}\n  env: {MixedCase_Var: x}\n"},
		{name: "json", file: "relgen.JSON", text: `{"deployment": {"labels": {"example.com/Team": "Core"}, "env": {"MixedCase_Var": "x"}}}`},
		{name: "toml", file: "relgen.toml", text: "[deployment.labels]\n\"example.com/Team\" = \"Core\"\n[deployment.env]\nMixedCase_Var = \"x\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := ParseSource(tt.file, []byte(tt.text))
			if err != nil {
				t.Fatalf("ParseSource: %v", err)
			}
			if diff := cmp.Diff(want, src.Raw); diff != "" {
				t.Errorf("Raw mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSourceErrors(t *testing.T) {
	tests := []struct {
		name, file, text string
		want             string
	}{
		{name: "yaml syntax: line, column and the line", file: "relgen.yaml", text: "release:\n  name: [myapp\n",
			want: "relgen.yaml:2:9: sequence end token ']' not found, at \"  name: [myapp\""},
		{name: "yaml tab", file: "relgen.yaml", text: "release:\n\tname: myapp\n",
			want: "relgen.yaml:2:1: found character '\\t' that cannot start any token (YAML indents with spaces, not tabs), at \"\\tname: myapp\""},
		{name: "yaml unclosed quote", file: "relgen.yaml", text: "release:\n  name: \"myapp\nimage: {}\n",
			want: "relgen.yaml:2:9: could not find end character of double-quoted text"},
		{name: "yaml duplicate keys, one line each", file: "relgen.yaml", text: "a: 1\na: 2\nb: 1\nb: 2\n",
			want: "relgen.yaml:2: mapping key \"a\" already defined at line 1\nrelgen.yaml:4: mapping key \"b\" already defined at line 3"},
		{name: "yaml list", file: "relgen.yaml", text: "- a\n", want: "relgen.yaml:1: the config must be a mapping of sections"},
		{name: "json", file: "relgen.json", text: `{"release": `, want: `relgen.json:1:12: the file ends inside an object or array, at "{\"release\": "`},
		{name: "toml", file: "relgen.toml", text: "x = [", want: "relgen.toml:1:6: toml: expected character ]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSource(tt.file, []byte(tt.text))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("ParseSource(%q) error = %v, want prefix %q", tt.text, err, tt.want)
			}
		})
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{name: "all known", text: "release: {name: a, cookie: {secret: s}}\nenvironments: {prod: {replicas: 2, namespace: x, protected: true}}\n"},
		{name: "known keys in another case", text: "Release: {Name: a}\nDEPLOYMENT: {replicas: 2}\n"},
		{name: "map keys are the user's", text: "deployment:\n  env: {ANYTHING: x}\n  labels: {example.com/whatever: y}\n  resources: {requests: {cpu: 1}}\n"},
		{name: "typo with suggestion", text: "deployment:\n  replicsa: 2\n", want: []string{"relgen.yaml:2: deployment.replicsa: unknown key (did you mean replicas?)"}},
		{name: "in an environment", text: "environments:\n  prod:\n    replica: 2\n    namespaces: x\n",
			want: []string{
				"relgen.yaml:4: environments.prod.namespaces: unknown key (did you mean namespace?)",
				"relgen.yaml:3: environments.prod.replica: unknown key (did you mean replicas?)",
			}},
		{name: "nested struct", text: "release:\n  cookie: {secert: x}\n", want: []string{"relgen.yaml:2: release.cookie.secert: unknown key (did you mean secret?)"}},
		{name: "no suggestion when far", text: "colour: blue\n", want: []string{"relgen.yaml:1: colour: unknown key"}},
		{name: "misplaced keys name their section", text: "env: {A: b}\nreplicas: 3\nnamespace: x\ndeployment: {discovery: peerage}\n", want: []string{
			"relgen.yaml:4: deployment.discovery: unknown key here (did you mean cluster.discovery?)",
			"relgen.yaml:1: env: unknown key here (did you mean deployment.env?)",
			"relgen.yaml:3: namespace: unknown key here (did you mean environments.<env>.namespace?)",
			"relgen.yaml:2: replicas: unknown key here (did you mean deployment.replicas?)",
		}},
		{name: "all reported", text: "imag: {}\nrelease: {nmae: x}\n", want: []string{
			"relgen.yaml:1: imag: unknown key (did you mean image?)",
			"relgen.yaml:2: release.nmae: unknown key (did you mean name?)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := ParseSource("relgen.yaml", []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fe := range fieldErrorsOf(t, src.UnknownKeys()) {
				got = append(got, fe.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("UnknownKeys() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRestoreCase(t *testing.T) {
	const text = `{"deployment": {"labels": {"example.com/Team": "Core"}, "env": {"HOST": "h", "MixedCase_Var": "m"}},
  "environments": {"Prod": {"env": {"Region_EU": "1"}, "resources": {"limits": {"Memory": "1Gi"}}}}}`
	src, err := ParseSource("relgen.json", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	// What viper hands over: every map key lower-cased.
	cfg := &Config{
		Deployment: DeploymentConfig{
			Labels: map[string]string{"example.com/team": "Core"},
			Env:    PlainEnv(map[string]string{"host": "h", "mixedcase_var": "m"}),
		},
		Environments: map[string]Environment{"prod": {DeploymentConfig: DeploymentConfig{
			Env:       PlainEnv(map[string]string{"region_eu": "1"}),
			Resources: &Resources{Limits: map[string]string{"memory": "1Gi"}},
		}}},
	}
	if err := src.RestoreCase(cfg); err != nil {
		t.Fatalf("RestoreCase: %v", err)
	}
	want := &Config{
		Deployment: DeploymentConfig{
			Labels: map[string]string{"example.com/Team": "Core"},
			Env:    PlainEnv(map[string]string{"HOST": "h", "MixedCase_Var": "m"}),
		},
		Environments: map[string]Environment{"Prod": {DeploymentConfig: DeploymentConfig{
			Env:       PlainEnv(map[string]string{"Region_EU": "1"}),
			Resources: &Resources{Limits: map[string]string{"Memory": "1Gi"}},
		}}},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("RestoreCase mismatch (-want +got):\n%s", diff)
	}
}

func TestRestoreCaseClash(t *testing.T) {
	const text = "deployment:\n  env:\n    HOST: a\n    Host: b\n  labels: {app: x, App: y, APP: z}\n"
	src, err := ParseSource("relgen.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Deployment: DeploymentConfig{
		Env:    PlainEnv(map[string]string{"host": "b"}),
		Labels: map[string]string{"app": "z"},
	}}
	var got []string
	for _, fe := range fieldErrorsOf(t, src.RestoreCase(cfg)) {
		got = append(got, fe.Error())
	}
	want := []string{
		`relgen.yaml:5: deployment.labels.App: keys "APP" and "App" differ only in case; keep one`,
		`relgen.yaml:5: deployment.labels.app: keys "APP" and "app" differ only in case; keep one`,
		`relgen.yaml:4: deployment.env.Host: keys "HOST" and "Host" differ only in case; keep one`,
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RestoreCase() errors mismatch (-want +got):\n%s", diff)
	}
}

func TestKeys(t *testing.T) {
	got := Keys([]string{"prod", "staging"})
	for _, k := range []string{
		"release.name", "release.vm_args", "release.cookie.secret", "release.build", "image.repository", "image.platforms",
		"cluster.interval", "cluster.dist_port", "deployment.replicas", "deployment.port",
		"environments.prod.replicas", "environments.prod.namespace", "environments.prod.protected",
		"environments.prod.interval", "environments.staging.port",
	} {
		if !slices.Contains(got, k) {
			t.Errorf("Keys() lacks %q", k)
		}
	}
	for _, k := range []string{
		"deployment.labels", "deployment.env", "deployment.field_env", "deployment.resources.requests",
		"environments.prod.env", "environments", "release.cookie",
	} {
		if slices.Contains(got, k) {
			t.Errorf("Keys() lists %q, a map or section whose keys are not the schema's", k)
		}
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(got)))); n != len(got) {
		t.Errorf("Keys() has duplicates: %d unique of %d", n, len(got))
	}
	for _, k := range Keys(nil) {
		if strings.HasPrefix(k, "environments.") {
			t.Errorf("Keys(nil) lists %q", k)
		}
	}

	// Every listed key is one the unknown-key check accepts.
	for _, k := range got {
		raw := map[string]any{}
		m := raw
		parts := strings.Split(k, ".")
		for _, p := range parts[:len(parts)-1] {
			next := map[string]any{}
			m[p] = next
			m = next
		}
		m[parts[len(parts)-1]] = "x"
		src := &Source{Origin: Origin{File: "relgen.yaml"}, Raw: raw}
		if err := src.UnknownKeys(); err != nil {
			t.Errorf("Keys() lists %q, but UnknownKeys rejects it: %v", k, err)
		}
	}
}

// TestDependencies enforces the one import direction (docs/architecture.md):
// release is the package every other imports, so it must import none of them.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	const self = "github.com/relgen/relgen/release"
	out, err := exec.Command(goTool, "list", "-deps", self).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", self, err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, self) {
		t.Fatalf("go list -deps %s did not list the package itself:\n%s", self, out)
	}
	for _, dep := range deps {
		if dep != self && (dep == "github.com/relgen/relgen" || strings.HasPrefix(dep, "github.com/relgen/relgen/")) {
			t.Errorf("release imports %s; it must not import other relgen packages", dep)
		}
	}
}
