package load

import (
	"errors"
	"io/fs"
	"maps"
	"strings"
	"testing"

	"github.com/relgen/relgen/release"
)

const config = `release:
  name: myapp
image:
  repository: registry.example.com/acme/myapp
deployment:
  replicas: 2
environments:
  prod:
    replicas: 3
`

// TestEnviron: RELGEN_* variables come from WithEnviron only, never from
// the process, and a nested key the file lacks is still overridden
// (viper only sees such keys when told about them, spf13/viper#761).
func TestEnviron(t *testing.T) {
	t.Setenv("RELGEN_ENVIRONMENTS_PROD_REPLICAS", "9") // must be ignored
	tests := []struct {
		name         string
		environ      []string
		set          []string
		wantReplicas int32
		wantPort     int32
		wantBy       string
	}{
		{name: "file", wantReplicas: 3},
		{name: "environ beats file", environ: []string{"RELGEN_ENVIRONMENTS_PROD_REPLICAS=5"}, wantReplicas: 5,
			wantBy: "RELGEN_ENVIRONMENTS_PROD_REPLICAS"},
		{name: "empty variable is unset", environ: []string{"RELGEN_ENVIRONMENTS_PROD_REPLICAS="}, wantReplicas: 3},
		{name: "set beats environ", environ: []string{"RELGEN_ENVIRONMENTS_PROD_REPLICAS=5"},
			set: []string{"environments.prod.replicas=7"}, wantReplicas: 7, wantBy: "--set environments.prod.replicas=7"},
		{name: "nested key absent from the file", environ: []string{"RELGEN_ENVIRONMENTS_PROD_PORT=9090", "OTHER=1"},
			wantReplicas: 3, wantPort: 9090},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Bytes("relgen.yaml", []byte(config), WithEnviron(tt.environ), WithSet(tt.set))
			if err != nil {
				t.Fatal(err)
			}
			prod := cfg.Environments["prod"]
			if prod.Replicas == nil || *prod.Replicas != tt.wantReplicas {
				t.Errorf("environments.prod.replicas = %v, want %d", prod.Replicas, tt.wantReplicas)
			}
			if tt.wantPort != 0 && (prod.Port == nil || *prod.Port != tt.wantPort) {
				t.Errorf("environments.prod.port = %v, want %d", prod.Port, tt.wantPort)
			}
			if got := cfg.Origin.Overrides["environments.prod.replicas"]; got != tt.wantBy {
				t.Errorf("environments.prod.replicas came from %q, want %q", got, tt.wantBy)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	if _, err := File("testdata/none.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("File(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := Bytes("relgen.yaml", []byte(config), WithSet([]string{"deployment.replicsa=3"})); !errors.Is(err, ErrBadOverride) {
		t.Errorf("unknown --set key: %v, want ErrBadOverride", err)
	}
	_, err := Bytes("relgen.yaml", []byte(config), WithEnviron([]string{"RELGEN_DEPLOYMENT_REPLICAS=lots"}))
	var fe *release.FieldError
	if !errors.As(err, &fe) || fe.File != "RELGEN_DEPLOYMENT_REPLICAS" || fe.Path != "deployment.replicas" {
		t.Errorf("bad variable: %v, want a FieldError blaming RELGEN_DEPLOYMENT_REPLICAS at deployment.replicas", err)
	}
	_, err = Bytes("relgen.yaml", []byte(strings.Replace(config, "replicas: 2", "replicsa: 2", 1)))
	if !errors.As(err, &fe) || fe.Line != 6 {
		t.Errorf("misspelt key: %v, want a FieldError at line 6", err)
	}
}

func TestEnvName(t *testing.T) {
	if got, want := EnvName("environments.prod-eu.dist_port"), "RELGEN_ENVIRONMENTS_PROD_EU_DIST_PORT"; got != want {
		t.Errorf("EnvName = %q, want %q", got, want)
	}
}

// TestSetEntry: --set reaches one entry of a map-valued key, keeping the
// entry's case, and an unknown key gets the closest known one.
func TestSetEntry(t *testing.T) {
	withEnv := strings.Replace(config, "  replicas: 2\n", "  replicas: 2\n  env: {HOST: example.com}\n", 1)
	cfg, err := Bytes("relgen.yaml", []byte(withEnv), WithSet([]string{
		"deployment.env.LOG_LEVEL=debug", "deployment.env.HOST=other.example.com",
		"environments.prod.labels.app.kubernetes.io/part-of=shop", "deployment.resources.requests.cpu=250m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Deployment.Env, release.PlainEnv(map[string]string{"HOST": "other.example.com", "LOG_LEVEL": "debug"}); !maps.Equal(got, want) {
		t.Errorf("deployment.env = %v, want %v", got, want)
	}
	if got := cfg.Environments["prod"].Labels["app.kubernetes.io/part-of"]; got != "shop" {
		t.Errorf("environments.prod.labels = %v, want app.kubernetes.io/part-of: shop", cfg.Environments["prod"].Labels)
	}
	if cfg.Deployment.Resources == nil || cfg.Deployment.Resources.Requests["cpu"] != "250m" {
		t.Errorf("deployment.resources = %+v, want requests.cpu 250m", cfg.Deployment.Resources)
	}
	for _, tt := range []struct{ set, want string }{
		{"deployment.replicsa=3", "--set deployment.replicsa=3: unknown key deployment.replicsa (did you mean deployment.replicas?)"},
		{"environments.prod.replica=3", "(did you mean environments.prod.replicas?)"},
		{"deployment.env=X", "deployment.env is a map; set one entry, e.g. --set deployment.env.NAME=value"},
		{"deployment.replicas", "--set deployment.replicas: want key=value with a config key (no =)"},
		{"nothing.like.it=1", "unknown key nothing.like.it: want key=value with a config key such as deployment.replicas"},
	} {
		_, err := Bytes("relgen.yaml", []byte(config), WithSet([]string{tt.set}))
		if !errors.Is(err, ErrBadOverride) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("--set %s: %v, want ErrBadOverride saying %q", tt.set, err, tt.want)
		}
	}
}

// TestFormatErrors: JSON and TOML files are located as well as YAML, and
// no message is a decoder's own ("json: cannot unmarshal", "strconv").
func TestFormatErrors(t *testing.T) {
	for _, tt := range []struct{ name, file, data, want string }{
		{name: "json syntax", file: "relgen.json", data: "{\n \"release\": {\"name\": \"x\",}\n}",
			want: `relgen.json:2:26: invalid character '}' looking for beginning of object key string, at " \"release\": {\"name\": \"x\",}"`},
		{name: "json array", file: "relgen.json", data: "[1, 2]",
			want: "relgen.json:1: the config must be a mapping of sections"},
		{name: "json key twice", file: "relgen.json", data: "{\n \"release\": {\"name\": \"a\"},\n \"release\": {}\n}",
			want: `relgen.json:3: mapping key "release" already defined at line 2`},
		{name: "json wrong type", file: "relgen.json", data: "{\n \"deployment\": {\n  \"replicas\": \"two\"\n }\n}",
			want: `relgen.json:3: deployment.replicas: want a whole number, got "two"`},
		{name: "json list for a mapping", file: "relgen.json", data: "{\n \"deployment\": {\"labels\": [\"a\"]}\n}",
			want: "relgen.json:2: deployment.labels: want a mapping (key: value), got a list"},
		{name: "toml syntax", file: "relgen.toml", data: "[release\nname = 1\n",
			want: `relgen.toml:1:9: toml: expected character ], at "[release"`},
		{name: "toml wrong type", file: "relgen.toml", data: "[deployment]\nreplicas = \"two\"\n",
			want: `relgen.toml: deployment.replicas: want a whole number, got "two"`},
		{name: "yaml scalar", file: "relgen.yaml", data: "just text\n",
			want: "relgen.yaml:1: the config must be a mapping of sections"},
		{name: "yaml bool", file: "relgen.yaml", data: "image:\n  abi_check: sometimes\n",
			want: `relgen.yaml:2: image.abi_check: want true or false, got "sometimes"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A byte order mark changes nothing.
			_, err := Bytes(tt.file, append([]byte("\xef\xbb\xbf"), tt.data...))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Bytes() = %v, want an error containing %q", err, tt.want)
			}
			for _, internal := range []string{"json: cannot unmarshal", "strconv.", "reflect", "expected type", "unconvertible"} {
				if strings.Contains(err.Error(), internal) {
					t.Errorf("Bytes() = %v: a decoder's message (%s)", err, internal)
				}
			}
		})
	}
}

// TestUnknownVariables: a RELGEN_* variable meant for a key the schema
// lacks is refused instead of ignored; another tool's RELGEN_* is not.
func TestUnknownVariables(t *testing.T) {
	for _, tt := range []struct{ name, variable, want string }{
		{name: "typo", variable: "RELGEN_DEPLOYMENT_REPLICSA=3", want: "RELGEN_DEPLOYMENT_REPLICSA: no config key has this variable (did you mean RELGEN_DEPLOYMENT_REPLICAS?)"},
		{name: "no such environment", variable: "RELGEN_ENVIRONMENTS_QA_REPLICAS=3", want: "RELGEN_ENVIRONMENTS_QA_REPLICAS: names no key of the environments the file has (prod)"},
		{name: "map entry", variable: "RELGEN_DEPLOYMENT_ENV_LOG_LEVEL=debug", want: "RELGEN_DEPLOYMENT_ENV_LOG_LEVEL: a variable cannot set one entry of deployment.env; use --set deployment.env.NAME=value"},
		{name: "another tool's", variable: "RELGEN_REQUIRE_TOOLS=1"},
		{name: "empty counts as unset", variable: "RELGEN_DEPLOYMENT_REPLICSA="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Bytes("relgen.yaml", []byte(config), WithEnviron([]string{tt.variable}))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Bytes() = %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Bytes() = %v, want %q", err, tt.want)
			}
		})
	}
}
