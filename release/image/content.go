package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"runtime"
	"sync/atomic"

	"github.com/zeebo/xxh3"
	"golang.org/x/sync/errgroup"
)

// fileSum identifies a regular file's bytes: XXH3-128 of its content.
//
// It is a cache key, never a digest: it only finds the sha256 diffID and
// blob that an earlier build computed from the same bytes. XXH3 runs at
// memory speed (tens of GB/s against about 1 GB/s for sha256), which is
// what makes a rebuild after `mix release`, which rewrites every file, cost
// a read of the release rather than a hash of it. 128 bits make an
// accidental collision as unlikely as a sha256 one in practice; a crafted
// collision would need someone who can already write the release, who
// could change what ships anyway.
type fileSum [16]byte

// sumFile hashes size bytes of the file name with h, failing when the file
// does not have exactly that size any more.
func sumFile(h *xxh3.Hasher, name string, size int64, buf []byte) (fileSum, error) {
	h.Reset()
	if err := copyFile(h, name, size, buf); err != nil {
		return fileSum{}, err
	}
	return h.Sum128().Bytes(), nil
}

// fileSums hashes every regular file of l in parallel, one worker per CPU,
// in the order of l.entries (other entries get a zero sum).
func fileSums(ctx context.Context, dir string, l *layerSpec) ([]fileSum, error) {
	sums := make([]fileSum, len(l.entries))
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			bp := copyBufs.Get().(*[]byte)
			defer copyBufs.Put(bp)
			h := xxh3.New()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(l.entries) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				e := l.entries[i]
				if e.typ != tar.TypeReg {
					continue
				}
				s, err := sumFile(h, filepath.Join(dir, filepath.FromSlash(e.rel)), e.size, *bp)
				if err != nil {
					return err
				}
				sums[i] = s
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return sums, nil
}

// contentKey identifies the bytes of a layer's tar stream without building
// it: the tar parameters, every entry's header fields and every file's
// sum. Equal content keys mean equal layers.
func contentKey(p tarParams, l *layerSpec, sums []fileSum) string {
	h := sha256.New()
	p.hashKey(h)
	for i, e := range l.entries {
		writeShape(h, e)
		if e.typ == tar.TypeReg {
			h.Write(sums[i][:])
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// writeShape writes what a tar header holds of e.
func writeShape(h hash.Hash, e entry) {
	_, _ = io.WriteString(h, e.rel)
	fmt.Fprintf(h, "\x00%c%o\x00%d\x00%s\x00", e.typ, e.mode, e.size, e.link)
}

// sumWriter passes writes on to w while hashing each file's bytes, so that
// a layer that is compressed also yields its content key (see writeTar).
type sumWriter struct {
	w io.Writer
	h *xxh3.Hasher
}

func (s *sumWriter) Write(p []byte) (int, error) {
	_, _ = s.h.Write(p)
	return s.w.Write(p)
}
