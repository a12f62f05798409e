package abi

import (
	"archive/tar"
	"bytes"
	"errors"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// erlangRoot is Debian's OTP installation (erlang-base), laid out like a
// release that bundles ERTS: erts-*/bin and lib/*/priv.
const erlangRoot = "/usr/lib/erlang"

func debianERTS(t *testing.T) *Needs {
	t.Helper()
	if _, err := os.Stat(erlangRoot); err != nil {
		if os.Getenv("RELGEN_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s: %v (install erlang-nox)", erlangRoot, err)
		}
		t.Skipf("%s: %v (install erlang-nox)", erlangRoot, err)
	}
	n, err := Scan(os.DirFS(erlangRoot))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hostFile finds a library the way Debian's loader would on this machine.
func hostLib(t *testing.T, soname string) string {
	t.Helper()
	for _, d := range []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"} {
		if _, err := os.Stat(filepath.Join(d, soname)); err == nil {
			return filepath.Join(d, soname)
		}
	}
	t.Fatalf("%s not found on this machine", soname)
	return ""
}

// rootTar is a root file system made of host files: files maps a path in
// the root to its content; links maps a path to a symlink target.
func rootTar(t *testing.T, files map[string][]byte, links map[string]string) *Root {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var mkdirs func(string)
	mkdirs = func(d string) {
		if d == "/" || dirs[d] {
			return
		}
		mkdirs(path.Dir(d))
		dirs[d] = true
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		mkdirs(path.Dir(p))
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(p, "/"), Mode: 0o755, Size: int64(len(files[p]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[p]); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(links)) {
		mkdirs(path.Dir(p))
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(p, "/"), Linkname: links[p]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	r := NewRoot()
	if err := r.ReadTar(&buf); err != nil {
		t.Fatal(err)
	}
	return r
}

// hostBase holds what Debian's ERTS needs (directly or through other
// libraries), copied from this machine, minus
// the sonames in drop; patch may rewrite a library's bytes.
func hostBase(t *testing.T, n *Needs, drop []string, patch func(soname string, data []byte) []byte) *Root {
	t.Helper()
	read := func(p string) []byte {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	loader := read("/lib64/ld-linux-x86-64.so.2")
	if patch != nil {
		loader = patch("ld-linux-x86-64.so.2", loader)
	}
	files := map[string][]byte{
		"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": loader,
		"/bin/dash": read("/bin/dash"),
	}
	links := map[string]string{
		"/lib64/ld-linux-x86-64.so.2": "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"/bin/sh":                     "dash",
	}
	// Every library the objects need, and the ones those need.
	var queue []string
	for _, o := range n.Objects {
		queue = append(queue, o.Needed...)
	}
	for len(queue) > 0 {
		so := queue[0]
		queue = queue[1:]
		p := "/lib/x86_64-linux-gnu/" + so
		if slices.Contains(drop, so) || files[p+".real"] != nil || files[p] != nil {
			continue
		}
		data := read(hostLib(t, so))
		lib, err := readObject(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", so, err)
		}
		queue = append(queue, lib.Needed...)
		if patch != nil {
			data = patch(so, data)
		}
		// The soname is a link to the versioned file, as Debian ships it.
		files[p+".real"] = data
		links[p] = so + ".real"
	}
	return rootTar(t, files, links)
}

func problems(t *testing.T, err error) []Problem {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Check = %v, want an *abi.Error", err)
	}
	return e.Problems
}

func TestCheckDebianERTS(t *testing.T) {
	n := debianERTS(t)
	beam := findObject(t, n, "/bin/beam.smp")
	for _, so := range []string{"libc.so.6", "libtinfo.so.6", "libstdc++.so.6"} {
		if !slices.Contains(beam.Needed, so) {
			t.Errorf("beam.smp needs %v, want %s among them", beam.Needed, so)
		}
	}
	if !slices.Contains(beam.Versions["libc.so.6"], "GLIBC_2.34") {
		t.Errorf("beam.smp needs %v from libc.so.6, want GLIBC_2.34 among them", beam.Versions["libc.so.6"])
	}
	if i := slices.IndexFunc(n.Scripts, func(s Script) bool { return strings.HasSuffix(s.Path, "/bin/erl") }); i < 0 || n.Scripts[i].Interp != "/bin/sh" {
		t.Errorf("scripts %v, want erts-*/bin/erl run by /bin/sh", n.Scripts)
	}

	t.Run("complete base", func(t *testing.T) {
		if err := Check(n, hostBase(t, n, nil, nil), "host"); err != nil {
			t.Fatalf("Check on the libraries of the machine that built ERTS: %v", err)
		}
	})

	t.Run("no libcrypto", func(t *testing.T) {
		err := Check(n, hostBase(t, n, []string{"libcrypto.so.3"}, nil), "test-base")
		got := problems(t, err)
		if len(got) == 0 || !strings.HasSuffix(got[0].File, "/priv/lib/crypto.so") || got[0].Need != "libcrypto.so.3" {
			t.Fatalf("problems = %+v, want crypto's NIF needing libcrypto.so.3 first", got)
		}
		for _, p := range got {
			if !strings.HasPrefix(p.File, "lib/crypto-") || p.Need != "libcrypto.so.3" {
				t.Errorf("problem %+v: only crypto's NIFs need libcrypto.so.3", p)
			}
		}
		if want := got[0].File + " needs libcrypto.so.3; test-base has none"; !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q, want it to say %q", err, want)
		}
	})

	t.Run("indirect need", func(t *testing.T) {
		epmd := findObject(t, n, "/bin/epmd")
		if !slices.Contains(epmd.Needed, "libsystemd.so.0") {
			t.Skipf("this OTP's epmd needs %v, not libsystemd", epmd.Needed)
		}
		err := Check(n, hostBase(t, n, []string{"liblzma.so.5"}, nil), "b")
		want := Problem{File: epmd.Path, Need: "liblzma.so.5", Via: "libsystemd.so.0"}
		if got := problems(t, err); !slices.Contains(got, want) {
			t.Fatalf("problems = %+v, want %+v among them", got, want)
		}
		if msg := epmd.Path + " needs liblzma.so.5 (for libsystemd.so.0); b has none"; !strings.Contains(err.Error(), msg) {
			t.Errorf("error = %q, want it to say %q", err, msg)
		}
	})

	t.Run("older glibc", func(t *testing.T) {
		// A libc that stops at GLIBC_2.31, like bullseye's: later version
		// names are renamed in place (same length, so the ELF stays valid).
		old := func(so string, data []byte) []byte {
			if so != "libc.so.6" && so != "ld-linux-x86-64.so.2" {
				return data
			}
			for v := 32; v <= 40; v++ {
				name := []byte("GLIBC_2." + strconv.Itoa(v) + "\x00")
				data = bytes.ReplaceAll(data, name, append([]byte("XLIBC_2."+strconv.Itoa(v)), 0))
			}
			return data
		}
		err := Check(n, hostBase(t, n, nil, old), "debian:bullseye-slim")
		got := problems(t, err)
		want := Problem{File: beam.Path, Need: "GLIBC_2.34", Library: "libc.so.6", Have: "GLIBC_2.31"}
		if !slices.Contains(got, want) {
			t.Fatalf("problems = %+v, want %+v among them", got, want)
		}
		for _, p := range got {
			if !strings.HasPrefix(p.Need, "GLIBC_2.") || p.Have != "GLIBC_2.31" {
				t.Errorf("problem %+v: on an older glibc only GLIBC versions are missing", p)
			}
		}
		msg := beam.Path + " needs GLIBC_2.34 from libc.so.6; debian:bullseye-slim has GLIBC_2.31"
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("error = %q, want it to say %q", err, msg)
		}
	})

	t.Run("scratch", func(t *testing.T) {
		err := Check(n, NewRoot(), "scratch")
		var e *Error
		if !errors.As(err, &e) || !e.Scratch {
			t.Fatalf("Check on scratch = %v, want a scratch *abi.Error", err)
		}
		if !strings.Contains(err.Error(), "erts-") || !strings.Contains(err.Error(), "scratch has no files") {
			t.Errorf("error = %q, want it to name an ERTS file and scratch", err)
		}
	})

	t.Run("no shell", func(t *testing.T) {
		r := hostBase(t, n, nil, nil)
		delete(r.entries, "/bin/sh")
		got := problems(t, Check(n, r, "b"))
		if i := slices.IndexFunc(got, func(p Problem) bool { return p.Need == "/bin/sh" }); i < 0 {
			t.Errorf("problems = %+v, want a script needing /bin/sh", got)
		}
	})
}

