package image

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// buildLayers plans dir and builds every layer through one cache, at the
// given file-system time, returning how each layer was obtained.
func buildLayers(t *testing.T, dir, cache string, now time.Time) []string {
	t.Helper()
	rel, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	specs, err := plan(dir, rel, []string{rel.Name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(cache)
	if err != nil {
		t.Fatal(err)
	}
	b := &layerBuilder{dir: dir, params: tarParams{prefix: "app"}, store: st, now: now, mediaType: types.OCILayer}
	var hows []string
	for _, s := range specs {
		_, how, err := b.build(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		hows = append(hows, s.name()+": "+how)
	}
	return hows
}

func TestCachePaths(t *testing.T) {
	dir := newRelease(t)
	cache := t.TempDir()
	later := time.Now().Add(time.Hour) // files look old: their stat data is trusted
	steps := []struct {
		name   string
		change func(t *testing.T)
		now    time.Time
		want   []string
	}{
		{
			name: "cold",
			now:  later,
			want: []string{"erts: " + reuseNone, "deps: " + reuseNone, "app myapp: " + reuseNone, "release: " + reuseNone},
		},
		{
			name: "nothing changed",
			now:  later,
			want: []string{"erts: " + reuseStat, "deps: " + reuseStat, "app myapp: " + reuseStat, "release: " + reuseStat},
		},
		{
			name: "rewritten with the same content",
			change: func(t *testing.T) {
				p := filepath.Join(dir, "lib/kernel-8.5.3/ebin/kernel.app")
				data, _ := os.ReadFile(p)
				_ = os.Remove(p)
				writeFile(t, p, string(data), 0o644)
			},
			now:  later,
			want: []string{"erts: " + reuseStat, "deps: " + reuseContent, "app myapp: " + reuseStat, "release: " + reuseStat},
		},
		{
			name: "code change of the same size",
			change: func(t *testing.T) {
				p := filepath.Join(dir, "lib/myapp-0.1.0/ebin/myapp.app")
				data, _ := os.ReadFile(p)
				data[0] = 'X'
				writeFile(t, p, string(data), 0o644)
			},
			now:  later,
			want: []string{"erts: " + reuseStat, "deps: " + reuseStat, "app myapp: " + reuseNone, "release: " + reuseStat},
		},
		{
			name: "racy files are verified by content",
			change: func(t *testing.T) {
				writeFile(t, filepath.Join(dir, "bin/myapp"), "#!/bin/sh\n# v2\n", 0o755)
			},
			now:  time.Now(), // bin/myapp changed within the last second
			want: []string{"erts: " + reuseStat, "deps: " + reuseStat, "app myapp: " + reuseStat, "release: " + reuseNone},
		},
		{
			name: "racy stat data was not recorded",
			now:  later,
			want: []string{"erts: " + reuseStat, "deps: " + reuseStat, "app myapp: " + reuseStat, "release: " + reuseContent},
		},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change(t)
		}
		if diff := cmp.Diff(s.want, buildLayers(t, dir, cache, s.now)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}
}

func TestCacheDamaged(t *testing.T) {
	dir := newRelease(t)
	cache := t.TempDir()
	later := time.Now().Add(time.Hour)
	buildLayers(t, dir, cache, later)
	blobs, _ := filepath.Glob(filepath.Join(cache, cacheVersion, "blobs", "*"))
	for _, b := range blobs {
		if err := os.Truncate(b, 10); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"erts: " + reuseNone, "deps: " + reuseNone, "app myapp: " + reuseNone, "release: " + reuseNone}
	if diff := cmp.Diff(want, buildLayers(t, dir, cache, later)); diff != "" {
		t.Errorf("truncated blobs (-want +got):\n%s", diff)
	}
}
