package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/relgen/relgen/internal/testutil"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

// TestBaseForms loads image.base in its string and map forms, with the
// env var and --set overrides of the string form.
func TestBaseForms(t *testing.T) {
	seed, err := os.ReadFile(validConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		base string // the image.base line's value
		env  string
		set  string
		want release.Base
	}{
		{"reference", "debian:bookworm-slim", "", "", release.Base{Ref: "debian:bookworm-slim"}},
		{"packages", "{debian: [libc6, libssl3=3.0.11-1~deb12u2]}", "", "", release.Base{Debian: []string{"libc6", "libssl3=3.0.11-1~deb12u2"}}},
		{"debs dir", "{debs: debs, debian: [libc6]}", "", "", release.Base{Debs: "DIR/debs", Debian: []string{"libc6"}}},
		{"env over packages", "{debian: [libc6]}", "oci-layout:/tmp/base", "", release.Base{Ref: "oci-layout:/tmp/base"}},
		{"set over reference", "scratch", "", "tarball:base.tar", release.Base{Ref: "tarball:base.tar"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "relgen.yaml")
			data := replaceBase(t, string(seed), tc.base)
			if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			g := &GlobalOptions{ConfigFile: file}
			if tc.env != "" {
				g.Environ = func() []string { return []string{"RELGEN_IMAGE_BASE=" + tc.env} }
			}
			if tc.set != "" {
				g.Set = []string{"image.base=" + tc.set}
			}
			cfg, err := loadConfig(g)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Debs = strings.Replace(want.Debs, "DIR", dir, 1)
			if diff := cmp.Diff(want, cfg.Image.Base); diff != "" {
				t.Errorf("image.base (-want +got):\n%s", diff)
			}
			if err := cfg.Validate(discovery.Registry{}); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// replaceBase adds image.base to a config without one.
func replaceBase(t *testing.T, config, base string) string {
	t.Helper()
	if !strings.Contains(config, "\nimage:\n") {
		t.Fatal("no image section in the config")
	}
	return strings.Replace(config, "\nimage:\n", "\nimage:\n  base: "+base+"\n", 1)
}

// hostDeb builds a real .deb with dpkg-deb holding this machine's libc,
// loader and /bin/sh; when old is set, libc and the loader have the symbol
// versions after GLIBC_2.31 renamed (the same length, so the ELF files
// stay valid) and there is no shell (this machine's needs a newer libc).
func hostDeb(t *testing.T, dir string, old bool) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not found")
	}
	root := t.TempDir()
	files := map[string]string{
		"lib/x86_64-linux-gnu/libc.so.6":            "/lib/x86_64-linux-gnu/libc.so.6",
		"lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": "/lib64/ld-linux-x86-64.so.2",
		"bin/dash": "/bin/dash",
	}
	if old {
		// This machine's dash needs this machine's glibc.
		delete(files, "bin/dash")
	}
	for dst, src := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Skipf("%s: %v (not a Debian amd64 machine)", src, err)
		}
		if old {
			for v := 32; v <= 40; v++ {
				data = bytes.ReplaceAll(data, []byte(fmt.Sprintf("GLIBC_2.%d\x00", v)), []byte(fmt.Sprintf("XLIBC_2.%d\x00", v)))
			}
		}
		mustWrite(t, filepath.Join(root, dst), data, 0o755)
	}
	if !old {
		mustSymlink(t, "dash", filepath.Join(root, "bin/sh"))
	}
	mustSymlink(t, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", filepath.Join(root, "lib64/ld-linux-x86-64.so.2"))
	mustWrite(t, filepath.Join(root, "DEBIAN/control"), []byte("Package: hostlibc\nVersion: 1.0\nArchitecture: amd64\n"+
		"Maintainer: relgen tests <test@example.com>\nDescription: this machine's libc, for tests\n"), 0o644)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, filepath.Join(dir, "hostlibc_1.0_amd64.deb")).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, out)
	}
}

