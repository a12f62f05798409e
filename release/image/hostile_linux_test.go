//go:build linux

package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// The hostile release tests put what a careless build, a compromised
// dependency or an odd file system can leave in a release directory into
// the default fixture, and check each is packed faithfully or refused
// with its path named.

const ownPriv = "lib/myapp-0.1.0/priv"

func TestBuildHostileRelease(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		// want is a substring of the error; "" means the build succeeds.
		want string
		// kept lists paths (under app/) the image must hold, with the link
		// target for symlinks.
		kept    map[string]string
		exclude []string
		// unprivileged runs the build as nobody when the tests run as
		// root, whose permission checks always pass.
		unprivileged bool
	}{
		{
			name:   "symlink loop",
			mutate: func(t *testing.T, dir string) { loop(t, dir, ownPriv+"/a", ownPriv+"/b") },
			want:   ownPriv + "/a: target b: the links form a loop: too many levels of symbolic links",
		},
		{
			name:   "symlink to itself",
			mutate: func(t *testing.T, dir string) { mustSymlink(t, "self", filepath.Join(dir, ownPriv, "self")) },
			want:   ownPriv + "/self: target self: the links form a loop",
		},
		{
			name:   "symlink to a parent directory inside",
			mutate: func(t *testing.T, dir string) { mustSymlink(t, "..", filepath.Join(dir, ownPriv, "up")) },
			kept:   map[string]string{"app/" + ownPriv + "/up": ".."},
		},
		{
			name:   "absolute symlink",
			mutate: func(t *testing.T, dir string) { mustSymlink(t, "/etc", filepath.Join(dir, ownPriv, "etc")) },
			want:   ownPriv + "/etc: target /etc: points outside the release directory",
		},
		{
			name: "absolute symlink into the release itself",
			mutate: func(t *testing.T, dir string) {
				mustSymlink(t, filepath.Join(dir, "bin"), filepath.Join(dir, ownPriv, "bin"))
			},
			want: ownPriv + "/bin: target /", // the target is the absolute path
		},
		{
			name:   "symlink climbing out",
			mutate: func(t *testing.T, dir string) { mustSymlink(t, "../../../..", filepath.Join(dir, ownPriv, "out")) },
			want:   ownPriv + "/out: target ../../../..: points outside the release directory",
		},
		{
			name: "symlink escaping through a chain",
			mutate: func(t *testing.T, dir string) {
				mustSymlink(t, "../../..", filepath.Join(dir, ownPriv, "root"))
				mustSymlink(t, "root/..", filepath.Join(dir, ownPriv, "beyond"))
			},
			want: ownPriv + "/beyond: target root/..: points outside the release directory",
		},
		{
			name: "named pipe",
			mutate: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, ownPriv, "fifo"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: ownPriv + "/fifo: is a named pipe (FIFO); only regular files, directories and symlinks are packed",
		},
		{
			name: "character device",
			mutate: func(t *testing.T, dir string) {
				// 1:3 is /dev/null.
				if err := syscall.Mknod(filepath.Join(dir, ownPriv, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
					t.Skipf("mknod needs CAP_MKNOD: %v", err)
				}
			},
			want: ownPriv + "/null: is a character device; only regular files",
		},
		{
			name: "block device",
			mutate: func(t *testing.T, dir string) {
				// 7:0 is loop0.
				if err := syscall.Mknod(filepath.Join(dir, ownPriv, "loop"), syscall.S_IFBLK|0o600, 7<<8); err != nil {
					t.Skipf("mknod needs CAP_MKNOD: %v", err)
				}
			},
			want: ownPriv + "/loop: is a block device",
		},
		{
			name: "socket",
			mutate: func(t *testing.T, dir string) {
				l, err := net.Listen("unix", filepath.Join(dir, ownPriv, "sock"))
				if err != nil {
					t.Skipf("unix socket: %v", err)
				}
				l.(*net.UnixListener).SetUnlinkOnClose(false)
				_ = l.Close()
			},
			want: ownPriv + "/sock: is a socket",
		},
		{
			name: "excluded named pipe",
			mutate: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, ownPriv, "fifo"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			exclude: []string{"fifo"},
		},
		{
			name: "name with a newline",
			mutate: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, ownPriv, "two\nlines.txt"), "x", 0o644)
			},
			kept: map[string]string{"app/" + ownPriv + "/two\nlines.txt": ""},
		},
		{
			name: "name with spaces and unicode",
			mutate: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, ownPriv, "ça va ✓.txt"), "x", 0o644)
			},
			kept: map[string]string{"app/" + ownPriv + "/ça va ✓.txt": ""},
		},
		{
			name:   "name not valid UTF-8",
			mutate: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, ownPriv, "bad\xff.txt"), "x", 0o644) },
			want:   `bad\xff.txt": name is not valid UTF-8; rename it or add it to image.exclude`,
		},
		{
			name: "hard links",
			mutate: func(t *testing.T, dir string) {
				if err := os.Link(filepath.Join(dir, ownPriv, "static/app.js"), filepath.Join(dir, ownPriv, "app-copy.js")); err != nil {
					t.Fatal(err)
				}
			},
			kept: map[string]string{"app/" + ownPriv + "/app-copy.js": "", "app/" + ownPriv + "/static/app.js": ""},
		},
		{
			name: "unreadable file",
			mutate: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, ownPriv, "secret.key"), "k", 0o000)
			},
			want:         ownPriv + "/secret.key: permission denied",
			unprivileged: true,
		},
		{
			name: "unreadable directory",
			mutate: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, ownPriv, "locked/f"), "k", 0o644)
				if err := os.Chmod(filepath.Join(dir, ownPriv, "locked"), 0o000); err != nil {
					t.Fatal(err)
				}
			},
			want:         ownPriv + "/locked: permission denied",
			unprivileged: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newRelease(t)
			if tt.unprivileged && os.Geteuid() == 0 {
				dir = worldReadableRelease(t)
			}
			tt.mutate(t, dir)
			if tt.unprivileged && os.Geteuid() == 0 {
				msg := buildAsNobody(t, dir)
				t.Logf("Build() as nobody = %s", msg)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("Build() as nobody = %q, want %q", msg, tt.want)
				}
				return
			}
			res, err := Build(context.Background(), dir, WithExclude(tt.exclude))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Build() = %v, want success", err)
				}
				defer func() { _ = res.Close() }()
				tree := imageTree(t, res.Image)
				for p, link := range tt.kept {
					n, ok := tree[p]
					switch {
					case !ok:
						t.Errorf("image lacks %q", p)
					case n.Link != link:
						t.Errorf("%q -> %q, want %q", p, n.Link, link)
					}
				}
				if len(tt.exclude) > 0 {
					return // releaseTree would read the FIFO
				}
				if want := releaseTree(t, dir, "app"); len(want) != len(appTree(tree)) {
					t.Errorf("image has %d entries under app/, the release %d", len(appTree(tree)), len(want))
				}
				return
			}
			if err == nil {
				_ = res.Close()
				t.Fatalf("Build() succeeded, want %q", tt.want)
			}
			t.Logf("Build() = %v", err)
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("Build() = %q\nwant it to name %s and say %q", err, dir, tt.want)
			}
		})
	}
}

