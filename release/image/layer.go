package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// How a layer was obtained, for progress messages and tests.
const (
	reuseStat    = "unchanged files, cached" // stat data matched: nothing read
	reuseContent = "same content, cached"    // read and hashed, not compressed
	reuseNone    = "compressed"              // built and added to the cache
)

// layerBuilder turns planned layers into cached blobs.
type layerBuilder struct {
	dir       string
	params    tarParams
	store     *store
	now       time.Time
	mediaType types.MediaType
}

// build returns the blob for l, doing as little as the cache allows:
//
//  1. the stat key (names, modes, sizes, times, inodes) is known: reuse the
//     blob without reading a single file;
//  2. a layer of the same shape was built before: hash the tar stream (no
//     compression) and reuse the blob of the same content, if any;
//  3. otherwise stream the tar through the parallel compressor once,
//     hashing both digests on the way.
func (b *layerBuilder) build(ctx context.Context, l *layerSpec) (*blobLayer, string, error) {
	sk := statKey(b.params, l)
	if id, ok := b.store.statDiffID(sk); ok {
		if bl, ok := b.store.layer(id, b.mediaType); ok {
			return bl, reuseStat, nil
		}
	}

	shape := shapeKey(b.params, l)
	var want string
	if b.store.hasShape(shape) {
		h := sha256.New()
		if err := writeTar(ctx, h, b.dir, b.params, l); err != nil {
			return nil, "", fmt.Errorf("layer %s: %w", l.name(), err)
		}
		want = hex.EncodeToString(h.Sum(nil))
		if bl, ok := b.store.layer(want, b.mediaType); ok {
			if err := b.store.remember(l, shape, sk, b.now, diffRecord{
				Digest: bl.digest.Hex, DiffID: want, Size: bl.size,
			}); err != nil {
				return nil, "", err
			}
			return bl, reuseContent, nil
		}
	}

	r, err := b.store.compress(func(w io.Writer) error {
		return writeTar(ctx, w, b.dir, b.params, l)
	})
	if err != nil {
		return nil, "", fmt.Errorf("layer %s: %w", l.name(), err)
	}
	if want != "" && r.DiffID != want {
		return nil, "", fmt.Errorf("layer %s: release changed while building", l.name())
	}
	if err := b.store.remember(l, shape, sk, b.now, r); err != nil {
		return nil, "", err
	}
	bl, err := newBlobLayer(b.store.path("blobs", r.Digest), r, b.mediaType)
	if err != nil {
		return nil, "", err
	}
	return bl, reuseNone, nil
}
