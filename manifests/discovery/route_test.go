package discovery

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/relgen/relgen/release"
)

// TestBuildConfigUndoes covers the one rule relgen init (from sources)
// and relgen build (from the built release) share: with runtime.exs, a
// build-time config of the library a strategy's file configures undoes
// that file.
func TestBuildConfigUndoes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		b        BuildConfig
		strategy string
		want     string
	}{
		{name: "sources", b: BuildConfig{RuntimeExs: true, Exs: []string{"import Config\nconfig :peerage, via: Peerage.Via.List\n"}}, strategy: Peerage, want: "peerage"},
		{name: "built", b: BuildConfig{RuntimeExs: true, SysConfig: "[{kernel,[]},{libcluster,[{topologies,[]}]}]."}, strategy: LibclusterKubernetes, want: "libcluster"},
		{name: "no runtime.exs", b: BuildConfig{Exs: []string{"config :peerage, x: 1"}}, strategy: Peerage},
		{name: "other library", b: BuildConfig{RuntimeExs: true, Exs: []string{"config :peerage_extra, x: 1"}}, strategy: Peerage},
		{name: "no config file", b: BuildConfig{RuntimeExs: true, Exs: []string{"config :dns_cluster, x: 1"}}, strategy: DNSCluster},
		{name: "unknown strategy", b: BuildConfig{RuntimeExs: true, Exs: []string{"config :consul, x: 1"}}, strategy: "consul"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.b.Undoes(tc.strategy); got != tc.want {
				t.Errorf("Undoes(%s) = %q, want %q", tc.strategy, got, tc.want)
			}
		})
	}
}

func TestBuilt(t *testing.T) {
	fsys := fstest.MapFS{
		"releases/1.0.0/runtime.exs": {Data: []byte("import Config\n")},
		"releases/1.0.0/sys.config":  {Data: []byte("[{peerage,[{interval,1}]}].")},
		"releases/2.0.0/sys.config":  {Data: []byte("[{peerage,[{interval,1}]}].")},
	}
	b, err := Built(fsys, "1.0.0")
	if err != nil || !b.RuntimeExs || !b.Configures("peerage") {
		t.Errorf("Built(1.0.0) = %+v, %v; want runtime.exs and :peerage configured", b, err)
	}
	b, err = Built(fsys, "2.0.0")
	if err != nil || b.RuntimeExs || b.Undoes(Peerage) != "" {
		t.Errorf("Built(2.0.0) = %+v, %v; want nothing undone without runtime.exs", b, err)
	}

	specs := []*release.Spec{
		{Environment: "prod", Discovery: Peerage, DiscoveryConfig: release.DiscoveryConfigFile},
		{Environment: "qa", Discovery: Peerage, DiscoveryConfig: release.DiscoveryConfigEnv},
		{Environment: "staging", Discovery: Peerage, DiscoveryConfig: release.DiscoveryConfigFile},
		{Environment: "dev", Discovery: None, DiscoveryConfig: release.DiscoveryConfigFile},
	}
	b, _ = Built(fsys, "1.0.0")
	want := []Undone{{App: "peerage", Environments: []string{"prod", "staging"}}}
	if diff := cmp.Diff(want, b.Undone(specs)); diff != "" {
		t.Errorf("Undone (-want +got):\n%s", diff)
	}
}
