package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgen/relgen/internal/testutil"
	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/release/image"
)

const (
	digestA = "sha256:4f1d8b5c0b7a6a1c1f0e2d3c4b5a69788766554433221100ffeeddccbbaa9988"
	digestB = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
)

// diffJSON runs relgen diff --output json and decodes the result.
func diffJSON(t *testing.T, wantCode int, args ...string) *manifests.Diff {
	t.Helper()
	code, stdout, stderr := run(t, append([]string{"diff", "--output", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("relgen diff %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, stderr)
	}
	var d manifests.Diff
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("decoding the JSON diff: %v\n%s", err, stdout)
	}
	return &d
}

func paths(d *manifests.Diff) []string {
	var out []string
	for _, c := range d.Changes {
		out = append(out, c.Object+"/"+c.Path)
	}
	return out
}

// TestDiffSeed: staging and prod of the worked example differ in the
// namespace, HOST, the discovery config's DNS name and what follows from
// them, and run the same image.
func TestDiffSeed(t *testing.T) {
	img := "registry.example.com/acme/myapp@" + digestA
	d := diffJSON(t, 0, "-f", seed, "staging", "prod", "--image", img)
	if !d.NamespaceChanged || d.From.Namespace != "staging" || d.To.Namespace != "default" {
		t.Errorf("namespace summary: changed %v, %q -> %q; want staging -> default", d.NamespaceChanged, d.From.Namespace, d.To.Namespace)
	}
	if d.ImageChanged || d.From.Image != img || d.To.Image != img {
		t.Errorf("image: changed %v, %q -> %q; want %s in both", d.ImageChanged, d.From.Image, d.To.Image, img)
	}
	if len(d.OnlyInFrom)+len(d.OnlyInTo) != 0 {
		t.Errorf("objects only on one side: %v, %v", d.OnlyInFrom, d.OnlyInTo)
	}
	want := []string{
		"ConfigMap/myapp-runtime/data.discovery.config",
		// The header comment names the environment.
		"ConfigMap/myapp-runtime/data.vm.args",
		"Deployment/myapp-deployment/spec.template.metadata.annotations.relgen.dev/runtime-config-hash",
		"Deployment/myapp-deployment/spec.template.spec.containers[release].env[HOST].value",
	}
	if diff := cmp.Diff(want, paths(d)); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
	changedLines := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			if !strings.HasPrefix(l, "@@") && !strings.Contains(l, "%%") && !strings.Contains(l, "##") {
				out = append(out, l)
			}
		}
		return out
	}
	wantDiscovery := []string{
		`-   {dns_name, <<"myapp-service-headless.staging.svc.cluster.local">>},`,
		`+   {dns_name, <<"myapp-service-headless.default.svc.cluster.local">>},`,
	}
	if diff := cmp.Diff(wantDiscovery, changedLines(d.Changes[0].Lines)); diff != "" {
		t.Errorf("discovery config: lines besides comments (-want +got):\n%s", diff)
	}
	if got := changedLines(d.Changes[1].Lines); len(got) != 0 {
		t.Errorf("vm.args: lines besides the header comment differ: %q", got)
	}
	if h := d.Changes[3]; h.From != "staging.example.com" || h.To != "example.com" {
		t.Errorf("HOST: %v -> %v, want staging.example.com -> example.com", h.From, h.To)
	}

	// The text form, as a reviewer reads it.
	code, stdout, stderr := run(t, "diff", "-f", seed, "staging", "prod", "--image", img)
	if code != 0 || stderr != "" {
		t.Fatalf("text diff: exit %d, stderr %q", code, stderr)
	}
	testutil.Golden(t, "testdata/diff/seed-staging-prod.golden", []byte(stdout))
	if n := strings.Count(stdout, "namespace: staging -> default"); n != 1 {
		t.Errorf("namespace summary printed %d times, want once", n)
	}
}

// TestDiffExamples: the other examples' environments differ in config
// only; the namespace and the image never show up per object.
func TestDiffExamples(t *testing.T) {
	for _, ex := range []struct{ dir, repo string }{
		{"seed", "registry.example.com/acme/myapp"},
		{"mix", "registry.example.com/acme/my_app"},
		{"phoenix", "ghcr.io/acme/shop"},
	} {
		t.Run(ex.dir, func(t *testing.T) {
			cfg := filepath.Join("..", "..", "..", "examples", ex.dir, "relgen.yaml")
			args := []string{"-f", cfg, "staging", "prod", "--image", ex.repo + "@" + digestA}
			d := diffJSON(t, 0, args...)
			if !d.NamespaceChanged || d.ImageChanged || d.Empty() {
				t.Errorf("namespace changed %v, image changed %v, empty %v; want true, false, false", d.NamespaceChanged, d.ImageChanged, d.Empty())
			}
			for _, c := range d.Changes {
				if strings.HasSuffix(c.Path, "namespace") && c.From == d.From.Namespace && c.To == d.To.Namespace {
					t.Errorf("namespace reported per object: %s/%s", c.Object, c.Path)
				}
				if c.From == nil && c.To == nil && c.Lines == nil {
					t.Errorf("%s/%s: a change without values", c.Object, c.Path)
				}
			}
			again := diffJSON(t, 0, args...)
			if diff := cmp.Diff(d, again); diff != "" {
				t.Errorf("second run differs (-first +second):\n%s", diff)
			}
		})
	}
}