func loop(t *testing.T, dir, a, b string) {
	t.Helper()
	mustSymlink(t, filepath.Base(b), filepath.Join(dir, a))
	mustSymlink(t, filepath.Base(a), filepath.Join(dir, b))
}

// TestBuildHostileChild is the build that buildAsNobody runs in a child
// process; it does nothing in a normal test run.
func TestBuildHostileChild(t *testing.T) {
	dir := os.Getenv("RELGEN_TEST_HOSTILE_DIR")
	if dir == "" {
		t.Skip("runs only as buildAsNobody's child")
	}
	res, err := Build(context.Background(), dir)
	if err == nil {
		_ = res.Close()
		fmt.Println("RESULT: success")
		return
	}
	fmt.Println("RESULT: " + err.Error())
}

// worldReadableRelease writes the fixture where user nobody can reach it:
// t.TempDir's directories are private to root.
func worldReadableRelease(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "relgen-hostile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		_ = os.RemoveAll(base)
	})
	dir := filepath.Join(base, "rel")
	writeRelease(t, dir, defaultFixture())
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			err = os.Chmod(p, fi.Mode().Perm()|0o005) // others may read and enter
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildAsNobody builds dir in a copy of this test binary running as user
// nobody (65534) and returns the error message ("success" when it built).
// Root reads any file whatever its mode, so an unreadable file can only be
// tried without root's privileges.
func buildAsNobody(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(filepath.Dir(filepath.Dir(dir)), "image.test")
	if _, err := os.Stat(bin); err != nil {
		copyExecutable(t, self, bin)
	}
	cmd := exec.Command(bin, "-test.run=^TestBuildHostileChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RELGEN_TEST_HOSTILE_DIR="+dir, "TMPDIR="+filepath.Dir(filepath.Dir(dir)))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child build as nobody: %v\n%s", err, out)
	}
	_, msg, ok := strings.Cut(string(out), "RESULT: ")
	if !ok {
		t.Fatalf("child build printed no result:\n%s", out)
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return msg
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestBuildManyFiles packs a release with 100,000 files in one app: the
// walk, the tar stream and the cache keys scale, and every file arrives.
// The files are hard links to an empty file per directory: quick to make.
func TestBuildManyFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 100,000 files")
	}
	dir := newRelease(t)
	const n = 100_000
	for i := range n / 1000 {
		sub := filepath.Join(dir, "lib/plug-1.14.0/priv", fmt.Sprintf("d%03d", i))
		first := filepath.Join(sub, "f000")
		writeFile(t, first, "", 0o644)
		for j := 1; j < 1000; j++ {
			if err := os.Link(first, filepath.Join(sub, fmt.Sprintf("f%03d", j))); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := Build(context.Background(), dir, WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatalf("Build(100k files) = %v", err)
	}
	defer func() { _ = res.Close() }()
	i := slices.IndexFunc(res.Manifests[0].Layers, func(l LayerRecord) bool { return l.Kind == KindDeps })
	if i < 0 || res.Manifests[0].Layers[i].Files < n {
		t.Fatalf("layers = %+v, want a deps layer with more than %d files", res.Manifests[0].Layers, n)
	}
	layers, _ := res.Image.Layers()
	rc, err := layers[i].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	names := map[string]bool{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
	for _, p := range []string{"app/lib/plug-1.14.0/priv/d000/f000", "app/lib/plug-1.14.0/priv/d099/f999"} {
		if !names[p] {
			t.Errorf("deps layer lacks %s", p)
		}
	}
	if len(names) < n {
		t.Errorf("deps layer has %d entries, want more than %d", len(names), n)
	}
}
