// Package testutil holds helpers shared by relgen's tests: golden files
// and the one -update flag.
//
// Every package with tests imports it (at least for its side effect), so
// that go test ./... -update is accepted by every test binary.
package testutil

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Golden compares got with the golden file path (relative to the test's
// package directory). With -update it rewrites the file instead, when its
// content differs, and logs the file's name (go test -v shows the list).
func Golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, got) {
			return
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("-update: rewrote golden file %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got); run go test -update if the change is intended:\n%s", path, diff)
	}
}