// TestDiffImage: one build record pins both sides (the CI case, exit 0);
// a different image on ENV_B is flagged and fails unless allowed.
func TestDiffImage(t *testing.T) {
	dir := t.TempDir()
	record := func(name, digest string) string {
		p := filepath.Join(dir, name)
		rec := image.Record{Reference: "registry.example.com/acme/myapp@" + digest, Digest: digest}
		if err := image.WriteRecordFile(p, rec); err != nil {
			t.Fatal(err)
		}
		return p
	}
	build, next := record("build.json", digestA), record("next.json", digestB)

	d := diffJSON(t, 0, "-f", seed, "staging", "prod", "--record", build)
	if d.ImageChanged || !strings.HasSuffix(d.To.Image, digestA) {
		t.Errorf("--record: image changed %v, prod image %s", d.ImageChanged, d.To.Image)
	}

	code, stdout, stderr := run(t, "diff", "-f", seed, "prod", "prod", "--record", build, "--record-b", next)
	if code != 1 {
		t.Errorf("different images: exit %d, want 1", code)
	}
	if !strings.Contains(stdout, "IMAGE DIFFERS: promotion means the same digest") || !strings.Contains(stdout, digestB) {
		t.Errorf("stdout does not flag the image:\n%s", stdout)
	}
	if want := "relgen: image differs between prod and prod: promotion means the same digest"; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr = %q, want %q...", stderr, want)
	}
	if strings.Contains(stdout, "containers[release].image") || !strings.HasSuffix(stdout, "\nno other differences\n") {
		t.Errorf("the image is not the only difference shown:\n%s", stdout)
	}

	d = diffJSON(t, 0, "-f", seed, "staging", "prod", "--record", build, "--image-b", "registry.example.com/acme/myapp@"+digestB, "--allow-image-change")
	if !d.ImageChanged || d.From.Image == d.To.Image {
		t.Errorf("--image-b: image changed %v, %s -> %s", d.ImageChanged, d.From.Image, d.To.Image)
	}
}

// TestDiffWarnsOnce: both sides warn about the same unpinned image; the
// warning is printed once.
func TestDiffWarnsOnce(t *testing.T) {
	code, _, stderr := run(t, "diff", "-f", seed, "staging", "prod")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stderr, "relgen: warning: image registry.example.com/acme/myapp:0.1.0 is not pinned by digest"); n != 1 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want the unpinned image warning once", stderr)
	}
}

func TestDiffErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{name: "one environment", args: []string{"diff", "-f", seed, "prod"}, want: "want two environments, ENV_A ENV_B (e.g. relgen diff staging prod), got 1 argument(s)"},
		{name: "unknown environment", args: []string{"diff", "-f", seed, "staging", "qa"}, want: "qa"},
		{name: "bad output", args: []string{"diff", "-f", seed, "staging", "prod", "--output", "yaml"}, want: `--output "yaml": want text or json`},
		{name: "image and record", args: []string{"diff", "-f", seed, "staging", "prod", "--image", "x", "--record", "y"}, want: "[image record] were all set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

// TestDiffDistributionSwitch: prod moves to TLS without epmd while
// staging stays plain; nodes of the two modes cannot connect, so the
// diff says so, in text and JSON, without failing.
func TestDiffDistributionSwitch(t *testing.T) {
	args := []string{"staging", "prod", "-f", seed, "--image", "registry.example.com/acme/myapp@" + digestA,
		"--set", "environments.prod.epmd=false", "--set", "environments.prod.tls.secret=myapp-tls"}
	code, out, errOut := run(t, append([]string{"diff"}, args...)...)
	if code != 0 {
		t.Fatalf("relgen diff: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "DISTRIBUTION MODE DIFFERS: tcp, epmd -> tls, no epmd\n") || !strings.Contains(out, "Recreate") {
		t.Errorf("the mode switch is not flagged:\n%s", out)
	}
	d := diffJSON(t, 0, args...)
	if !d.DistributionChanged || d.From.Distribution != "tcp, epmd" || d.To.Distribution != "tls, no epmd" {
		t.Errorf("JSON: distribution_changed %v, %q -> %q", d.DistributionChanged, d.From.Distribution, d.To.Distribution)
	}
	d = diffJSON(t, 0, args[:6]...)
	if d.DistributionChanged {
		t.Error("JSON: distribution_changed without a switch")
	}
}
