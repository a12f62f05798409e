package cli

import (
	"strings"
	"testing"
)

func TestDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name, config, format string
		want                 []string
	}{
		{name: "peerage erlang", config: seed, format: "erlang", want: []string{
			`{dns_name, <<"myapp-service-headless.staging.svc.cluster.local">>}`, "{interval, 5}"}},
		{name: "peerage elixir", config: seed, format: "elixir", want: []string{
			`dns_name: "myapp-service-headless.staging.svc.cluster.local"`, "interval: 5\n", "{:peerage"}},
		{name: "libcluster elixir", config: "../../../examples/mix/relgen.yaml", format: "elixir", want: []string{
			"strategy: Cluster.Strategy.Kubernetes", "polling_interval: 10000", "Cluster.Supervisor"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, "discovery", "-f", tc.config, "--env", "staging", "--format", tc.format)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	code, out, errOut := run(t, "discovery", "-f", seed, "--env", "staging", "--format", "yaml")
	if code != 1 || out != "" || !strings.Contains(errOut, `--format "yaml"`) {
		t.Errorf("bad --format: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
