package image

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/relgen/relgen/bench/synth"
)

// The benchmarks share one synthetic release (bench/synth, ~60 MB, 3000
// files); bench/image.sh runs the whole-program comparison with tar|gzip.

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

func benchRelease(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "relgen-bench-")
		if benchErr == nil {
			_, _, benchErr = synth.Write(filepath.Join(benchDir, "rel"), synth.Options{Seed: 1})
		}
		// Files changed within the last second are "racy" and always
		// verified by content (see statInfo.racy); let the fresh tree age
		// so the warm benchmarks measure the usual case.
		time.Sleep(1100 * time.Millisecond)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "rel")
}

func benchBuild(b *testing.B, dir, cache string) *Result {
	b.Helper()
	res, err := Build(context.Background(), dir, WithCacheDir(cache))
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkBuildCold builds every layer into an empty cache.
func BenchmarkBuildCold(b *testing.B) {
	dir := benchRelease(b)
	b.SetBytes(60 << 20)
	for b.Loop() {
		b.StopTimer()
		cache := b.TempDir()
		b.StartTimer()
		_ = benchBuild(b, dir, cache).Close()
	}
}

// benchRebuild times builds with a warm cache, each after change(i).
func benchRebuild(b *testing.B, change func(dir, stamp string) error) {
	dir := benchRelease(b)
	cache := b.TempDir()
	benchBuild(b, dir, cache)
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		if err := change(dir, "change "+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		benchBuild(b, dir, cache)
	}
}

// BenchmarkBuildCodeOnly rebuilds after one own-app .beam changed in place.
func BenchmarkBuildCodeOnly(b *testing.B) { benchRebuild(b, synth.ChangeCode) }

// BenchmarkBuildMixOverwrite rebuilds after what `mix release --overwrite`
// does following a code change: every lib/, releases/ and bin/ file
// rewritten with its old bytes, the own app's Module1* .beams changed.
func BenchmarkBuildMixOverwrite(b *testing.B) { benchRebuild(b, synth.MixOverwrite) }

// BenchmarkBuildCopy builds the same release under another path (new
// inodes and times, as in a fresh CI checkout) with a warm cache.
func BenchmarkBuildCopy(b *testing.B) {
	dir := benchRelease(b)
	cache := b.TempDir()
	benchBuild(b, dir, cache)
	for b.Loop() {
		b.StopTimer()
		cp := filepath.Join(b.TempDir(), "rel")
		if err := os.CopyFS(cp, os.DirFS(dir)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		benchBuild(b, cp, cache)
	}
}

// BenchmarkBuildUnchanged rebuilds an unchanged release.
func BenchmarkBuildUnchanged(b *testing.B) {
	dir := benchRelease(b)
	cache := b.TempDir()
	benchBuild(b, dir, cache)
	for b.Loop() {
		benchBuild(b, dir, cache)
	}
}

// BenchmarkWriteLayout writes a built image into a fresh OCI layout.
func BenchmarkWriteLayout(b *testing.B) {
	res := benchBuild(b, benchRelease(b), b.TempDir())
	for b.Loop() {
		b.StopTimer()
		out := filepath.Join(b.TempDir(), "layout")
		b.StartTimer()
		if err := WriteLayout(context.Background(), out, res, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}
