package image

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// LabelBaseName is the OCI annotation naming the base image by a
// reference it can be pulled by (with LabelBaseDigest, what crane rebase
// reads); Build leaves it to the caller, who knows how the base was named.
const LabelBaseName = "org.opencontainers.image.base.name"

// Base image specs accepted by ResolveBase besides a registry reference.
const (
	BaseScratch = "scratch"
	baseLayout  = "oci-layout:"
	baseTarball = "tarball:"
)

// ResolveBase opens the base image named by spec for platform p:
// "scratch" (or "") gives nil, which Build takes as an empty base;
// "oci-layout:DIR" reads an OCI layout, "tarball:FILE" a docker save /
// relgen tarball; anything else is a registry reference, pulled with
// credentials from keychain (authn.DefaultKeychain when nil). Indexes are
// resolved to the image for p.
func ResolveBase(ctx context.Context, spec string, p v1.Platform, keychain authn.Keychain) (v1.Image, error) {
	switch {
	case spec == "" || spec == BaseScratch:
		return nil, nil
	case strings.HasPrefix(spec, baseLayout):
		dir := strings.TrimPrefix(spec, baseLayout)
		idx, err := layout.ImageIndexFromPath(dir)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", spec, err)
		}
		img, err := imageForPlatform(idx, p)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", spec, err)
		}
		return img, nil
	case strings.HasPrefix(spec, baseTarball):
		img, err := tarball.ImageFromPath(strings.TrimPrefix(spec, baseTarball), nil)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", spec, err)
		}
		return img, nil
	}
	ref, err := name.ParseReference(spec)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", spec, err)
	}
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithPlatform(p), remote.WithAuthFromKeychain(keychain))
	if err != nil {
		return nil, &PullError{Ref: spec, Registry: ref.Context().RegistryStr(), Err: err}
	}
	return img, nil
}

// PullError is a base image that could not be pulled from its registry;
// callers add what to check, and the offline alternatives.
type PullError struct {
	Ref, Registry string
	Err           error
}

func (e *PullError) Error() string {
	return fmt.Sprintf("base %s: pulling from registry %s: %v", e.Ref, e.Registry, e.Err)
}

func (e *PullError) Unwrap() error { return e.Err }

// imageForPlatform finds the image for p in a layout's index, descending
// into nested indexes. A lone image without platform data is taken as is.
func imageForPlatform(idx v1.ImageIndex, p v1.Platform) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var found []string
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			if img, err := imageForPlatform(child, p); err == nil {
				return img, nil
			}
		case d.MediaType.IsImage():
			if d.Platform == nil && len(m.Manifests) == 1 || d.Platform != nil && d.Platform.Satisfies(p) {
				return idx.Image(d.Digest)
			}
			if d.Platform != nil {
				found = append(found, d.Platform.String())
			}
		}
	}
	if len(found) > 0 {
		return nil, fmt.Errorf("no image for %s (found %s)", p.String(), strings.Join(found, ", "))
	}
	return nil, fmt.Errorf("no image for %s", p.String())
}