func mustWrite(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// TestBuildABICheck: relgen build checks the release's native code
// against the base: a dynamically linked ERTS on scratch is refused unless
// image.abi_check is false, a base of .deb files with the right libc
// passes (and carries dpkg's status), one with an older libc is refused
// with the file, the version and the base named.
func TestBuildABICheck(t *testing.T) {
	sh, err := os.ReadFile("/bin/dash")
	if err != nil {
		t.Skipf("/bin/dash: %v", err)
	}
	project := func(t *testing.T, base string) (cfg, beam string) {
		cfg = buildProject(t, "registry.example.com/acme/benchapp", "")
		dir := filepath.Dir(cfg)
		data, _ := os.ReadFile(cfg)
		if err := os.WriteFile(cfg, []byte(strings.Replace(string(data), "base: scratch", "base: "+base, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		// A real, dynamically linked ELF file stands in for beam.smp.
		matches, _ := filepath.Glob(filepath.Join(dir, "rel", "erts-*", "bin", "beam.smp"))
		if len(matches) != 1 {
			t.Fatalf("beam.smp in the synthetic release: %v", matches)
		}
		if err := os.WriteFile(matches[0], sh, 0o755); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(filepath.Join(dir, "rel"), matches[0])
		return cfg, filepath.ToSlash(rel)
	}
	build := func(t *testing.T, cfg string, extra ...string) (int, string, string) {
		return run(t, append([]string{"-f", cfg, "build", "--push=false", "--skip-build"}, extra...)...)
	}

	t.Run("scratch", func(t *testing.T) {
		cfg, beam := project(t, "scratch")
		code, _, stderr := build(t, cfg)
		for _, want := range []string{"relgen.yaml:8: image.base: the release has dynamically linked native code (" + beam, "the base scratch has no files", "image.abi_check: false"} {
			if code == 0 || !strings.Contains(stderr, want) {
				t.Errorf("build on scratch: exit %d, stderr %q; want failure saying %q", code, stderr, want)
			}
		}
		if code, _, stderr := build(t, cfg, "--set", "image.abi_check=false"); code != 0 {
			t.Errorf("build on scratch with image.abi_check=false: exit %d: %s", code, stderr)
		}
	})

	t.Run("debs", func(t *testing.T) {
		cfg, _ := project(t, "{debs: debs}")
		hostDeb(t, filepath.Join(filepath.Dir(cfg), "debs"), false)
		layoutDir := filepath.Join(t.TempDir(), "layout")
		code, stdout, stderr := build(t, cfg, "--oci-layout", layoutDir)
		if code != 0 {
			t.Fatalf("build on the host's libc: exit %d: %s", code, stderr)
		}
		ref, err := name.NewDigest(strings.TrimSpace(stdout))
		if err != nil {
			t.Fatal(err)
		}
		idx, err := layout.ImageIndexFromPath(layoutDir)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := v1.NewHash(ref.DigestStr())
		img, err := idx.Image(h)
		if err != nil {
			t.Fatal(err)
		}
		status := testutil.ImageFile(t, img, "var/lib/dpkg/status")
		if !strings.Contains(status, "Package: hostlibc\nStatus: install ok installed\n") {
			t.Errorf("dpkg status = %q, want hostlibc installed", status)
		}
	})

	t.Run("old libc", func(t *testing.T) {
		cfg, beam := project(t, "{debs: debs}")
		debs := filepath.Join(filepath.Dir(cfg), "debs")
		hostDeb(t, debs, true)
		code, _, stderr := build(t, cfg)
		want := "image.base: " + beam + " needs GLIBC_2.34 from libc.so.6; the .deb files in " + debs + " has GLIBC_2.31"
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("build on an older libc: exit %d, stderr %q; want failure saying %q", code, stderr, want)
		}
	})
}

func TestBaseName(t *testing.T) {
	for _, tc := range []struct {
		base release.Base
		want string
	}{
		{release.Base{Ref: "debian:bookworm-slim"}, "index.docker.io/library/debian:bookworm-slim"},
		{release.Base{Ref: "registry.example.com/base@sha256:" + strings.Repeat("a", 64)}, "registry.example.com/base@sha256:" + strings.Repeat("a", 64)},
		{release.Base{Ref: "scratch"}, ""},
		{release.Base{Ref: "oci-layout:/tmp/base"}, ""},
		{release.Base{Ref: "tarball:base.tar"}, ""},
		{release.Base{Debian: []string{"libc6"}}, ""},
	} {
		if got := baseName(tc.base); got != tc.want {
			t.Errorf("baseName(%+v) = %q, want %q", tc.base, got, tc.want)
		}
	}
}

// TestBuildPlatformsFromConfig: image.platforms with release.paths builds
// an index with one image per platform, each from its own release, and
// --sbom describes the index.
func TestBuildPlatformsFromConfig(t *testing.T) {
	cfg := buildProject(t, "registry.example.com/acme/benchapp", "  platforms: [linux/amd64, linux/arm64]")
	dir := filepath.Dir(cfg)
	if err := os.CopyFS(filepath.Join(dir, "rel-arm64"), os.DirFS(filepath.Join(dir, "rel"))); err != nil {
		t.Fatal(err)
	}
	// The arm64 release differs, as a release built for arm64 would.
	mustWrite(t, filepath.Join(dir, "rel-arm64", "bin", "arm64-only"), []byte("#!/bin/sh\n"), 0o755)
	data, _ := os.ReadFile(cfg)
	data = []byte(strings.Replace(string(data), "  path: rel\n", "  path: rel\n  paths: {linux/amd64: rel, linux/arm64: rel-arm64}\n", 1))
	mustWrite(t, cfg, data, 0o644)
	// Releases that bundle a dynamically linked ERTS would need a base
	// per platform; this synthetic one has no ELF files.
	layoutDir, sbomFile := filepath.Join(dir, "layout"), filepath.Join(dir, "index.spdx.json")
	code, stdout, stderr := run(t, "-f", cfg, "build", "--push=false", "--skip-build", "--oci-layout", layoutDir, "--sbom", sbomFile)
	if code != 0 {
		t.Fatalf("relgen build: exit %d: %s", code, stderr)
	}
	ref, err := name.NewDigest(strings.TrimSpace(stdout))
	if err != nil {
		t.Fatal(err)
	}
	lp, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := v1.NewHash(ref.DigestStr())
	idx, err := lp.ImageIndex(h)
	if err != nil {
		t.Fatalf("the printed digest is not an index in the layout: %v", err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	digests := map[string]bool{}
	for _, d := range m.Manifests {
		platforms = append(platforms, d.Platform.String())
		digests[d.Digest.String()] = true
	}
	if strings.Join(platforms, " ") != "linux/amd64 linux/arm64" || len(digests) != 2 {
		t.Errorf("index manifests %v (%d digests), want linux/amd64 and linux/arm64, two images", platforms, len(digests))
	}
	doc, err := os.ReadFile(sbomFile)
	if err != nil {
		t.Fatal(err)
	}
	testutil.ValidateJSON(t, "../../../release/image/sbom/testdata/spdx-schema-2.3.json", doc)
	if !strings.Contains(string(doc), ref.DigestStr()) {
		t.Errorf("the SBOM does not name the index %s", ref.DigestStr())
	}

	t.Run("unknown platform", func(t *testing.T) {
		bad := strings.Replace(string(data), "linux/arm64: rel-arm64", "linux/s390x: rel-arm64", 1)
		mustWrite(t, cfg, []byte(bad), 0o644)
		code, _, stderr := run(t, "-f", cfg, "build", "--push=false", "--skip-build")
		if want := "release.paths.linux/s390x: platform linux/s390x is not in image.platforms"; code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q; want a failure saying %q", code, stderr, want)
		}
	})
}
