package cli

import (
	"strings"
	"testing"
)

func TestDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name, config, format string
		set                  []string
		want, wantErr        []string
	}{
		{name: "peerage erlang", config: seed, format: "erlang", want: []string{
			`{dns_name, <<"myapp-service-headless.staging.svc.cluster.local">>}`, "{interval, 5}"}},
		{name: "peerage elixir", config: seed, format: "elixir", want: []string{
			`dns_name: "myapp-service-headless.staging.svc.cluster.local"`, "interval: 5\n", "{:peerage"}},
		// examples/mix takes the env route: a config/runtime.exs block.
		{name: "libcluster env route", config: "../../../examples/mix/relgen.yaml", format: "elixir", want: []string{
			"strategy: Cluster.Strategy.Kubernetes", `polling_interval: String.to_integer(System.fetch_env!("LIBCLUSTER_POLLING_INTERVAL"))`,
			"Cluster.Supervisor"}, wantErr: []string{
			"the pods get LIBCLUSTER_POLLING_INTERVAL=10000", "the pods get LIBCLUSTER_NAMESPACE=my-app-staging"}},
		{name: "libcluster env route, no file", config: "../../../examples/mix/relgen.yaml", format: "erlang", wantErr: []string{
			"discovery libcluster-kubernetes mounts no config file in environment staging"}},
		{name: "none, elixir", config: seed, format: "elixir", set: []string{"--set", "cluster.discovery=none"}, wantErr: []string{
			"relgen: discovery is none in environment staging (cluster.discovery): the nodes do not look for each other, so there is nothing to add; set cluster.discovery to cluster them\n"}},
		{name: "none, erlang", config: seed, format: "erlang", set: []string{"--set", "cluster.discovery=none"}, wantErr: []string{"so there is nothing to add"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"discovery", "-f", tc.config, "--env", "staging", "--format", tc.format}, tc.set...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if tc.want == nil && out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
	code, out, errOut := run(t, "discovery", "-f", seed, "--env", "staging", "--format", "yaml")
	if code != 1 || out != "" || !strings.Contains(errOut, `--format "yaml"`) {
		t.Errorf("bad --format: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
