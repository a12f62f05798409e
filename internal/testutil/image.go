package testutil

import (
	"archive/tar"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ImageFile reads a regular file from an image's flattened file system.
func ImageFile(t *testing.T, img v1.Image, name string) string {
	t.Helper()
	return ImageFiles(t, img, name)[name]
}

// ImageFiles reads regular files from an image's flattened file system in
// one pass, which stops once it has them all.
func ImageFiles(t *testing.T, img v1.Image, names ...string) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	files := map[string]string{}
	for len(files) < len(names) {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: %d of them not in the image: %v", strings.Join(names, ", "), len(names)-len(files), err)
		}
		if _, done := files[h.Name]; done || !slices.Contains(names, h.Name) {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = string(data)
	}
	return files
}

// Referrer finds the one artifact that refers to ref in its registry and
// returns its descriptor in the referrers list, its manifest and the
// content of its single layer.
func Referrer(t *testing.T, ref name.Digest) (v1.Descriptor, *v1.Manifest, []byte) {
	t.Helper()
	idx, err := remote.Referrers(ref)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("referrers of %s = %+v, want one", ref, m.Manifests)
	}
	art, err := remote.Image(ref.Context().Digest(m.Manifests[0].Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	am, err := art.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := art.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("artifact %s: %d layers (%v), want 1", m.Manifests[0].Digest, len(layers), err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return m.Manifests[0], am, data
}
