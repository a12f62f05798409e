package cli

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestManifestsJobsApart writes the Jobs and the rest of a bundle into
// two directories, as a CI step or a Flux setup does.
func TestManifestsJobsApart(t *testing.T) {
	const phoenix = "../../../examples/phoenix/relgen.yaml"
	image := "ghcr.io/acme/shop@sha256:" + strings.Repeat("ab", 32)
	files := func(args ...string) []string {
		t.Helper()
		dir := t.TempDir()
		args = append([]string{"manifests", "-f", phoenix, "--env", "prod", "--image", image, "--output-dir", dir}, args...)
		if code, _, stderr := run(t, args...); code != 0 {
			t.Fatalf("relgen %v: exit %d: %s", args, code, stderr)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	if got, want := files("--jobs", "only"), []string{"01-job-shop-migrate-ababababab.yaml"}; !slices.Equal(got, want) {
		t.Errorf("--jobs only wrote %v, want %v", got, want)
	}
	all, rest := files(), files("--jobs", "exclude")
	if len(rest) != len(all)-1 || slices.ContainsFunc(rest, func(n string) bool { return strings.Contains(n, "-job-") }) {
		t.Errorf("--jobs exclude wrote %v; all objects are %v", rest, all)
	}
	if code, _, stderr := run(t, "manifests", "-f", phoenix, "--env", "prod", "--image", image, "--jobs", "first"); code != 1 || !strings.Contains(stderr, `--jobs "first": want one of include, exclude, only`) {
		t.Errorf("--jobs first: exit %d, stderr %q", code, stderr)
	}
}
