package manifests

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/release"
)

// NewCookie draws a random Erlang cookie from r (crypto/rand.Reader in
// production): 32 bytes as unpadded base32, letters and digits only, so
// it is a valid unquoted atom.
func NewCookie(r io.Reader) (release.Secret, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return release.Secret{}, fmt.Errorf("drawing a random cookie: %w", err)
	}
	return release.NewSecret(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// CookieSecret is the Secret the bundle's pods read the cookie from. It is
// never part of a bundle: users create it once per environment.
//
// It is immutable: every `relgen secret` draws a new cookie, and applying
// a second one over the first would rotate the cookie under running
// nodes, so that pods started afterwards form a second cluster the old
// ones refuse. The API server rejects any change to an immutable Secret's
// data, so a repeated apply fails instead; rotating means deleting the
// Secret on purpose (docs/runtime.md).
func CookieSecret(s *release.Spec, cookie release.Secret) *corev1.Secret {
	immutable := true
	return &corev1.Secret{
		TypeMeta:   typeMeta("v1", "Secret"),
		ObjectMeta: meta(s, s.Release.Cookie.Secret),
		Type:       corev1.SecretTypeOpaque,
		Immutable:  &immutable,
		StringData: map[string]string{s.Release.Cookie.Key: cookie.Reveal()},
	}
}
