package testutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SharedEnv names a directory that the test binaries of one run share
// for what is costly to make and the same for all of them: Debian
// packages fetched with apt-get, a relgen binary. make test (through
// hack/testreport) creates it and removes it at the end; without it, each
// test makes its own in t.TempDir.
const SharedEnv = "RELGEN_TEST_SHARED"

// Shared returns the directory name in the run's shared directory after
// fill has run on it while this process holds an exclusive lock on it,
// so that test binaries running side by side fill it one at a time; fill
// adds what is missing, and leaves alone what another test put there.
// Without SharedEnv the directory is a new one in t.TempDir.
func Shared(t testing.TB, name string, fill func(dir string) error) string {
	t.Helper()
	root := os.Getenv(SharedEnv)
	if root == "" {
		root = t.TempDir()
	}
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := lock(dir + ".lock")
	if err != nil {
		t.Fatalf("locking %s: %v", dir, err)
	}
	defer unlock()
	if err := fill(dir); err != nil {
		t.Fatalf("filling %s: %v", dir, err)
	}
	return dir
}

// startEnv is the environment the test binary started with, before any
// t.Setenv.
var startEnv = os.Environ()

// Relgen returns a relgen binary built from this source tree without
// -race, shared by the run (see Shared). Tests that build real images
// many times over run it, as a user does, where the same steps under
// -race would cost ten times as much: the race detector sees that code in
// the packages' own, smaller tests.
func Relgen(t testing.TB) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found: cannot build relgen")
	}
	dir := Shared(t, "bin", func(dir string) error {
		// go build leaves a binary that is up to date alone. It runs in
		// the environment the test binary started with: a test that moved
		// HOME or XDG_CACHE_HOME would otherwise give it an empty build
		// cache.
		cmd := exec.Command(goTool, "build", "-o", filepath.Join(dir, "relgen"), "github.com/relgen/relgen/cmd/relgen")
		cmd.Env = startEnv
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build: %w\n%s", err, out)
		}
		return nil
	})
	return filepath.Join(dir, "relgen")
}

// LinkInto puts files into dir (created if needed) under their own
// names, as hard links where the file system allows, else as copies; a
// file already there is kept.
func LinkInto(t testing.TB, dir string, files []string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		dst := filepath.Join(dir, filepath.Base(f))
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if err := os.Link(f, dst); err == nil {
			continue
		}
		if err := copyFile(f, dst); err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
