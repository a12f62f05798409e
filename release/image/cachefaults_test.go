package image

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

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

// TestCacheDamagedBlobsRebuilt: a cached layer that was truncated, or
// altered in place with its size kept, is detected by its digest and
// rebuilt; the image never carries the damaged bytes.
func TestCacheDamagedBlobsRebuilt(t *testing.T) {
	damage := map[string]func(t *testing.T, blob string){
		"truncated": func(t *testing.T, blob string) {
			if err := os.Truncate(blob, 10); err != nil {
				t.Fatal(err)
			}
		},
		"one byte altered": func(t *testing.T, blob string) {
			f, err := os.OpenFile(blob, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = f.Close() }()
			fi, _ := f.Stat()
			b := make([]byte, 1)
			if _, err := f.ReadAt(b, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
			b[0] ^= 0xff
			if _, err := f.WriteAt(b, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		},
		"emptied": func(t *testing.T, blob string) {
			if err := os.Truncate(blob, 0); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, spoil := range damage {
		t.Run(name, func(t *testing.T) {
			dir := newRelease(t)
			cache := t.TempDir()
			want := mustBuild(t, dir, WithCacheDir(cache))
			for _, b := range cacheBlobs(t, cache) {
				if err := os.Chmod(b, 0o644); err != nil {
					t.Fatal(err)
				}
				spoil(t, b)
			}
			got := mustBuild(t, dir, WithCacheDir(cache))
			assertWhole(t, got, want)
			// A layout hard-links cached blobs: it must get whole ones too.
			out := filepath.Join(t.TempDir(), "layout")
			if err := WriteLayout(context.Background(), out, got, ""); err != nil {
				t.Fatal(err)
			}
			img, _ := layoutImage(t, out)
			if err := validate.Image(img); err != nil {
				t.Errorf("validate.Image(layout) = %v", err)
			}
		})
	}
}

// TestCacheSweepsStaleTemps: temporary files a killed build left are
// removed by a later build once they are a day old; fresh ones, which may
// belong to a build running now, are kept.
func TestCacheSweepsStaleTemps(t *testing.T) {
	cache := t.TempDir()
	st, err := openStore(cache)
	if err != nil {
		t.Fatal(err)
	}
	old, fresh := st.path("tmp", "blob-killed"), st.path("tmp", "blob-running")
	writeFile(t, old, "partial", 0o644)
	writeFile(t, fresh, "partial", 0o644)
	now, err := st.clock()
	if err != nil {
		t.Fatal(err)
	}
	long := now.Add(-staleTemp - time.Minute)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	mustBuild(t, newRelease(t), WithCacheDir(cache))
	if _, err := os.Stat(old); err == nil {
		t.Errorf("a day-old temporary file was kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file was removed: %v", err)
	}
}
