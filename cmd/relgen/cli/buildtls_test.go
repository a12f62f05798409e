package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/image"
)

func TestCheckTLSApps(t *testing.T) {
	// The shape mix release writes (releases/<vsn>/<name>.rel).
	rel := func(apps string) string {
		return "{release,{\"vault\",\"2.0.1\"},{erts,\"13.1.5\"},[{kernel,\"8.5.3\"},{stdlib,\"4.2\"}," + apps + "{vault,\"2.0.1\"}]}.\n"
	}
	cfg := func(tls bool) *release.Config {
		c := &release.Config{
			Release:      release.ReleaseConfig{Name: "vault"},
			Image:        release.ImageConfig{Repository: "registry.example.com/vault"},
			Environments: map[string]release.Environment{"prod": {Namespace: "vault"}, "staging": {}},
			Origin:       release.Origin{File: "relgen.yaml"},
		}
		if tls {
			c.Environments["prod"] = release.Environment{Namespace: "vault", ClusterConfig: release.ClusterConfig{TLS: &release.TLSConfig{Secret: "vault-tls"}}}
		}
		return c
	}
	for _, tc := range []struct {
		name string
		tls  bool
		apps string
		want string
	}{
		{name: "tls with ssl", tls: true, apps: `{crypto,"5.1.4"},{asn1,"5.0.21"},{public_key,"1.13.3"},{ssl,"10.8.7"},`},
		{name: "tls without ssl", tls: true, apps: `{crypto,"5.1.4"},`,
			want: `relgen.yaml: environments.prod.tls: TLS distribution in prod needs ssl, crypto, public_key in the release, but releases/2.0.1/vault.rel does not list ssl, public_key: add :ssl to extra_applications`},
		{name: "no tls", apps: ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			vsn := filepath.Join(dir, "releases", "2.0.1")
			if err := os.MkdirAll(vsn, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(vsn, "vault.rel"), []byte(rel(tc.apps)), 0o644); err != nil {
				t.Fatal(err)
			}
			err := checkTLSApps(cfg(tc.tls), dir, image.Release{Name: "vault", Version: "2.0.1"})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("checkTLSApps: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("checkTLSApps = %v, want %q", err, tc.want)
			}
		})
	}
}
