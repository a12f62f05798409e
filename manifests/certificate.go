package manifests

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/relgen/relgen/release"
)

// CertificateAPIVersion is cert-manager's Certificate API.
const CertificateAPIVersion = "cert-manager.io/v1"

// certificateSpec is the part of cert-manager's Certificate spec relgen
// sets. relgen does not import cert-manager for one object; this typed
// struct is converted to an unstructured object, never written as text.
type certificateSpec struct {
	SecretName  string               `json:"secretName"`
	DNSNames    []string             `json:"dnsNames"`
	Usages      []string             `json:"usages"`
	PrivateKey  certificatePrivKey   `json:"privateKey"`
	IssuerRef   certificateIssuerRef `json:"issuerRef"`
	Duration    string               `json:"duration,omitempty"`
	RenewBefore string               `json:"renewBefore,omitempty"`
}

type certificatePrivKey struct {
	Algorithm      string `json:"algorithm"`
	Size           int    `json:"size"`
	RotationPolicy string `json:"rotationPolicy"`
}

type certificateIssuerRef struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Group string `json:"group"`
}

// certificate is the cert-manager Certificate that fills the nodes'
// distribution Secret under cluster.tls.issuer, or nil. One certificate
// serves every pod: it carries the cluster identity (the headless
// Service's FQDN) that the ssl_dist_optfile checks, and the wildcard of
// the pods' DNS names under it. Every node is both TLS server and
// client, hence both usages.
func certificate(s *release.Spec) *unstructured.Unstructured {
	t := s.Distribution.TLS
	if t == nil || t.Issuer == "" {
		return nil
	}
	spec := certificateSpec{
		SecretName: t.Secret,
		// No commonName: the identity is a DNS SAN, and a common name is
		// limited to 64 characters, which a long Service FQDN exceeds.
		DNSNames:   CertificateDNSNames(t),
		Usages:     []string{"digital signature", "key encipherment", "server auth", "client auth"},
		PrivateKey: certificatePrivKey{Algorithm: "ECDSA", Size: 256, RotationPolicy: "Always"},
		IssuerRef:  certificateIssuerRef{Name: t.Issuer, Kind: t.IssuerKind, Group: "cert-manager.io"},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&spec)
	if err != nil {
		panic(fmt.Sprintf("converting a Certificate spec: %v", err)) // plain strings only
	}
	meta := meta(s, t.Secret)
	u := &unstructured.Unstructured{Object: map[string]any{"spec": m}}
	u.SetAPIVersion(CertificateAPIVersion)
	u.SetKind("Certificate")
	u.SetName(meta.Name)
	u.SetNamespace(meta.Namespace)
	u.SetLabels(meta.Labels)
	return u
}

// CertificateDNSNames are the DNS names a node certificate must carry:
// the cluster identity first, then the wildcard of the pods' DNS names.
func CertificateDNSNames(t *release.TLSSpec) []string {
	return []string{t.Identity, "*." + t.Identity}
}

// certificateFields reads secretName and dnsNames back from a
// Certificate object, for the bundle's cross-checks.
func certificateFields(u *unstructured.Unstructured) (secret string, dnsNames []string) {
	secret, _, _ = unstructured.NestedString(u.Object, "spec", "secretName")
	dnsNames, _, _ = unstructured.NestedStringSlice(u.Object, "spec", "dnsNames")
	return secret, slices.Clone(dnsNames)
}
