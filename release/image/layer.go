package image

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// How a layer was obtained, for progress messages and tests.
const (
	reuseStat    = "unchanged files, cached" // stat data matched: nothing read
	reuseContent = "same content, cached"    // read and fast-hashed, not compressed
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
//  2. a layer of the same shape was built before: hash every file with a
//     fast hash, in parallel (fileSums), and reuse the blob recorded for
//     that content key, if any;
//  3. otherwise stream the tar through the parallel compressor once,
//     hashing both digests and the content key on the way.
func (b *layerBuilder) build(ctx context.Context, l *layerSpec) (*blobLayer, string, error) {
	sk := statKey(b.params, l)
	if bl, ok := b.store.lookup("stat", sk, b.mediaType); ok {
		return bl, reuseStat, nil
	}

	shape := shapeKey(b.params, l)
	var want string
	if b.store.hasShape(shape) {
		sums, err := fileSums(ctx, b.dir, l)
		if err != nil {
			return nil, "", fmt.Errorf("layer %s: %w", l.name(), err)
		}
		want = contentKey(b.params, l, sums)
		if bl, ok := b.store.lookup("content", want, b.mediaType); ok {
			r := diffRecord{Digest: bl.digest.Hex, DiffID: bl.diffID.Hex, Size: bl.size}
			if err := b.store.remember(l, "", "", sk, b.now, r); err != nil {
				return nil, "", err
			}
			return bl, reuseContent, nil
		}
	}

	sums := make([]fileSum, len(l.entries))
	r, err := b.store.compress(func(w io.Writer) error {
		return writeTar(ctx, w, b.dir, b.params, l, sums)
	})
	if err != nil {
		return nil, "", fmt.Errorf("layer %s: %w", l.name(), err)
	}
	ck := contentKey(b.params, l, sums)
	if want != "" && ck != want {
		return nil, "", fmt.Errorf("layer %s: release changed while building", l.name())
	}
	if err := b.store.remember(l, shape, ck, sk, b.now, r); err != nil {
		return nil, "", err
	}
	bl, err := newBlobLayer(b.store.path("blobs", r.Digest), r, b.mediaType)
	if err != nil {
		return nil, "", err
	}
	return bl, reuseNone, nil
}
