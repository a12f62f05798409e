package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/relgen/relgen/internal/safefile"
)

// annotationRefName tags a manifest inside an OCI layout (oci:DIR:TAG).
const annotationRefName = "org.opencontainers.image.ref.name"

// WriteLayout writes the result as an OCI image layout in dir, replacing a
// layout already there. tag, when set, names the image inside the layout
// (skopeo's oci:DIR:TAG). The layout is assembled in a sibling directory
// and renamed into place, so an error or a cancelled ctx leaves dir as it
// was.
func WriteLayout(ctx context.Context, dir string, res *Result, tag string) error {
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("writing layout %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("writing layout %s: %w", dir, err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	idx := res.Index
	if idx == nil {
		desc := v1.Descriptor{Platform: &res.Manifests[0].Platform}
		if tag != "" {
			desc.Annotations = map[string]string{annotationRefName: tag}
		}
		idx = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
			mutate.IndexAddendum{Add: res.Image, Descriptor: desc})
	} else if tag != "" {
		idx = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
			mutate.IndexAddendum{Add: res.Index, Descriptor: v1.Descriptor{
				Annotations: map[string]string{annotationRefName: tag}}})
	}
	linkBlobs(tmp, res)
	if _, err := layout.Write(tmp, idx); err != nil {
		return fmt.Errorf("writing layout %s: %w", dir, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("writing layout %s: %w", dir, err)
	}
	if err := replaceDir(tmp, dir); err != nil {
		return fmt.Errorf("writing layout %s: %w", dir, err)
	}
	return nil
}

// linkBlobs hard-links the cached layers into the layout being written, so
// that layout.Write, which skips blobs already present, copies nothing.
// Cached blobs are read-only and never rewritten in place, so sharing them
// is safe. Where linking fails (another file system) layout.Write copies.
func linkBlobs(dir string, res *Result) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if os.MkdirAll(blobs, 0o755) != nil {
		return
	}
	for _, m := range res.Manifests {
		layers, err := m.Image.Layers()
		if err != nil {
			return
		}
		for _, l := range layers {
			if bl, ok := l.(*blobLayer); ok {
				_ = os.Link(bl.path, filepath.Join(blobs, bl.digest.Hex))
			}
		}
	}
}

// checkReplaceable refuses to replace anything but an OCI layout or an
// empty directory: a typo must not delete a source tree.
func checkReplaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("writing layout %s: %w", dir, err)
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return fmt.Errorf("writing layout %s: directory exists and is not an OCI layout", dir)
	}
	return nil
}

// replaceDir moves the finished tmp to dir. An old dir is first moved
// aside, so that dir holds either the old or the new layout, never a mix.
func replaceDir(tmp, dir string) error {
	if err := os.Rename(tmp, dir); err == nil {
		return nil
	}
	old, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".old-")
	if err != nil {
		return err
	}
	aside := filepath.Join(old, "layout")
	if err := os.Rename(dir, aside); err != nil {
		_ = os.Remove(old)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.Rename(aside, dir)
		_ = os.RemoveAll(old)
		return err
	}
	return os.RemoveAll(old)
}

// WriteTarball writes the image as a tarball that docker load and podman
// load accept, tagged tag. It is written to a temporary file next to file
// and renamed into place. An index has no tarball form: write its platform
// images one by one.
func WriteTarball(ctx context.Context, file string, res *Result, tag name.Tag) error {
	if res.Image == nil {
		return fmt.Errorf("writing tarball %s: a tarball holds a single platform, not an index", file)
	}
	err := writeAtomic(file, func(w io.Writer) error {
		return tarball.Write(tag, res.Image, &ctxWriter{ctx: ctx, w: w})
	})
	if err != nil {
		return fmt.Errorf("writing tarball %s: %w", file, err)
	}
	return nil
}

// ctxWriter stops a long write when ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// writeAtomic creates path's missing parent directories, then writes it
// atomically (internal/safefile).
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return safefile.Write(path, 0o644, write)
}
