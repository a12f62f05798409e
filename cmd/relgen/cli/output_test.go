package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

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
	if code, out, errOut := run(t, "manifests", "-f", seed, "--env", "staging", "--output-dir", dir); code != 0 || out != "" {
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
	if code, _, errOut := run(t, "manifests", "-f", seed, "--env", "staging", "--output-dir", dir, "--set", "environments.staging.replicas=1"); code != 0 {
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

// TestOutputFormat: -o is the format, as in kubectl: yaml (the default)
// or json, one v1 List holding the same objects.
func TestOutputFormat(t *testing.T) {
	_, y, _ := run(t, "manifests", "-f", seed, "--env", "staging")
	code, j, errOut := run(t, "manifests", "-f", seed, "--env", "staging", "-o", "json")
	if code != 0 {
		t.Fatalf("-o json: exit %d: %s", code, errOut)
	}
	var list corev1.List
	if err := json.Unmarshal([]byte(j), &list); err != nil || list.Kind != "List" || list.APIVersion != "v1" {
		t.Fatalf("-o json is not a v1 List: %v\n%s", err, j)
	}
	fromYAML, err := manifests.Decode([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var items []byte
	for i, it := range list.Items {
		if i > 0 {
			items = append(items, "\n---\n"...)
		}
		items = append(items, it.Raw...)
	}
	fromJSON, err := manifests.Decode(items)
	if err != nil {
		t.Fatalf("decoding the List's items: %v", err)
	}
	if diff := cmp.Diff(fromYAML, fromJSON); diff != "" || len(fromJSON) != 6 {
		t.Errorf("-o json holds other objects than -o yaml (%d objects) (-yaml +json):\n%s", len(fromJSON), diff)
	}
	if _, again, _ := run(t, "manifests", "-f", seed, "--env", "staging", "-o", "yaml"); again != y {
		t.Errorf("-o yaml differs from the default output")
	}
}

// TestOutputAmbiguous: a directory given to -o, a format given to
// --output-dir, or a format with a directory flag is refused, naming the
// flag to use, and nothing is written.
func TestOutputAmbiguous(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"-o", filepath.Join(dir, "staging")},
			want: "relgen: -o/--output " + filepath.Join(dir, "staging") + ": the output format is yaml or json; to write one file per object into a directory, use --output-dir " + filepath.Join(dir, "staging") + "\n"},
		{args: []string{"-o", "yml"}, want: "use --output-dir yml"},
		{args: []string{"--output-dir", "yaml"}, want: "relgen: --output-dir yaml: names a directory; for the yaml format use -o yaml (a directory really named yaml: --output-dir ./yaml)\n"},
		{args: []string{"-o", "json", "--output-dir", dir}, want: "-o json prints to stdout; --output-dir and --kustomize write YAML files"},
		{args: []string{"-o", "json", "--kustomize", dir}, want: "-o json prints to stdout"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"manifests", "-f", seed, "--env", "staging"}, tt.args...)...)
			if code != 1 || out != "" || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, and %q", code, out, errOut, tt.want)
			}
		})
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("refused runs wrote %v", names)
	}
	if _, err := os.Stat("yaml"); err == nil {
		t.Errorf("a directory named yaml was created")
	}
}
