package image

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/relgen/relgen/release"
)

var epoch = time.Unix(1700000000, 0).UTC()

func mustBuild(t testing.TB, dir string, opts ...Option) *Result {
	t.Helper()
	res, err := Build(context.Background(), dir, opts...)
	if err != nil {
		t.Fatalf("Build(%s) = %v", dir, err)
	}
	t.Cleanup(func() { _ = res.Close() })
	return res
}

func layerKinds(res *Result) []string {
	var kinds []string
	for _, l := range res.Manifests[0].Layers {
		k := l.Kind
		if l.App != "" {
			k += ":" + l.App
		}
		kinds = append(kinds, k)
	}
	return kinds
}

func TestBuildImage(t *testing.T) {
	dir := newRelease(t)
	res := mustBuild(t, dir, WithCreationTime(epoch), WithCacheDir(t.TempDir()),
		WithSource("https://example.com/acme/myapp"), WithRevision("abc123"),
		WithLabels(map[string]string{"team": "core"}))
	if err := validate.Image(res.Image); err != nil {
		t.Fatalf("validate.Image() = %v", err)
	}
	if diff := cmp.Diff([]string{"erts", "deps", "app:myapp", "release"}, layerKinds(res)); diff != "" {
		t.Errorf("layer kinds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(releaseTree(t, dir, "app"), imageTree(t, res.Image)); diff != "" {
		t.Errorf("image tree (-release +image):\n%s", diff)
	}

	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	want := v1.Config{
		Entrypoint: []string{"/app/bin/myapp"},
		Cmd:        []string{"foreground"},
		WorkingDir: "/app",
		User:       "65532",
		Env:        []string{"LANG=C.UTF-8"},
		Labels: map[string]string{
			LabelTitle:    "myapp",
			LabelVersion:  "0.1.0",
			LabelSource:   "https://example.com/acme/myapp",
			LabelRevision: "abc123",
			"team":        "core",
		},
	}
	if diff := cmp.Diff(want, cf.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if got := (v1.Platform{OS: cf.OS, Architecture: cf.Architecture}); got.String() != "linux/amd64" {
		t.Errorf("platform = %s, want linux/amd64", got.String())
	}
	if !cf.Created.Equal(epoch) {
		t.Errorf("created = %v, want %v", cf.Created.Time, epoch)
	}
	m, err := res.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Annotations[LabelVersion]; got != "0.1.0" {
		t.Errorf("manifest annotation %s = %q, want 0.1.0", LabelVersion, got)
	}
}

func TestBuildTarMetadata(t *testing.T) {
	dir := newRelease(t)
	res := mustBuild(t, dir, WithCreationTime(epoch), WithUser(release.User{UID: 1000, GID: 2000}))
	layers, err := res.Image.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		seen := map[string]bool{}
		var last string
		layerTree(t, l, func(h *tar.Header) {
			name := strings.TrimSuffix(h.Name, "/")
			if parent := filepath.Dir(name); parent != "." && !seen[parent] {
				t.Errorf("layer %d: %s comes before its parent directory", i, h.Name)
			}
			if name < last && !strings.HasPrefix(last, name) && filepath.Dir(name) == filepath.Dir(last) {
				t.Errorf("layer %d: %s after %s: not sorted", i, name, last)
			}
			seen[name], last = true, name
			if h.Uid != 1000 || h.Gid != 2000 || h.Uname != "" || h.Gname != "" {
				t.Errorf("layer %d: %s owner %d:%d (%q:%q), want 1000:2000 without names", i, h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
			}
			if !h.ModTime.Equal(epoch) {
				t.Errorf("layer %d: %s mtime %v, want %v", i, h.Name, h.ModTime, epoch)
			}
			if name == "app/releases/COOKIE" {
				t.Errorf("layer %d holds the cookie", i)
			}
		})
	}
	cf, _ := res.Image.ConfigFile()
	if cf.Config.User != "1000:2000" {
		t.Errorf("user = %q, want 1000:2000", cf.Config.User)
	}
}

func TestBuildReproducible(t *testing.T) {
	dir := newRelease(t)
	cache := t.TempDir()
	first := mustBuild(t, dir, WithCreationTime(epoch), WithCacheDir(cache))
	again := mustBuild(t, dir, WithCreationTime(epoch), WithCacheDir(cache))
	fresh := mustBuild(t, dir, WithCreationTime(epoch), WithCacheDir(t.TempDir()))
	// A second copy of the release: other inodes and times, same content.
	other := filepath.Join(t.TempDir(), "rel")
	writeRelease(t, other, defaultFixture())
	copied := mustBuild(t, other, WithCreationTime(epoch))
	for name, res := range map[string]*Result{"same cache": again, "fresh cache": fresh, "copied release": copied} {
		if res.Digest != first.Digest {
			t.Errorf("%s: digest %s, want %s", name, res.Digest, first.Digest)
		}
	}
	later := mustBuild(t, dir, WithCreationTime(epoch.Add(time.Hour)), WithCacheDir(cache))
	if later.Digest == first.Digest {
		t.Errorf("another creation time gave the same digest %s", later.Digest)
	}
}

// TestBuildCodeChange: changing an own app's .beam file changes the app
// layer only; a rebuilt release (new boot files) changes the release layer
// too; ERTS and third-party layers are untouched.
func TestBuildCodeChange(t *testing.T) {
	dir := newRelease(t)
	cache := t.TempDir()
	before := mustBuild(t, dir, WithCreationTime(epoch), WithCacheDir(cache))

	writeFile(t, filepath.Join(dir, "lib/myapp-0.1.0/ebin/Elixir.myapp.M1.beam"), "FOR1 new code", 0o644)
	code := mustBuild(t, dir, WithCreationTime(epoch), WithCacheDir(cache))
	if diff := cmp.Diff([]string{"app:myapp"}, changedLayers(before, code)); diff != "" {
		t.Errorf(".beam change: changed layers (-want +got):\n%s", diff)
	}

	writeFile(t, filepath.Join(dir, "releases/0.1.0/start.boot"), "new boot script", 0o644)
	rel := mustBuild(t, dir, WithCreationTime(epoch), WithCacheDir(cache))
	if diff := cmp.Diff([]string{"app:myapp", "release"}, changedLayers(before, rel)); diff != "" {
		t.Errorf(".beam and boot change: changed layers (-want +got):\n%s", diff)
	}
	if before.Digest == code.Digest || code.Digest == rel.Digest {
		t.Errorf("image digests did not change: %s, %s, %s", before.Digest, code.Digest, rel.Digest)
	}
}

func changedLayers(a, b *Result) []string {
	var changed []string
	la, lb := a.Manifests[0].Layers, b.Manifests[0].Layers
	for i := range la {
		if la[i].Digest != lb[i].Digest {
			k := lb[i].Kind
			if lb[i].App != "" {
				k += ":" + lb[i].App
			}
			changed = append(changed, k)
		}
	}
	return changed
}

func TestBuildAppLayersAndExclude(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rel")
	f := defaultFixture()
	f.own = []string{"myapp-0.1.0", "myapp_web-0.1.0"}
	writeRelease(t, dir, f)
	writeFile(t, filepath.Join(dir, "lib/plug-1.14.0/README.md"), "docs", 0o644)
	writeFile(t, filepath.Join(dir, "lib/plug-1.14.0/src/plug.ex"), "source", 0o644)
	writeFile(t, filepath.Join(dir, "erts-13.1.5/doc/index.md"), "docs", 0o644)

	res := mustBuild(t, dir, WithAppLayers([]string{"myapp_web", "myapp"}),
		WithExclude([]string{"*.md", "lib/*/src"}), WithKind("mix"))
	if diff := cmp.Diff([]string{"erts", "deps", "app:myapp_web", "app:myapp", "release"}, layerKinds(res)); diff != "" {
		t.Errorf("layer kinds (-want +got):\n%s", diff)
	}
	tree := imageTree(t, res.Image)
	for _, p := range []string{"app/lib/plug-1.14.0/README.md", "app/lib/plug-1.14.0/src", "app/lib/plug-1.14.0/src/plug.ex", "app/erts-13.1.5/doc/index.md"} {
		if _, ok := tree[p]; ok {
			t.Errorf("excluded %s is in the image", p)
		}
	}
	if _, ok := tree["app/erts-13.1.5/doc"]; !ok {
		t.Errorf("app/erts-13.1.5/doc is missing: only matches should go")
	}
	cf, _ := res.Image.ConfigFile()
	if diff := cmp.Diff([]string{"start"}, cf.Config.Cmd); diff != "" {
		t.Errorf("mix cmd (-want +got):\n%s", diff)
	}
}

func TestBuildKindDetected(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rel")
	f := defaultFixture()
	f.mix = true
	writeRelease(t, dir, f)
	res := mustBuild(t, dir)
	cf, _ := res.Image.ConfigFile()
	if diff := cmp.Diff([]string{"start"}, cf.Config.Cmd); diff != "" {
		t.Errorf("cmd of a mix release (-want +got):\n%s", diff)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		opts   []Option
		want   string // substring
		is     error
	}{
		{
			name: "link climbing out",
			mutate: func(t *testing.T, dir string) {
				mustSymlink(t, "../../../../etc/passwd", filepath.Join(dir, "lib/myapp-0.1.0/priv/passwd"))
			},
			want: "lib/myapp-0.1.0/priv/passwd: target ../../../../etc/passwd: points outside the release directory",
			is:   errLinkEscapes,
		},
		{
			name:   "absolute link",
			mutate: func(t *testing.T, dir string) { mustSymlink(t, "/etc/passwd", filepath.Join(dir, "bin/passwd")) },
			want:   "bin/passwd: target /etc/passwd: points outside",
			is:     errLinkEscapes,
		},
		{
			name: "link escaping through another link",
			mutate: func(t *testing.T, dir string) {
				mustSymlink(t, ".", filepath.Join(dir, "lib/myapp-0.1.0/priv/here"))
				mustSymlink(t, "here/../../../..", filepath.Join(dir, "lib/myapp-0.1.0/priv/sneaky"))
			},
			want: "lib/myapp-0.1.0/priv/sneaky: target here/../../../..: points outside",
			is:   errLinkEscapes,
		},
		{
			name:   "no release",
			mutate: func(t *testing.T, dir string) { _ = os.RemoveAll(filepath.Join(dir, "releases")) },
			want:   "missing releases/start_erl.data",
			is:     ErrNoRelease,
		},
		{name: "unknown own app", opts: []Option{WithAppLayers([]string{"nope"})}, want: `own app "nope" not found under`},
		{name: "bad kind", opts: []Option{WithKind("rebar")}, want: `release kind "rebar"`},
		{name: "bad pattern", opts: []Option{WithExclude([]string{"lib/["})}, want: `exclude pattern "lib/["`},
		{
			name: "base for another platform",
			opts: []Option{WithBase(armBase()), WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"})},
			want: "base image is linux/arm64, want linux/amd64",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newRelease(t)
			if tt.mutate != nil {
				tt.mutate(t, dir)
			}
			res, err := Build(context.Background(), dir, tt.opts...)
			if err == nil {
				_ = res.Close()
				t.Fatalf("Build() succeeded, want error %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build() = %v, want %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Build() = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

// armBase is an empty linux/arm64 image.
func armBase() v1.Image {
	cf, _ := empty.Image.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "arm64"
	img, _ := mutate.ConfigFile(empty.Image, cf)
	return img
}

func TestBuildInsideLinksKept(t *testing.T) {
	dir := newRelease(t)
	mustSymlink(t, "../../erts-13.1.5/bin/epmd", filepath.Join(dir, "releases/0.1.0/epmd"))
	mustSymlink(t, "missing-but-inside", filepath.Join(dir, "releases/0.1.0/dangling"))
	res := mustBuild(t, dir)
	tree := imageTree(t, res.Image)
	for p, target := range map[string]string{
		"app/releases/0.1.0/epmd":          "../../erts-13.1.5/bin/epmd",
		"app/releases/0.1.0/dangling":      "missing-but-inside",
		"app/lib/myapp-0.1.0/priv/current": "static",
	} {
		if got := tree[p].Link; got != target {
			t.Errorf("%s -> %q, want %q", p, got, target)
		}
	}
}

func TestBuildCancelled(t *testing.T) {
	dir := newRelease(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cache := t.TempDir()
	if _, err := Build(ctx, dir, WithCacheDir(cache)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Build(cancelled) = %v, want context.Canceled", err)
	}
	left, _ := filepath.Glob(filepath.Join(cache, cacheVersion, "tmp", "*"))
	if len(left) > 0 {
		t.Errorf("cancelled build left %v", left)
	}
}

// TestBuildGoldenDigest pins the digest of the default fixture. It must not
// depend on the CPU count (nor, checked by running the test with
// GOARCH=386, on the architecture); a deliberate change of the layer bytes
// bumps tarFormat or cacheVersion and this constant together.
func TestBuildGoldenDigest(t *testing.T) {
	const want = "sha256:61a7b4538c0166cd6275a6401cc45d47cf1f3e7f8b2845dfab25eeeaa30d3096"
	dir := newRelease(t)
	// Several compression blocks, each with a dictionary from the last.
	rnd := rand.New(rand.NewPCG(3, 4))
	var big strings.Builder
	for big.Len() < 3*gzipBlockSize+12345 {
		if rnd.IntN(2) == 0 {
			big.WriteString(strings.Repeat("erlang:module_info/0 ", 1+rnd.IntN(50)))
		} else {
			big.WriteByte(byte(rnd.Uint32()))
		}
	}
	writeFile(t, filepath.Join(dir, "erts-13.1.5/bin/big"), big.String(), 0o755)
	for _, procs := range []int{1, 3} {
		prev := runtime.GOMAXPROCS(procs)
		res, err := Build(context.Background(), dir, WithCreationTime(epoch))
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Close()
		if got := res.Digest.String(); got != want {
			t.Errorf("GOMAXPROCS=%d: digest %s, want %s", procs, got, want)
		}
	}
}

func TestBuildPlatformFromBase(t *testing.T) {
	res := mustBuild(t, newRelease(t), WithBase(armBase()))
	if got := res.Manifests[0].Platform.String(); got != "linux/arm64" {
		t.Errorf("platform = %s, want the base's linux/arm64", got)
	}
	if mt, _ := res.Image.MediaType(); mt != "application/vnd.docker.distribution.manifest.v2+json" {
		t.Errorf("media type %s, want the base's docker schema 2", mt)
	}
	layers, _ := res.Image.Layers()
	if mt, _ := layers[0].MediaType(); mt != "application/vnd.docker.image.rootfs.diff.tar.gzip" {
		t.Errorf("layer media type %s, want docker's to match the manifest", mt)
	}
}

// TestBuildERTSArchitecture: a bundled ERTS built for one architecture is
// refused in an image for another (the test binary stands in for beam.smp).
func TestBuildERTSArchitecture(t *testing.T) {
	native := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	other := v1.Platform{OS: "linux", Architecture: "arm64"}
	if runtime.GOARCH == "arm64" {
		other.Architecture = "amd64"
	}
	dir := newRelease(t)
	writeFile(t, filepath.Join(dir, "erts-13.1.5/bin/beam.smp"), elfHeader(t, native.Architecture), 0o755)
	mustBuild(t, dir, WithPlatform(native))
	_, err := Build(context.Background(), dir, WithPlatform(other))
	want := "erts-13.1.5/bin/beam.smp is built for " + runtime.GOARCH + " but the image platform is " + other.String()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Build(%s) = %v, want %q", other.String(), err, want)
	}
}

// elfHeader is the ELF header of an executable for arch, which is all of
// an ELF file that checkERTSArch reads. (Copying a real binary, such as the
// test executable, would make the test compress tens of megabytes.)
func elfHeader(t *testing.T, arch string) string {
	t.Helper()
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Version: uint32(elf.EV_CURRENT), Ehsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	for m, a := range elfArchs {
		if a == arch {
			h.Machine = uint16(m)
		}
	}
	if h.Machine == 0 {
		t.Skipf("no ELF machine known for %s", arch)
	}
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(b.Bytes()))
	if err != nil || f.Machine != elf.Machine(h.Machine) {
		t.Fatalf("elf.NewFile(header for %s) = %v, %v", arch, f, err)
	}
	return b.String()
}
