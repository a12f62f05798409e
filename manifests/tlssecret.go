package manifests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/release"
)

// clockSkew backdates certificates a little, so a node whose clock is a
// few minutes behind does not reject a fresh one.
const clockSkew = 5 * time.Minute

// TLSSecret is a freshly generated distribution certificate Secret.
type TLSSecret struct {
	Secret *corev1.Secret
	// NotAfter is when the node certificate (and its CA) expire.
	NotAfter time.Time
}

// MinValidity is the shortest certificate validity NewTLSSecret makes.
const MinValidity = time.Hour

// NewTLSSecret makes the kubernetes.io/tls Secret that TLS distribution
// mounts: a new self-signed CA (ECDSA P-256) that is the cluster's only
// trust anchor (ca.crt), and one node certificate signed by it, carrying
// the cluster identity (tls.crt, tls.key). Both are valid from now for
// validity (at least MinValidity). r is the randomness (crypto/rand.Reader when nil).
func NewTLSSecret(s *release.Spec, r io.Reader, now time.Time, validity time.Duration) (*TLSSecret, error) {
	t := s.Distribution.TLS
	switch {
	case t == nil:
		return nil, s.Errorf("tls", "is not set: there is no certificate Secret to make (set cluster.tls: {secret: NAME})")
	case t.Issuer != "":
		return nil, s.Errorf("tls", "issuer %s: cert-manager writes the Secret %s from the bundle's Certificate; relgen secret --tls is for cluster.tls.secret", t.Issuer, t.Secret)
	case validity < MinValidity:
		return nil, fmt.Errorf("validity %s: want at least %s; a shorter one expires before the pods it is made for are rolled out", validity, MinValidity)
	}
	if r == nil {
		r = rand.Reader
	}
	notBefore, notAfter := now.Add(-clockSkew).UTC(), now.Add(validity).UTC()

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), r)
	if err != nil {
		return nil, fmt.Errorf("generating the CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: commonName(fmt.Sprintf("%s distribution CA (%s)", s.Release.Name, s.Environment))},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, ca, err := sign(r, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("signing the CA: %w", err)
	}
	nodeKey, err := ecdsa.GenerateKey(elliptic.P256(), r)
	if err != nil {
		return nil, fmt.Errorf("generating the node key: %w", err)
	}
	nodeTmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName(s.Release.Name + " node")},
		DNSNames:    CertificateDNSNames(t),
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	nodeDER, _, err := sign(r, nodeTmpl, ca, &nodeKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("signing the node certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(nodeKey)
	if err != nil {
		return nil, fmt.Errorf("encoding the node key: %w", err)
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	return &TLSSecret{
		NotAfter: notAfter,
		Secret: &corev1.Secret{
			TypeMeta:   typeMeta("v1", "Secret"),
			ObjectMeta: meta(s, t.Secret),
			Type:       corev1.SecretTypeTLS,
			StringData: map[string]string{
				release.TLSCertKey: string(pemOf("CERTIFICATE", nodeDER)),
				release.TLSKeyKey:  string(pemOf("PRIVATE KEY", keyDER)),
				release.TLSCAKey:   string(pemOf("CERTIFICATE", caDER)),
			},
		},
	}, nil
}

// commonName cuts a subject common name to the 64 characters X.509
// allows; the node's identity is in its DNS SANs, not here.
func commonName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// sign issues tmpl, signed by parent's key, with a random 128-bit
// serial, and parses the result back.
func sign(r io.Reader, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, key *ecdsa.PrivateKey) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(r, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(r, tmpl, parent, pub, key)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return der, c, err
}
