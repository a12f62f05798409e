package discovery

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/relgen/relgen/release"
)

// TestViaEnv checks the env route of every strategy that has a config
// file: no file, an env var per setting, and a config/runtime.exs that
// reads exactly those variables and, with their values put in, says what
// the compile-time snippet says.
func TestViaEnv(t *testing.T) {
	read := regexp.MustCompile(`(String\.to_integer\()?System\.fetch_env!\("([A-Z_]+)"\)\)?`)
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			topo := topology()
			if name == LibclusterDNSSRV {
				topo.PodNameEnv = release.DefaultPodNameEnv
			}
			topo.Selector = map[string]string{"app": "myapp"}
			s, _ := For(name)
			file, err := s.Plan(topo)
			if err != nil {
				t.Fatal(err)
			}
			env := file.ViaEnv()
			if file.Config == "" {
				if env.Elixir != file.Elixir || len(env.Env) != len(file.Env) {
					t.Errorf("ViaEnv changed a plan without a config file: %+v", env)
				}
				return
			}
			if env.Config != "" {
				t.Errorf("ViaEnv kept the config file")
			}
			values := map[string]string{}
			for _, e := range env.Env {
				if _, dup := values[e.Name]; dup {
					t.Errorf("env %s set twice", e.Name)
				}
				values[e.Name] = e.Value
			}
			for _, e := range file.Env {
				if values[e.Name] != e.Value {
					t.Errorf("ViaEnv dropped the strategy's own env %s=%s", e.Name, e.Value)
				}
			}
			body, ok := strings.CutPrefix(env.Elixir[strings.Index(env.Elixir, "\nif ")+1:], "if System.get_env(")
			if !ok {
				t.Fatalf("runtime.exs does not start with a check of a variable:\n%s", env.Elixir)
			}
			guard, body, _ := strings.Cut(body, ") do\n")
			if v, err := strconv.Unquote(guard); err != nil || values[v] == "" {
				t.Errorf("runtime.exs checks %s, which relgen does not set", guard)
			}
			body, ok = strings.CutSuffix(body, "\nend\n")
			if !ok {
				t.Fatalf("runtime.exs does not end the if:\n%s", env.Elixir)
			}
			used := map[string]bool{}
			literal := read.ReplaceAllStringFunc(body, func(m string) string {
				g := read.FindStringSubmatch(m)
				v, ok := values[g[2]]
				if !ok {
					t.Errorf("runtime.exs reads %s, which relgen does not set", g[2])
				}
				used[g[2]] = true
				if g[1] != "" {
					return v
				}
				return strconv.Quote(v)
			})
			for _, e := range env.Env[:len(env.Env)-len(file.Env)] {
				if !used[e.Name] {
					t.Errorf("env %s is set for runtime.exs, which never reads it", e.Name)
				}
			}
			want := indent(strings.TrimRight(file.Elixir, "\n"), "  ")
			if literal != want {
				t.Errorf("runtime.exs with the values put in:\n%s\nwant the compile-time snippet:\n%s", literal, want)
			}
		})
	}
}