func findObject(t *testing.T, n *Needs, suffix string) Object {
	t.Helper()
	for _, o := range n.Objects {
		if strings.HasSuffix(o.Path, suffix) {
			return o
		}
	}
	t.Fatalf("no object %s in %d objects", suffix, len(n.Objects))
	return Object{}
}

func TestResolve(t *testing.T) {
	r := rootTar(t, map[string][]byte{"/usr/lib/x/libc.so.6": nil, "/usr/bin/dash": nil},
		map[string]string{
			"/lib":        "usr/lib",
			"/bin":        "/usr/bin",
			"/usr/bin/sh": "dash",
			"/loop/a":     "b",
			"/loop/b":     "a",
			"/up/x":       "../usr/lib/x/libc.so.6",
		})
	for _, tc := range []struct {
		name, path, want string
	}{
		{"dir symlink", "/lib/x/libc.so.6", "/usr/lib/x/libc.so.6"},
		{"absolute link then relative", "/bin/sh", "/usr/bin/dash"},
		{"dot dot", "/up/x", "/usr/lib/x/libc.so.6"},
		{"loop", "/loop/a", ""},
		{"missing", "/lib/x/libm.so.6", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := r.resolve(tc.path)
			if got != tc.want {
				t.Errorf("resolve(%s) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestMissingVersions(t *testing.T) {
	got := missingVersions("f", "libc.so.6",
		[]string{"GLIBC_2.2.5", "GLIBC_2.33", "GLIBC_2.34", "GLIBC_2.9", "GLIBCXX_3.4.29"},
		[]string{"GLIBC_2.2.5", "GLIBC_2.9", "GLIBC_2.31", "GLIBC_2.10", "GLIBCXX_3.4.28"})
	want := []Problem{
		{File: "f", Need: "GLIBCXX_3.4.29", Library: "libc.so.6", Have: "GLIBCXX_3.4.28"},
		{File: "f", Need: "GLIBC_2.34", Library: "libc.so.6", Have: "GLIBC_2.31"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("missingVersions (-want +got):\n%s", diff)
	}
}

// TestCheckImageCache: a pass is remembered for the same needs on the same
// base, a failure is not, and other needs are checked again.
func TestCheckImageCache(t *testing.T) {
	n := debianERTS(t)
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	_ = tw.Close()
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(layer.Bytes(), types.DockerLayer))
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	// An empty base cannot run ERTS: refused, and nothing remembered.
	if err := CheckImage(n, img, "b", cache); err == nil {
		t.Fatal("CheckImage on an empty layer passed")
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Fatalf("a failure was remembered: %v", entries)
	}
	// A release without native code passes and is remembered once.
	none := &Needs{}
	for range 2 {
		if err := CheckImage(none, img, "b", cache); err != nil {
			t.Fatal(err)
		}
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 1 {
		t.Fatalf("cache holds %d entries, want the one pass", len(entries))
	}
	// The remembered pass is not taken for other needs.
	if err := CheckImage(n, img, "b", cache); err == nil {
		t.Error("CheckImage of ERTS passed after a release without native code passed on the same base")
	}
}
