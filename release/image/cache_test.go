package image

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// TestCacheRecordsChecked damages the cache's records: a record copied to
// another key, truncated or edited is never trusted, so the layer is found
// another way or rebuilt, and the image is the same.
func TestCacheRecordsChecked(t *testing.T) {
	dir := newRelease(t)
	cache := t.TempDir()
	later := time.Now().Add(time.Hour)
	buildLayers(t, dir, cache, later)
	want := mustBuild(t, dir, WithCacheDir(t.TempDir())).Digest

	records := func(kind string) []string {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(cache, cacheVersion, kind, "*"))
		if err != nil || len(files) < 4 {
			t.Fatalf("%s records: %v, %v; want one per layer or more", kind, files, err)
		}
		return files
	}
	steps := []struct {
		name   string
		damage func(kind string)
		kind   string
		want   string
	}{
		{name: "stat records moved to other keys", kind: "stat", want: reuseContent, damage: func(kind string) {
			files := records(kind)
			data := make([][]byte, len(files))
			for i, f := range files {
				data[i], _ = os.ReadFile(f)
			}
			for i, f := range files { // each key gets the next one's record
				writeFile(t, f, string(data[(i+1)%len(files)]), 0o644)
			}
		}},
		{name: "stat records edited", kind: "stat", want: reuseContent, damage: func(kind string) {
			for _, f := range records(kind) {
				data, _ := os.ReadFile(f)
				writeFile(t, f, strings.Replace(string(data), `"size":`, `"size":1`, 1), 0o644)
			}
		}},
		{name: "stat and content records truncated", kind: "content", want: reuseNone, damage: func(kind string) {
			for _, f := range append(records("stat"), records(kind)...) {
				if err := os.Truncate(f, 70); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, s := range steps {
		s.damage(s.kind)
		got := buildLayers(t, dir, cache, later)
		wantHows := []string{"erts: " + s.want, "deps: " + s.want, "app myapp: " + s.want, "release: " + s.want}
		if diff := cmp.Diff(wantHows, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
		if d := mustBuild(t, dir, WithCacheDir(cache)).Digest; d != want {
			t.Errorf("%s: digest %s, want %s", s.name, d, want)
		}
	}
}
