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
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/relgen/relgen/internal/safefile"
)

// cacheFormat names the layer format; change it whenever Base's output
// changes for the same input, so that old cache entries are not used.
const cacheFormat = "relgen-deb-base-2"

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
	var history string
	if cacheDir != "" {
		if data, err := os.ReadFile(meta); err == nil && json.Unmarshal(data, &history) == nil {
			if _, err := os.Stat(blob); err == nil {
				return cachedImage(blob, history, o)
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
	h, _ := json.Marshal(history)
	if err := safefile.WriteFile(meta, h, 0o644); err != nil {
		return nil, fmt.Errorf("caching the base layer: %w", err)
	}
	return cachedImage(blob, history, o)
}

func cachedImage(blob, history string, o options) (v1.Image, error) {
	layer, err := tarball.LayerFromFile(blob, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("cached base layer %s: %w", blob, err)
	}
	return imageOf(plainLayer{layer}, history, o)
}

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
	fmt.Fprintf(h, "%s\n%d:%d\n%d\n%s\n", cacheFormat, o.uid, o.gid, o.created.Unix(), o.platform.String())
	for _, s := range sums {
		h.Write(s)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
