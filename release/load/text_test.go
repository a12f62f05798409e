package load

import (
	"errors"
	"strings"
	"testing"

	"github.com/relgen/relgen/release"
)

// TestKeptAsWritten: a text value (env, labels, field_env, resources) is
// either kept exactly as written or refused with the quoted form to write;
// never changed on the way (true → "1", 010 → "8", null → gone).
func TestKeptAsWritten(t *testing.T) {
	const head = "release: {name: myapp}\nimage: {repository: registry.example.com/acme/myapp}\nenvironments: {prod: {}}\n"
	tests := []struct {
		name, file, data string
		want             map[string]string // kept env values
		wantErr          string
		wantLine         int
	}{
		{name: "plain numbers are kept", file: "relgen.yaml", data: head + "deployment:\n  env: {PORT: 4000, RATIO: 0.5, TEXT: \"true\", YES: yes}\n  labels: {tier: 1}\n",
			want: map[string]string{"PORT": "4000", "RATIO": "0.5", "TEXT": "true", "YES": "yes"}},
		{name: "boolean", file: "relgen.yaml", data: head + "deployment:\n  env:\n    DEBUG: true\n",
			wantErr: `relgen.yaml:6: deployment.env.DEBUG: true is read as the boolean true, not as text; quote it ("true") to keep it as written`, wantLine: 6},
		{name: "octal", file: "relgen.yaml", data: head + "deployment:\n  env:\n    MODE: 010\n",
			wantErr: `deployment.env.MODE: 010 is read as the number 8, not as text; quote it ("010")`, wantLine: 6},
		{name: "float", file: "relgen.yaml", data: head + "deployment:\n  env:\n    V: 1.0\n",
			wantErr: `deployment.env.V: 1.0 is read as the number 1, not as text; quote it ("1.0")`, wantLine: 6},
		{name: "null", file: "relgen.yaml", data: head + "deployment:\n  env:\n    EMPTY: null\n",
			wantErr: `deployment.env.EMPTY: has no value (null); write "" for an empty value, or remove the key`, wantLine: 6},
		{name: "empty", file: "relgen.yaml", data: head + "deployment:\n  env:\n    EMPTY:\n",
			wantErr: `deployment.env.EMPTY: has no value (null)`, wantLine: 6},
		{name: "label in an environment", file: "relgen.yaml", data: strings.Replace(head, "{prod: {}}", "{prod: {labels: {canary: false}}}", 1),
			wantErr: `environments.prod.labels.canary: false is read as the boolean false`},
		{name: "version as a number", file: "relgen.yaml", data: strings.Replace(head, "{name: myapp}", "{name: myapp, version: 1.10}", 1),
			wantErr: `relgen.yaml:1: release.version: 1.10 is read as the number 1.1, not as text; quote it ("1.10") to keep it as written`, wantLine: 1},
		{name: "whole-number version is kept", file: "relgen.yaml", data: strings.Replace(head, "{name: myapp}", "{name: myapp, version: 2}", 1),
			want: map[string]string{}},
		{name: "toml boolean", file: "relgen.toml",
			data:    "[release]\nname = \"myapp\"\n[image]\nrepository = \"registry.example.com/acme/myapp\"\n[deployment.env]\nDEBUG = true\n[environments.prod]\n",
			wantErr: `relgen.toml: deployment.env.DEBUG: true is read as the boolean true, not as text; quote it ("true")`},
		{name: "json number", file: "relgen.json",
			data:    `{"release": {"name": "myapp"}, "image": {"repository": "registry.example.com/acme/myapp"}, "environments": {"prod": {}}, "deployment": {"env": {"PORT": 4000, "V": 1.0}}}`,
			wantErr: `relgen.json:1: deployment.env.V: 1.0 is read as a number, not as text; quote it ("1.0")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Bytes(tt.file, []byte(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range tt.want {
					if got := cfg.Deployment.Env[k].Value; got != v {
						t.Errorf("env %s = %q, want %q as written", k, got, v)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Bytes() = %v, want an error containing %q", err, tt.wantErr)
			}
			var fe *release.FieldError
			if tt.wantLine != 0 && (!errors.As(err, &fe) || fe.Line != tt.wantLine) {
				t.Errorf("error %v is not located at line %d", err, tt.wantLine)
			}
		})
	}
	// An override replaces the file's value, so it is not refused.
	cfg, err := Bytes("relgen.yaml", []byte(head+"deployment:\n  env:\n    DEBUG: true\n"), WithSet([]string{"deployment.env.DEBUG=1"}))
	if err != nil || cfg.Deployment.Env["DEBUG"].Value != "1" {
		t.Errorf("--set deployment.env.DEBUG=1 over DEBUG: true: env %v, error %v", cfg.Deployment.Env, err)
	}
}
