package release

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// TLSConfig is cluster.tls: where the nodes' distribution certificates
// come from. Either Secret names a kubernetes.io/tls Secret that also
// holds ca.crt (`relgen secret --tls` prints one), or Issuer names a
// cert-manager issuer and relgen emits a Certificate that fills the
// Secret.
type TLSConfig struct {
	// Secret is the Secret mounted into the pods; with Issuer it is the
	// Certificate's secretName. Default <name>-dist-tls.
	Secret string `mapstructure:"secret"`
	// Issuer and Kind name the cert-manager issuer (Issuer or
	// ClusterIssuer) that signs the nodes' certificate.
	Issuer string `mapstructure:"issuer"`
	Kind   string `mapstructure:"kind"`
	// MinVersion is the oldest TLS version the nodes accept: 1.3 (the
	// default) or 1.2.
	MinVersion string `mapstructure:"min_version"`
}

// Issuer kinds cert-manager knows.
const (
	IssuerKind        = "Issuer"
	ClusterIssuerKind = "ClusterIssuer"
)

// TLS versions cluster.tls.min_version accepts.
const (
	TLS12 = "1.2"
	TLS13 = "1.3"
)

// Where the distribution certificates are mounted in the pod, and the
// keys of the Secret that holds them (the kubernetes.io/tls layout plus
// ca.crt, as cert-manager writes it).
const (
	// TLSDir is the Secret's read-only mount. It is not under ConfigDir:
	// a mount inside another volume's mount is fragile.
	TLSDir     = "/etc/relgen-tls"
	TLSCertKey = "tls.crt"
	TLSKeyKey  = "tls.key"
	TLSCAKey   = "ca.crt"
)

// Env vars relgen sets so that a remote shell or rpc node (bin/<name>
// remote, rpc) boots with the same distribution flags as the node:
// mix releases read RELEASE_REMOTE_VM_ARGS; Distillery's remote commands
// start through `elixir`, which reads ELIXIR_ERL_OPTIONS (its foreground
// boot does not).
const (
	RemoteVMArgsEnv     = "RELEASE_REMOTE_VM_ARGS"
	ElixirERLOptionsEnv = "ELIXIR_ERL_OPTIONS"
)

// DistributionSpec is how one environment's nodes talk to each other.
type DistributionSpec struct {
	// EPMD is true when the nodes register with epmd on 4369 (the OTP
	// default); false when each node listens on the distribution port
	// and dials its peers there, with no epmd at all.
	EPMD bool
	// TLS is set when distribution runs over TLS.
	TLS *TLSSpec
}

// Secured reports whether the nodes run a distribution mode a remote
// shell must copy (TLS or no epmd), so relgen gives remote shells their
// own vm.args.
func (d DistributionSpec) Secured() bool { return d.TLS != nil || !d.EPMD }

// Mode names the distribution mode, e.g. "tls, no epmd": nodes of two
// different modes cannot connect to each other.
func (d DistributionSpec) Mode() string {
	proto, epmd := "tcp", "epmd"
	if d.TLS != nil {
		proto = "tls"
	}
	if !d.EPMD {
		epmd = "no epmd"
	}
	return proto + ", " + epmd
}

// TLSSpec is the resolved cluster.tls.
type TLSSpec struct {
	// Secret is the kubernetes.io/tls Secret (with ca.crt) the pods mount.
	Secret string
	// Issuer and IssuerKind are set when cert-manager signs the
	// certificate.
	Issuer, IssuerKind string
	MinVersion         string
	// Identity is the DNS name every node certificate carries and every
	// node checks its peer for: the headless Service's FQDN. Node names
	// are pod IPs, which no certificate can list in advance, so peers
	// are verified by this cluster identity instead of their host name.
	Identity string
}

// Versions lists the TLS versions the nodes accept, newest first, as
// OTP names them.
func (t *TLSSpec) Versions() []string {
	if t.MinVersion == TLS12 {
		return []string{"tlsv1.3", "tlsv1.2"}
	}
	return []string{"tlsv1.3"}
}

// resolveDistribution merges cluster.epmd and cluster.tls into
// s.Distribution and records the mode in s.Topology.
func (c *Config) resolveDistribution(s *Spec, m *merger, e Environment) {
	base, env := c.Cluster, e.ClusterConfig
	d := DistributionSpec{EPMD: pick(m, "epmd", "cluster.epmd", base.EPMD, env.EPMD, true)}
	if t := pick(m, "tls", "cluster.tls", base.TLS, env.TLS, TLSConfig{}); t != (TLSConfig{}) {
		d.TLS = &TLSSpec{
			Secret:     t.Secret,
			Issuer:     t.Issuer,
			IssuerKind: t.Kind,
			MinVersion: t.MinVersion,
		}
		if d.TLS.Secret == "" {
			d.TLS.Secret = ObjectName(c.Release.Name) + "-dist-tls"
		}
		if d.TLS.Issuer != "" && d.TLS.IssuerKind == "" {
			d.TLS.IssuerKind = IssuerKind
		}
		if d.TLS.MinVersion == "" {
			d.TLS.MinVersion = TLS13
		}
	}
	d.apply(&s.Topology)
	s.Distribution = d
}

// apply records the mode in the topology every part shares: no epmd
// port without epmd, and the TLS identity from the headless Service.
func (d DistributionSpec) apply(t *Topology) {
	if !d.EPMD {
		t.EPMDPort = 0
	}
	if d.TLS != nil {
		d.TLS.Identity = t.FQDN()
	}
}

// checkDistribution validates cluster.epmd and cluster.tls.
func (s *Spec) checkDistribution(add func(name, format string, args ...any)) {
	d := s.Distribution
	if d.Secured() {
		remote := RemoteVMArgsEnv
		if s.Release.Kind == KindDistillery {
			remote = ElixirERLOptionsEnv
		}
		for _, e := range s.Deployment.Env {
			if e.Name == remote {
				add("env", "%s is set by relgen so that remote shells use the nodes' distribution flags (%s); remove it", e.Name, d.Mode())
			}
		}
	}
	t := d.TLS
	if t == nil {
		return
	}
	for _, msg := range validation.IsDNS1123Subdomain(t.Secret) {
		add("tls", "secret %q: %s", t.Secret, msg)
	}
	if t.Secret == s.Release.Cookie.Secret {
		add("tls", "secret %s is also the cookie's Secret (release.cookie.secret); the certificates need a kubernetes.io/tls Secret of their own", t.Secret)
	}
	if t.Issuer != "" {
		for _, msg := range validation.IsDNS1123Subdomain(t.Issuer) {
			add("tls", "issuer %q: %s", t.Issuer, msg)
		}
	}
	if kinds := []string{IssuerKind, ClusterIssuerKind}; t.IssuerKind != "" && !slices.Contains(kinds, t.IssuerKind) {
		add("tls", "kind %q is not one of %s", t.IssuerKind, strings.Join(kinds, ", "))
	}
	if t.Issuer == "" && t.IssuerKind != "" {
		add("tls", "kind %s names no issuer: set issuer too, or drop kind and give the Secret (secret)", t.IssuerKind)
	}
	if t.MinVersion != TLS13 && t.MinVersion != TLS12 {
		add("tls", "min_version %q is not one of %s, %s", t.MinVersion, TLS13, TLS12)
	}
}
