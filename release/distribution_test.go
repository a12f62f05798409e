package release

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveDistribution(t *testing.T) {
	no := false
	c := &Config{
		Release: ReleaseConfig{Name: "vault"},
		Image:   ImageConfig{Repository: "registry.example.com/vault"},
		Cluster: ClusterConfig{EPMD: &no, TLS: &TLSConfig{Secret: "vault-tls"}},
		Environments: map[string]Environment{
			"staging": {Namespace: "vault-staging"},
			// prod keeps epmd and gets its certificate from cert-manager.
			"prod": {Namespace: "vault", ClusterConfig: ClusterConfig{EPMD: new(bool), TLS: &TLSConfig{Issuer: "ca", MinVersion: TLS12}}},
		},
	}
	*c.Environments["prod"].EPMD = true
	for _, tc := range []struct {
		env      string
		want     DistributionSpec
		epmdPort int32
		mode     string
		versions []string
	}{
		{env: "staging", want: DistributionSpec{TLS: &TLSSpec{Secret: "vault-tls", MinVersion: TLS13, Identity: "vault-headless.vault-staging.svc.cluster.local"}},
			mode: "tls, no epmd", versions: []string{"tlsv1.3"}},
		{env: "prod", want: DistributionSpec{EPMD: true, TLS: &TLSSpec{Secret: "vault-dist-tls", Issuer: "ca", IssuerKind: IssuerKind, MinVersion: TLS12, Identity: "vault-headless.vault.svc.cluster.local"}},
			epmdPort: EPMDPort, mode: "tls, epmd", versions: []string{"tlsv1.3", "tlsv1.2"}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			s, err := c.Resolve(tc.env, fakeStrategies{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, s.Distribution); diff != "" {
				t.Errorf("Distribution (-want +got):\n%s", diff)
			}
			if s.Topology.EPMDPort != tc.epmdPort || s.Distribution.Mode() != tc.mode || !s.Distribution.Secured() {
				t.Errorf("EPMDPort %d, Mode %q, Secured %v; want %d, %q, true", s.Topology.EPMDPort, s.Distribution.Mode(), s.Distribution.Secured(), tc.epmdPort, tc.mode)
			}
			if got := s.Distribution.TLS.Versions(); !cmp.Equal(got, tc.versions) {
				t.Errorf("Versions() = %v, want %v", got, tc.versions)
			}
			if tc.env == "prod" && s.KeyPath("tls") != "environments.prod.tls" {
				t.Errorf("KeyPath(tls) = %s", s.KeyPath("tls"))
			}
		})
	}
}
