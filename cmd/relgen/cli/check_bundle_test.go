package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runIn executes relgen with args and stdin.
func runIn(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetIn(bytes.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	if err := root.ExecuteContext(context.Background()); err != nil {
		printError(&errOut, err)
		return 1, out.String(), errOut.String()
	}
	return 0, out.String(), errOut.String()
}

const seedConfig = "../../../examples/seed/relgen.yaml"

// overlaid renders the seed example's prod bundle as a kustomize base
// (relgen manifests --kustomize) and builds an overlay over it that sets
// namespace team-a, with the real kubectl kustomize.
func overlaid(t *testing.T) []byte {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		if os.Getenv("RELGEN_REQUIRE_TOOLS") == "1" {
			t.Fatal("kubectl is not installed and RELGEN_REQUIRE_TOOLS=1")
		}
		t.Skip("kubectl is not installed")
	}
	dir := t.TempDir()
	base, overlay := filepath.Join(dir, "base"), filepath.Join(dir, "overlays", "prod")
	if code, _, stderr := run(t, "manifests", "-f", seedConfig, "--env", "prod", "--image", pinnedRef, "--kustomize", base); code != 0 {
		t.Fatalf("relgen manifests --kustomize: %s", stderr)
	}
	if err := os.MkdirAll(overlay, 0o755); err != nil {
		t.Fatal(err)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team-a\nresources:\n- ../../base\n"
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kubectl, "kustomize", overlay)
	cmd.Env = append(os.Environ(), "KUBECONFIG=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	return out
}

// TestCheckBundle pipes bundles into relgen check --bundle - as the CI
// step in docs/ does: relgen's own output is consistent; the overlay that
// moves it to namespace team-a is refused, naming the ConfigMap's
// discovery config; with -f the config's namespace is compared too.
func TestCheckBundle(t *testing.T) {
	_, good, stderr := run(t, "manifests", "-f", seedConfig, "--env", "prod", "--image", pinnedRef)
	if good == "" {
		t.Fatalf("relgen manifests: %s", stderr)
	}
	if code, _, stderr := runIn(t, []byte(good), "check", "--bundle", "-"); code != 0 || !strings.Contains(stderr, "bundle is consistent") {
		t.Errorf("check --bundle - on relgen's output = %d, %s", code, stderr)
	}

	// An image not pinned by digest is a warning, as in relgen check;
	// --strict makes it an error.
	_, tagged, _ := run(t, "manifests", "-f", seedConfig, "--env", "staging")
	if code, _, stderr := runIn(t, []byte(tagged), "check", "--bundle", "-"); code != 0 || !strings.Contains(stderr, "relgen: warning: <stdin>: Deployment myapp-deployment: spec.template.spec.containers[0].image: image registry.example.com/acme/myapp:0.1.0 is not pinned by digest") {
		t.Errorf("check --bundle - on a tagged image = %d, %s; want 0 and the warning", code, stderr)
	}
	if code, _, stderr := runIn(t, []byte(tagged), "check", "--bundle", "-", "--strict"); code != 1 || strings.Contains(stderr, "warning") || !strings.Contains(stderr, "is not pinned by digest") {
		t.Errorf("check --bundle - --strict on a tagged image = %d, %s; want 1 and the error", code, stderr)
	}

	bad := overlaid(t)
	code, _, stderr := runIn(t, bad, "check", "--bundle", "-")
	want := `relgen: <stdin>: ConfigMap myapp-runtime: data[discovery.config]: {peerage, dns_name}: peerage queries "myapp-service-headless.default.svc.cluster.local", but the headless Service that selects the pods answers as "myapp-service-headless.team-a.svc.cluster.local"`
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("check --bundle - on the team-a overlay = %d,\n%s\nwant 1 and %q", code, stderr, want)
	}
	if n := strings.Count(stderr, "\n"); n != 1 {
		t.Errorf("check --bundle printed %d lines, want the one problem once:\n%s", n, stderr)
	}

	code, stdout, stderr := runIn(t, bad, "check", "--bundle", "-", "-f", seedConfig, "--env", "prod", "--output", "json")
	var r bundleResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("--output json = %q: %v", stdout, err)
	}
	if code != 1 || r.OK || !strings.Contains(stderr, `environments.prod.namespace: ConfigMap myapp-runtime, Service myapp, Service myapp-service-headless, Deployment myapp-deployment`) {
		t.Errorf("check --bundle -f = %d, %+v,\n%s", code, r, stderr)
	}
	if len(r.Errors) != strings.Count(stderr, "\n") {
		t.Errorf("json lists %d errors, stderr %d lines", len(r.Errors), strings.Count(stderr, "\n"))
	}

	file := filepath.Join(t.TempDir(), "bundle.yaml")
	if err := os.WriteFile(file, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "check", "--bundle", file, "--image", pinnedRef); code != 1 || !strings.Contains(stderr, "--image and --record apply to generated bundles only") {
		t.Errorf("check --bundle --image = %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, "check", "--bundle", filepath.Join(t.TempDir(), "missing.yaml")); code != 1 || !strings.Contains(stderr, "--bundle: open") {
		t.Errorf("check --bundle of a missing file = %d, %s", code, stderr)
	}
}

// TestCheckBundleReportsOnce: with -f, a problem the objects show among
// themselves (CheckObjects) and the config would show again (CompareSpec)
// is one line on stderr, as is an overlay's namespace for every object.
func TestCheckBundleReportsOnce(t *testing.T) {
	_, good, stderr := run(t, "manifests", "-f", seedConfig, "--env", "prod", "--image", pinnedRef)
	if good == "" {
		t.Fatalf("relgen manifests: %s", stderr)
	}
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{name: "DNS name", old: "myapp-service-headless.default.svc", new: "myapp-service-headless.other.svc",
			want: []string{`{peerage, dns_name}: peerage queries "myapp-service-headless.other.svc.cluster.local"`}},
		{name: "app_name", old: `{app_name, <<"myapp">>}`, new: `{app_name, <<"mypp">>}`,
			want: []string{`{peerage, app_name}: peerage connects to nodes named mypp@...`}},
		{name: "node name", old: "-name myapp@", new: "-name other@",
			want: []string{`peerage connects to nodes named myapp@..., but the pods boot as "other@`}},
		{name: "namespace", old: "namespace: default\n", new: "namespace: team-a\n",
			want: []string{`peerage queries "myapp-service-headless.default.svc.cluster.local"`, `environments.prod.namespace: ConfigMap myapp-runtime, Service myapp, Service myapp-service-headless, Deployment myapp-deployment, PodDisruptionBudget myapp-deployment, NetworkPolicy myapp-deployment-distribution are in namespace "team-a", not "default"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.ReplaceAll(good, tc.old, tc.new)
			if bad == good {
				t.Fatalf("%q is not in the bundle", tc.old)
			}
			code, _, stderr := runIn(t, []byte(bad), "check", "--bundle", "-", "-f", seedConfig, "--env", "prod")
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != 1 || len(lines) != len(tc.want) {
				t.Fatalf("check --bundle -f = %d, %d lines:\n%s\nwant 1 and %d lines", code, len(lines), stderr, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d = %q, want it to contain %q", i+1, lines[i], w)
				}
			}
		})
	}
}
