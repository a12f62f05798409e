package image

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func layoutImage(t *testing.T, dir string) (v1.Image, v1.Descriptor) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("reading layout %s: %v", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("layout has %d manifests, want 1", len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img, m.Manifests[0]
}

func TestWriteLayout(t *testing.T) {
	src := newRelease(t)
	res := mustBuild(t, src, WithCreationTime(epoch))
	out := filepath.Join(t.TempDir(), "layout")
	if err := WriteLayout(context.Background(), out, res, "0.1.0"); err != nil {
		t.Fatalf("WriteLayout() = %v", err)
	}
	img, desc := layoutImage(t, out)
	if desc.Digest != res.Digest || desc.Annotations[annotationRefName] != "0.1.0" {
		t.Errorf("layout holds %s %v, want %s tagged 0.1.0", desc.Digest, desc.Annotations, res.Digest)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("validate.Image(layout) = %v", err)
	}

	// Writing again replaces the layout.
	writeFile(t, filepath.Join(src, "lib/myapp-0.1.0/ebin/myapp.app"), "{application, myapp, [changed]}.", 0o644)
	res2 := mustBuild(t, src, WithCreationTime(epoch))
	if err := WriteLayout(context.Background(), out, res2, ""); err != nil {
		t.Fatalf("WriteLayout(again) = %v", err)
	}
	if _, desc := layoutImage(t, out); desc.Digest != res2.Digest {
		t.Errorf("replaced layout holds %s, want %s", desc.Digest, res2.Digest)
	}
	assertNoTemp(t, filepath.Dir(out), "layout")
}

func TestWriteLayoutRefusesOtherDirs(t *testing.T) {
	res := mustBuild(t, newRelease(t))
	out := t.TempDir()
	writeFile(t, filepath.Join(out, "main.go"), "package main", 0o644)
	err := WriteLayout(context.Background(), out, res, "")
	if err == nil || !strings.Contains(err.Error(), "directory exists and is not an OCI layout") {
		t.Fatalf("WriteLayout(source dir) = %v, want a refusal", err)
	}
}

func TestOutputsCancelled(t *testing.T) {
	res := mustBuild(t, newRelease(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	parent := t.TempDir()
	tag, _ := name.NewTag("example.com/myapp:0.1.0")
	if err := WriteLayout(ctx, filepath.Join(parent, "layout"), res, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteLayout(cancelled) = %v, want context.Canceled", err)
	}
	if err := WriteTarball(ctx, filepath.Join(parent, "image.tar"), res, tag); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteTarball(cancelled) = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("cancelled writes left %v", entries)
	}
}

func assertNoTemp(t *testing.T, dir, base string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+base) {
			t.Errorf("left behind %s", filepath.Join(dir, e.Name()))
		}
	}
}

func TestWriteTarball(t *testing.T) {
	res := mustBuild(t, newRelease(t), WithBase(randomBase(t)))
	file := filepath.Join(t.TempDir(), "image.tar")
	tag, _ := name.NewTag("registry.example.com/acme/myapp:0.1.0")
	if err := WriteTarball(context.Background(), file, res, tag); err != nil {
		t.Fatalf("WriteTarball() = %v", err)
	}
	img, err := tarball.ImageFromPath(file, &tag)
	if err != nil {
		t.Fatalf("reading tarball: %v", err)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("validate.Image(tarball) = %v", err)
	}
	gotCfg, _ := img.ConfigName()
	wantCfg, _ := res.Image.ConfigName()
	if gotCfg != wantCfg {
		t.Errorf("tarball config %s, want %s", gotCfg, wantCfg)
	}
	assertNoTemp(t, filepath.Dir(file), "image.tar")
}

func TestRecordFile(t *testing.T) {
	res := mustBuild(t, newRelease(t), WithCreationTime(epoch))
	rec, err := res.Record("registry.example.com/acme/myapp", "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if want := "registry.example.com/acme/myapp@" + res.Digest.String(); rec.Reference != want {
		t.Errorf("Reference = %s, want %s", rec.Reference, want)
	}
	if len(rec.Layers) != 4 || rec.Layers[2].Kind != KindApp || rec.Layers[2].App != "myapp" || rec.Layers[2].Files == 0 {
		t.Errorf("layers = %+v, want erts, deps, app myapp, release", rec.Layers)
	}
	path := filepath.Join(t.TempDir(), "image.json")
	if err := WriteRecordFile(path, rec); err != nil {
		t.Fatalf("WriteRecordFile() = %v", err)
	}
	got, err := ReadRecordFile(path)
	if err != nil {
		t.Fatalf("ReadRecordFile() = %v", err)
	}
	if diff := cmp.Diff(rec, got); diff != "" {
		t.Errorf("record round trip (-want +got):\n%s", diff)
	}
	assertNoTemp(t, filepath.Dir(path), "image.json")
}

func TestReadRecordFileErrors(t *testing.T) {
	dir := t.TempDir()
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{name: "tag only", content: `{"reference": "example.com/myapp:0.1.0"}`, want: `reference "example.com/myapp:0.1.0": want repository@sha256:...`},
		{name: "mismatch", content: `{"reference": "example.com/myapp@` + digest + `", "digest": "sha256:` + strings.Repeat("cd", 32) + `"}`, want: "does not match digest"},
		{name: "not json", content: `reference: x`, want: "line 1: invalid character"},
		{name: "wrong type", content: "{\n \"reference\": 5\n}", want: "line 2: reference: want text, got a number"},
		{name: "layers not a list", content: "{\n \"layers\": {}\n}", want: "line 2: layers: want a list, got a mapping"},
		{name: "cut short", content: "{\n \"reference\": ", want: "line 2: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			writeFile(t, path, tt.content, 0o644)
			_, err := ReadRecordFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "Go struct") {
				t.Errorf("ReadRecordFile() = %v, want %q naming %s", err, tt.want, path)
			}
		})
	}
	if _, err := ReadRecordFile(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadRecordFile(missing) = %v, want ErrNotExist", err)
	}
}

