package scaffold

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/relgen/relgen/internal/testutil"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	relload "github.com/relgen/relgen/release/load"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want Project
	}{
		{dir: "plain", want: Project{Name: "hello", Version: "0.1.0", Kind: "mix", Discovery: "none", DiscoveryConfig: "file"}},
		{dir: "phoenix", want: Project{Name: "shop", Version: "2.0.0-rc.1", Kind: "mix", Discovery: "dns_cluster", DiscoveryConfig: "file", Phoenix: true}},
		{dir: "umbrella", want: Project{Name: "platform", Version: "3.1.4", Kind: "mix", Discovery: "libcluster-dns",
			DiscoveryConfig: "env", AppLayers: []string{"core", "web"}, Phoenix: true}},
		{dir: "distillery", want: Project{Name: "myapp", Version: "0.1.0", Kind: "distillery", Discovery: "peerage", DiscoveryConfig: "file", Phoenix: true}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			got, err := Detect(os.DirFS(filepath.Join("testdata", tc.dir)), tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Found) == 0 {
				t.Errorf("Found is empty: the header says nothing about where the values came from")
			}
			got.Found = nil
			if diff := gocmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Detect (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDetectWithoutMixExs(t *testing.T) {
	if _, err := Detect(fstest.MapFS{"README.md": {Data: []byte("hi")}}, "My-Service 2"); !errors.Is(err, ErrNoMixProject) {
		t.Errorf("Detect without mix.exs = %v, want ErrNoMixProject (the name would be a guess)", err)
	}
	// An app-less root (an umbrella without releases) names the release
	// after the directory, and says so.
	got, err := Detect(fstest.MapFS{"mix.exs": {Data: []byte(`def project, do: [apps_path: "apps"]`)}}, "/src/acme")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "acme" {
		t.Errorf("umbrella without releases: name %q, want acme", got.Name)
	}
}

func TestNameFromDir(t *testing.T) {
	for in, want := range map[string]string{
		"my_app": "my_app", "My-App": "my_app", "/home/me/shop.api": "shop_api",
		"42things": "things", "__x__y__": "x_y", "": "my_app", "---": "my_app", `C:\src\Web App`: "web_app",
	} {
		if got := NameFromDir(in); got != want {
			t.Errorf("NameFromDir(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRender renders every fixture's relgen.yaml, compares it with
// testdata/NAME.golden (rewrite with go test ./release/scaffold -update)
// and checks that it loads strictly and resolves in both environments.
func TestRender(t *testing.T) {
	dirs := []string{"plain", "phoenix", "umbrella", "distillery"}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			p, err := Detect(os.DirFS(filepath.Join("testdata", dir)), dir)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Render(p)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join("testdata", dir+".golden"), out)

			cfg := load(t, out)
			if cfg.Release.Name != p.Name || cfg.Release.Version != p.Version || cfg.Release.Kind != p.Kind || cfg.Cluster.Discovery != p.Discovery {
				t.Errorf("loaded release %+v, discovery %q; want %+v", cfg.Release, cfg.Cluster.Discovery, p)
			}
			if got := cmp.Or(cfg.Cluster.DiscoveryConfig, release.DiscoveryConfigFile); got != p.DiscoveryConfig {
				t.Errorf("loaded discovery_config %q, want %q", got, p.DiscoveryConfig)
			}
			if diff := gocmp.Diff(p.AppLayers, cfg.Image.AppLayers); diff != "" {
				t.Errorf("app_layers (-want +got):\n%s", diff)
			}
			if err := cfg.Validate(discovery.Registry{}); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			for _, env := range []string{"staging", "prod"} {
				spec, err := cfg.Resolve(env, discovery.Registry{})
				if err != nil {
					t.Fatalf("Resolve(%s): %v", env, err)
				}
				if want := release.ObjectName(p.Name); spec.Topology.Namespace != want && spec.Topology.Namespace != want+"-staging" {
					t.Errorf("%s: namespace %q", env, spec.Topology.Namespace)
				}
				if env == "prod" && !spec.Protected {
					t.Errorf("prod is not protected")
				}
			}
		})
	}
}

// load reads a rendered relgen.yaml the way relgen does.
func load(t *testing.T, data []byte) *release.Config {
	t.Helper()
	cfg, err := relload.Bytes("relgen.yaml", data)
	if err != nil {
		t.Fatalf("loading: %v\n%s", err, data)
	}
	return cfg
}
