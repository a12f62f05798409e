package image

import (
	"archive/tar"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// fixture describes a synthetic release written by writeRelease.
type fixture struct {
	name    string
	version string
	erts    string
	mix     bool     // mix release (env.sh) instead of Distillery
	deps    []string // third-party apps, "name-vsn"
	own     []string // own apps, "name-vsn"
}

func defaultFixture() fixture {
	return fixture{
		name:    "myapp",
		version: "0.1.0",
		erts:    "13.1.5",
		deps:    []string{"kernel-8.5.3", "stdlib-4.2", "elixir-1.14.0", "logger-1.14.0", "plug-1.14.0", "phoenix-1.7.2"},
		own:     []string{"myapp-0.1.0"},
	}
}

// newRelease writes the default fixture into a temporary directory.
func newRelease(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rel")
	writeRelease(t, dir, defaultFixture())
	return dir
}

// writeRelease writes a small but realistically shaped release: a bundled
// ERTS with binaries, OTP apps with .app and .beam files, releases/ with
// the boot files, the cookie and start_erl.data, and the boot script. The
// content is pseudo-random from a fixed seed, so the same fixture always
// gives the same bytes.
func writeRelease(t testing.TB, dir string, f fixture) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	blob := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.UintN(256))
		}
		return string(b)
	}
	erts := "erts-" + f.erts
	files := map[string]string{
		erts + "/bin/beam.smp":                          blob(64 << 10),
		erts + "/bin/erlexec":                           blob(8 << 10),
		erts + "/bin/epmd":                              blob(4 << 10),
		erts + "/bin/start.src":                         "#!/bin/sh\nexec erlexec \"$@\"\n",
		erts + "/lib/liberts.a":                         blob(2 << 10),
		"releases/start_erl.data":                       f.erts + " " + f.version + "\n",
		"releases/COOKIE":                               "SECRETCOOKIE",
		"releases/RELEASES":                             "[{release,\"" + f.name + "\"}].\n",
		"releases/" + f.version + "/vm.args":            "-name " + f.name + "@${MY_POD_IP}\n-setcookie ${COOKIE}\n",
		"releases/" + f.version + "/sys.config":         "[{" + f.name + ", []}].\n",
		"releases/" + f.version + "/start.boot":         blob(3 << 10),
		"releases/" + f.version + "/" + f.name + ".rel": "{release, {\"" + f.name + "\", \"" + f.version + "\"}, {erts, \"" + f.erts + "\"}, []}.\n",
		"bin/" + f.name:                                 "#!/bin/sh\nRELEASE_ROOT=\"$(dirname \"$0\")/..\"\n",
	}
	if f.mix {
		files["releases/"+f.version+"/env.sh"] = "#!/bin/sh\n"
		files["bin/"+f.name+".bat"] = "@echo off\r\n"
	} else {
		files["releases/"+f.version+"/libexec/config.sh"] = "#!/bin/sh\n"
	}
	for _, app := range append(append([]string(nil), f.deps...), f.own...) {
		name := app[:strings.LastIndexByte(app, '-')]
		files["lib/"+app+"/ebin/"+name+".app"] = "{application, " + name + ", []}.\n"
		for i := range 3 {
			files[fmt.Sprintf("lib/%s/ebin/Elixir.%s.M%d.beam", app, name, i)] = "FOR1" + blob(1<<10+i)
		}
	}
	for _, app := range f.own {
		files["lib/"+app+"/priv/static/app.js"] = strings.Repeat("console.log(1);\n", 50)
	}
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "bin/") || strings.Contains(name, "/bin/") {
			mode = 0o750 // not 0755: checks that modes are normalised
		}
		writeFile(t, filepath.Join(dir, name), content, mode)
	}
	if len(f.own) > 0 {
		mustSymlink(t, "static", filepath.Join(dir, "lib", f.own[0], "priv", "current"))
	}
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// node is a file tree entry as compared between a release and an image.
type node struct {
	Mode os.FileMode
	Link string
	Sum  string // sha256 of a regular file
}

// releaseTree lists what the image should hold for the release in dir,
// under prefix, without the cookie.
func releaseTree(t testing.TB, dir, prefix string) map[string]node {
	t.Helper()
	tree := map[string]node{prefix: {Mode: fs.ModeDir | 0o755}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." || rel == "releases/COOKIE" {
			return nil
		}
		name := prefix + "/" + filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			tree[name] = node{Mode: fs.ModeDir | 0o755}
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			tree[name] = node{Mode: fs.ModeSymlink | 0o777, Link: target}
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if fi.Mode()&0o111 != 0 {
				mode = 0o755
			}
			tree[name] = node{Mode: mode, Sum: fmt.Sprintf("%x", sha256.Sum256(data))}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// layerTree lists a layer's entries, and calls check on every header.
func layerTree(t testing.TB, l v1.Layer, check func(*tar.Header)) map[string]node {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	return readTree(t, rc, check)
}

// imageTree flattens an image's filesystem.
func imageTree(t testing.TB, img v1.Image) map[string]node {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	return readTree(t, rc, nil)
}

func readTree(t testing.TB, r io.Reader, check func(*tar.Header)) map[string]node {
	t.Helper()
	tree := map[string]node{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if check != nil {
			check(h)
		}
		name := strings.TrimSuffix(h.Name, "/")
		switch h.Typeflag {
		case tar.TypeDir:
			tree[name] = node{Mode: fs.ModeDir | fs.FileMode(h.Mode)}
		case tar.TypeSymlink:
			tree[name] = node{Mode: fs.ModeSymlink | fs.FileMode(h.Mode), Link: h.Linkname}
		default:
			s := sha256.New()
			if _, err := io.Copy(s, tr); err != nil {
				t.Fatal(err)
			}
			tree[name] = node{Mode: fs.FileMode(h.Mode), Sum: fmt.Sprintf("%x", s.Sum(nil))}
		}
	}
}
