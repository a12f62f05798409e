package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/relgen/relgen/manifests"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
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

func TestOutputDirectory(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "README.md")
	if err := os.WriteFile(mine, []byte("not relgen's"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, "manifests", "-f", seed, "--env", "staging", "-o", dir); code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	names := dirNames(t, dir)
	if !slices.Contains(names, "05-poddisruptionbudget-myapp-deployment.yaml") || len(names) != 7 {
		t.Fatalf("files = %v, want six objects and README.md", names)
	}
	var objs int
	for _, n := range names {
		if n == "README.md" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		o, err := manifests.Decode(data)
		if err != nil || len(o) != 1 {
			t.Fatalf("%s: %d objects, %v", n, len(o), err)
		}
		objs++
	}
	// One replica: no PodDisruptionBudget, so its old file must go, and
	// files relgen did not write stay.
	if code, _, errOut := run(t, "manifests", "-f", seed, "--env", "staging", "-o", dir, "--set", "environments.staging.replicas=1"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	names = dirNames(t, dir)
	if slices.ContainsFunc(names, func(n string) bool { return n == "05-poddisruptionbudget-myapp-deployment.yaml" }) {
		t.Errorf("stale PodDisruptionBudget file kept: %v", names)
	}
	if !slices.Contains(names, "README.md") || len(names) != objs {
		t.Errorf("files after the second run = %v, want %d (five objects and README.md)", names, objs)
	}
}

func TestKustomize(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := run(t, "manifests", "-f", seed, "--env", "prod", "--kustomize", dir); code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if !slices.Contains(dirNames(t, dir), manifests.KustomizationFile) {
		t.Fatalf("no %s in %v", manifests.KustomizationFile, dirNames(t, dir))
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("RELGEN_REQUIRE_TOOLS") == "1" {
			t.Fatal("kubectl is not installed and RELGEN_REQUIRE_TOOLS=1")
		}
		t.Skip("kubectl is not installed")
	}
	out, err := exec.Command(kubectl, "kustomize", dir).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	objs, err := manifests.Decode(out)
	if err != nil || len(objs) != 6 {
		t.Fatalf("kustomize build: %d objects, %v", len(objs), err)
	}
}