func TestBuildIndex(t *testing.T) {
	amd, arm := newRelease(t), newRelease(t)
	res, err := BuildIndex(context.Background(), []Target{
		{Dir: amd, Platform: v1.Platform{OS: "linux", Architecture: "amd64"}},
		{Dir: arm, Platform: v1.Platform{OS: "linux", Architecture: "arm64"}},
	}, WithCreationTime(epoch))
	if err != nil {
		t.Fatalf("BuildIndex() = %v", err)
	}
	defer func() { _ = res.Close() }()
	if err := validate.Index(res.Index); err != nil {
		t.Errorf("validate.Index() = %v", err)
	}
	host := newRegistry(t, nil)
	ref, err := Push(context.Background(), res, host+"/acme/myapp", WithTags("0.1.0"), anonymous)
	if err != nil {
		t.Fatalf("Push(index) = %v", err)
	}
	img, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64"}))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d != res.Manifests[1].Digest {
		t.Errorf("arm64 image %s, want %s", d, res.Manifests[1].Digest)
	}
	rec, err := res.Record(host + "/acme/myapp")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Manifests) != 2 || rec.Manifests[1].Platform != "linux/arm64" || rec.Layers != nil {
		t.Errorf("index record = %+v, want two manifests", rec)
	}
	out := filepath.Join(t.TempDir(), "layout")
	if err := WriteLayout(context.Background(), out, res, "0.1.0"); err != nil {
		t.Fatalf("WriteLayout(index) = %v", err)
	}
	outer, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := outer.IndexManifest()
	if len(m.Manifests) != 1 || m.Manifests[0].Digest != res.Digest || m.Manifests[0].Annotations[annotationRefName] != "0.1.0" {
		t.Fatalf("layout index = %+v, want the index %s tagged 0.1.0", m.Manifests, res.Digest)
	}
	inner, err := outer.ImageIndex(res.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(inner); err != nil {
		t.Errorf("validate.Index(layout) = %v", err)
	}
	tag, _ := name.NewTag("example.com/myapp:0.1.0")
	if err := WriteTarball(context.Background(), filepath.Join(t.TempDir(), "x.tar"), res, tag); err == nil {
		t.Errorf("WriteTarball(index) succeeded, want an error")
	}
}

func TestResolveBase(t *testing.T) {
	ctx := context.Background()
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	base := randomBase(t)
	want, _ := base.Digest()

	lp := filepath.Join(t.TempDir(), "base")
	p, err := layout.Write(lp, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(base, layout.WithPlatform(amd64)); err != nil {
		t.Fatal(err)
	}
	tb := filepath.Join(t.TempDir(), "base.tar")
	tag, _ := name.NewTag("example.com/base:1")
	if err := tarball.WriteToFile(tb, tag, base); err != nil {
		t.Fatal(err)
	}
	host := newRegistry(t, nil)
	if err := remote.Write(mustRef(t, host+"/base:1"), base); err != nil {
		t.Fatal(err)
	}

	for _, spec := range []string{"oci-layout:" + lp, "tarball:" + tb, host + "/base:1"} {
		img, err := ResolveBase(ctx, spec, amd64, nil)
		if err != nil {
			t.Errorf("ResolveBase(%s) = %v", spec, err)
			continue
		}
		if got, _ := img.Digest(); spec != "tarball:"+tb && got != want {
			t.Errorf("ResolveBase(%s) = %s, want %s", spec, got, want)
		}
		if got, _ := img.ConfigName(); spec == "tarball:"+tb {
			if wantCfg, _ := base.ConfigName(); got != wantCfg {
				t.Errorf("ResolveBase(%s) config %s, want %s", spec, got, wantCfg)
			}
		}
	}
	if img, err := ResolveBase(ctx, "scratch", amd64, nil); img != nil || err != nil {
		t.Errorf("ResolveBase(scratch) = %v, %v, want nil, nil", img, err)
	}
	_, err = ResolveBase(ctx, "oci-layout:"+lp, v1.Platform{OS: "linux", Architecture: "arm64"}, nil)
	if err == nil || !strings.Contains(err.Error(), "no image for linux/arm64 (found linux/amd64)") {
		t.Errorf("ResolveBase(arm64 from amd64 layout) = %v", err)
	}
}

// TestOutputErrorsNamed checks that every output's error starts with what
// was being done and the path, and keeps the cause.
func TestOutputErrorsNamed(t *testing.T) {
	res := mustBuild(t, newRelease(t))
	rec, err := res.Record("registry.example.com/acme/myapp")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	writeFile(t, file, "not a directory", 0o644)
	under := filepath.Join(file, "out") // its parent is a file
	tag, _ := name.NewTag("registry.example.com/acme/myapp:0.1.0")
	tests := []struct {
		name   string
		err    error
		prefix string
	}{
		{"read record", func() error { _, err := ReadRecordFile(filepath.Join(dir, "missing.json")); return err }(), "reading record " + dir},
		{"write record", WriteRecordFile(under, rec), "writing record " + under + ": "},
		{"write tarball", WriteTarball(context.Background(), under, res, tag), "writing tarball " + under + ": "},
		{"write layout", WriteLayout(context.Background(), under, res, ""), "writing layout " + under + ": "},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.prefix) {
			t.Errorf("%s = %v, want prefix %q", tt.name, tt.err, tt.prefix)
		}
		var pe *fs.PathError
		if !errors.As(tt.err, &pe) {
			t.Errorf("%s = %v, want the file system's error kept", tt.name, tt.err)
		}
	}
}
