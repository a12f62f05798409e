package deb

import (
	"bytes"

	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/relgen/relgen/internal/safefile"
)

// cacheFormat names the layer format; change it whenever Base's output
// changes for the same input, so that old cache entries are not used.
const cacheFormat = "relgen-deb-base-3"

// BaseFromFiles reads the .deb files and builds their base (see Base).
// With a cache directory, the compressed layer is kept there under a key
// of the files' contents and the options, and a later build of the same
// packages reads it instead of unpacking the packages again.
func BaseFromFiles(files []string, cacheDir string, opts ...Option) (v1.Image, error) {
	o := makeOptions(opts)
	key, err := cacheKey(files, o)
	if err != nil {
		return nil, err
	}
	blob := filepath.Join(cacheDir, key+".tar.gz")
	meta := filepath.Join(cacheDir, key+".json")
	if cacheDir != "" {
		var m cacheMeta
		if data, err := os.ReadFile(meta); err == nil && json.Unmarshal(data, &m) == nil {
			if fi, err := os.Stat(blob); err == nil && fi.Size() == m.Size {
				return imageOf(&fileLayer{path: blob, digest: m.Digest, diffID: m.DiffID, size: m.Size}, m.History, o)
			}
		}
	}
	pkgs := make([]*Package, len(files))
	var g errgroup.Group
	g.SetLimit(2) // xz decoding is the cost; two packages at a time
	for i, f := range files {
		g.Go(func() (err error) {
			pkgs[i], err = ReadFile(f)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	data, history, err := layerTar(pkgs, o)
	if err != nil {
		return nil, err
	}
	compressed, err := gzipped(data)
	if err != nil {
		return nil, err
	}
	if cacheDir == "" {
		return blobImage(compressed, history, o)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	if err := safefile.WriteFile(blob, compressed, 0o444); err != nil {
		return nil, fmt.Errorf("caching the base layer: %w", err)
	}
	m := cacheMeta{History: history, Size: int64(len(compressed))}
	if m.Digest, _, err = v1.SHA256(bytes.NewReader(compressed)); err != nil {
		return nil, err
	}
	if m.DiffID, _, err = v1.SHA256(bytes.NewReader(data)); err != nil {
		return nil, err
	}
	j, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := safefile.WriteFile(meta, j, 0o644); err != nil {
		return nil, fmt.Errorf("caching the base layer: %w", err)
	}
	return imageOf(&fileLayer{path: blob, digest: m.Digest, diffID: m.DiffID, size: m.Size}, history, o)
}

// cacheMeta is what the cache keeps next to a compressed base layer, so
// that a hit reads neither the packages nor the layer.
type cacheMeta struct {
	History string  `json:"history"`
	Digest  v1.Hash `json:"digest"`
	DiffID  v1.Hash `json:"diffID"`
	Size    int64   `json:"size"`
}

// fileLayer is a cached, gzip-compressed base layer.
type fileLayer struct {
	path           string
	digest, diffID v1.Hash
	size           int64
}

var _ v1.Layer = (*fileLayer)(nil)

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cached base layer %s: %w", l.path, err)
	}
	return readCloser{z, func() error { _ = z.Close(); return f.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// cacheKey hashes everything the base depends on.
func cacheKey(files []string, o options) (string, error) {
	var sums [][]byte
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return "", err
		}
		h := sha256.New()
		_, err = io.Copy(h, fh)
		_ = fh.Close()
		if err != nil {
			return "", fmt.Errorf("%s: %w", f, err)
		}
		sums = append(sums, h.Sum(nil))
	}
	slices.SortFunc(sums, bytes.Compare)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d:%d\n%d\n%s\n%v\n", cacheFormat, o.uid, o.gid, o.created.Unix(), o.platform.String(), o.noCheck)
	for _, s := range sums {
		h.Write(s)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
