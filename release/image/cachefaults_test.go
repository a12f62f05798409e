package image

import (
	"context"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// cacheBlobs lists the compressed layers in a cache directory.
func cacheBlobs(t *testing.T, cache string) []string {
	t.Helper()
	var blobs []string
	err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) == "blobs" {
			blobs = append(blobs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return blobs
}

// assertWhole checks res is exactly the image want: same digest, and every
// layer's bytes match the digests the manifest claims.
func assertWhole(t *testing.T, res *Result, want *Result) {
	t.Helper()
	if res.Digest != want.Digest {
		t.Errorf("digest %s, want %s", res.Digest, want.Digest)
	}
	if err := validate.Image(res.Image); err != nil {
		t.Errorf("validate.Image() = %v", err)
	}
}

// TestCacheConcurrentBuilds: builds sharing one cache at the same time,
// cold and then warm, all succeed with the same, whole image.
func TestCacheConcurrentBuilds(t *testing.T) {
	dir := newRelease(t)
	want := mustBuild(t, dir)
	cache := t.TempDir()
	for _, round := range []string{"cold", "warm"} {
		const n = 4
		results := make([]*Result, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i], errs[i] = Build(context.Background(), dir, WithCacheDir(cache)) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("%s build %d = %v", round, i, errs[i])
			}
			assertWhole(t, results[i], want)
		}
	}
	if _, temps := cacheTemps(t, cache); len(temps) > 0 {
		t.Errorf("concurrent builds left temporary files %v", temps)
	}
}

// cacheTemps lists the files in the cache's temporary directories.
func cacheTemps(t *testing.T, cache string) (string, []string) {
	t.Helper()
	var temps []string
	err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) == "tmp" {
			temps = append(temps, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cache, temps
}
