package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// emptyConfig is the OCI empty descriptor's content, the config of an
// artifact manifest.
var emptyConfig = []byte("{}")

const emptyMediaType types.MediaType = "application/vnd.oci.empty.v1+json"

// artifact is an OCI 1.1 artifact manifest carrying one SPDX document and
// pointing at the image it describes.
type artifact struct{ raw []byte }

func (a artifact) RawManifest() ([]byte, error)        { return a.raw, nil }
func (a artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// Manifest builds the artifact manifest for doc with subject as its
// subject, and the two blobs it references (the empty config and doc).
func Manifest(doc []byte, subject v1.Descriptor) (raw []byte, blobs []v1.Layer, err error) {
	layer := static.NewLayer(doc, MediaType)
	config := static.NewLayer(emptyConfig, emptyMediaType)
	desc := func(l v1.Layer, mt types.MediaType) (v1.Descriptor, error) {
		d, err := l.Digest()
		if err != nil {
			return v1.Descriptor{}, err
		}
		size, err := l.Size()
		return v1.Descriptor{MediaType: mt, Digest: d, Size: size}, err
	}
	cd, err := desc(config, emptyMediaType)
	if err != nil {
		return nil, nil, err
	}
	ld, err := desc(layer, MediaType)
	if err != nil {
		return nil, nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: MediaType,
		Config: cd, Layers: []v1.Descriptor{ld}, Subject: &subject,
	}
	raw, err = json.Marshal(m)
	return raw, []v1.Layer{config, layer}, err
}

// Push uploads doc as a referrer of the image ref points at (by digest):
// registries that support the referrers API list it under the image;
// others get ggcr's fallback tag (sha256-<digest>).
func Push(ctx context.Context, ref name.Digest, subject v1.Descriptor, doc []byte, opts ...remote.Option) (v1.Hash, error) {
	raw, blobs, err := Manifest(doc, subject)
	if err != nil {
		return v1.Hash{}, err
	}
	opts = append([]remote.Option{remote.WithContext(ctx)}, opts...)
	repo := ref.Context()
	for _, b := range blobs {
		if err := remote.WriteLayer(repo, b, opts...); err != nil {
			return v1.Hash{}, fmt.Errorf("pushing the SBOM to %s: %w", repo, err)
		}
	}
	d, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Put(repo.Digest(d.String()), artifact{raw: raw}, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("pushing the SBOM to %s: %w", repo, err)
	}
	return d, nil
}
