package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/relgen/relgen/cmd/relgen/cli"
	"github.com/relgen/relgen/internal/testutil"
	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/release/image"
	"github.com/relgen/relgen/release/image/deb"
	"github.com/relgen/relgen/release/load"
)

// relgen runs the CLI and returns stdout, failing the test on a non-zero
// exit.
func relgen(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := cli.Execute(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("relgen %s: exit %d:\n%s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

// build runs the relgen binary bin with args, in the test's environment,
// and returns its exit code, stdout and stderr.
func build(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, append([]string{"build"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String(), errOut.String()
	case err != nil:
		t.Fatalf("relgen build %s: %v", strings.Join(args, " "), err)
	}
	return 0, out.String(), errOut.String()
}

// mustBuild is build that fails the test on a non-zero exit.
func mustBuild(t *testing.T, bin string, args ...string) string {
	t.Helper()
	code, stdout, stderr := build(t, bin, args...)
	if code != 0 {
		t.Fatalf("relgen build %s: exit %d:\n%s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// copyTree copies the example project (without build output) to dst, so
// the test's mix release does not write into the repository.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() && (rel == "_build" || rel == "deps") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHelloBuild is issue 4's promise on a real Elixir project: relgen
// build runs mix release, packs the release reproducibly onto a base built
// from Debian packages (two builds from a clean slate give one digest),
// pushes it to a registry, and the staging and prod bundles both run
// exactly that digest. A base without a library ERTS needs is refused.
//
// The builds run a relgen binary built without -race (testutil.Relgen):
// unpacking 25 Debian packages three times is minutes under the race
// detector and seconds without it. The same code runs under -race in the
// package tests (release/image, release/image/deb, cmd/relgen/cli) and in
// the e2e's in-process builds on this very package list.
func TestHelloBuild(t *testing.T) {
	tool(t, "mix")
	tool(t, "apt-get") // the base's Debian packages
	if testing.Short() {
		t.Skip("builds a release with mix")
	}
	bin := testutil.Relgen(t)
	project := t.TempDir()
	copyTree(t, "hello", project)
	cfg := filepath.Join(project, "relgen.yaml")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("MIX_HOME", filepath.Join(home, "mix"))
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	// The packages are fetched once a run (testutil.Shared) and put into
	// each build's user cache, where relgen build finds them.
	debs := helloDebs(t, cfg)

	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	repo := strings.TrimPrefix(s.URL, "http://") + "/acme/hello"

	cache := filepath.Join(home, "cache")
	t.Setenv("XDG_CACHE_HOME", cache)
	testutil.LinkInto(t, filepath.Join(cache, "relgen", "debs"), debs)
	layout1, record := filepath.Join(project, "image1"), filepath.Join(project, "build.json")
	first := strings.TrimSpace(mustBuild(t, bin, "-f", cfg, "--push=false", "--oci-layout", layout1))

	// A second build from a clean slate: new _build, new base and layer
	// caches.
	if err := os.RemoveAll(filepath.Join(project, "_build")); err != nil {
		t.Fatal(err)
	}
	cache = filepath.Join(home, "cache2")
	t.Setenv("XDG_CACHE_HOME", cache)
	testutil.LinkInto(t, filepath.Join(cache, "relgen", "debs"), debs)
	sbomFile := filepath.Join(project, "hello.spdx.json")
	pushed := strings.TrimSpace(mustBuild(t, bin, "-f", cfg, "--set", "image.repository="+repo, "--record", record, "--sbom", sbomFile))

	_, d1, _ := strings.Cut(first, "@")
	_, d2, _ := strings.Cut(pushed, "@")
	if d1 == "" || d1 != d2 {
		t.Fatalf("two builds of the same project: %s and %s, want one digest", first, pushed)
	}
	ref, err := name.NewDigest(pushed)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pulling %s back: %v", ref, err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("pulled image is invalid: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cf.Config.Entrypoint, " ") + " " + strings.Join(cf.Config.Cmd, " "); got != "/app/bin/hello start" {
		t.Errorf("entrypoint+cmd = %q, want /app/bin/hello start", got)
	}
	// The base is Debian's packages, and scanners can see them.
	files := testutil.ImageFiles(t, img, "var/lib/dpkg/status", "etc/passwd")
	status := files["var/lib/dpkg/status"]
	for _, pkg := range []string{"libc6", "libtinfo6", "libstdc++6", "coreutils"} {
		if !strings.Contains(status, "Package: "+pkg+"\nStatus: install ok installed\n") {
			t.Errorf("dpkg status lacks %s:\n%s", pkg, status)
		}
	}
	if passwd := files["etc/passwd"]; !strings.Contains(passwd, ":"+image.DefaultUser+":"+image.DefaultUser+":") {
		t.Errorf("/etc/passwd has no entry for the image user %s:\n%s", image.DefaultUser, passwd)
	}
	rec, err := image.ReadRecordFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Layers) == 0 || rec.Layers[0].Kind != image.KindBase {
		t.Errorf("record layers %+v, want the base layer first", rec.Layers)
	}

	checkSBOM(t, sbomFile, ref, img)

	// The ABI check: without libtinfo6, ERTS cannot start, and the build
	// says so before packing anything.
	cfgData, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(project, "broken.yaml")
	if err := os.WriteFile(broken, bytes.Replace(cfgData, []byte("libtinfo6, "), nil, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := build(t, bin, "-f", broken, "--push=false", "--skip-build")
	if want := "/bin/beam.smp needs libtinfo.so.6; Debian packages ["; code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("build without libtinfo6: exit %d, stderr %q; want a failure saying %q", code, stderr, want)
	}
	if rec.Reference != pushed {
		t.Errorf("record reference %s, want the printed %s", rec.Reference, pushed)
	}

	// Promotion: staging and prod run the very image that was built.
	for _, env := range []string{"staging", "prod"} {
		out := relgen(t, "manifests", "-f", cfg, "--env", env, "--set", "image.repository="+repo, "--record", record)
		objs, err := manifests.Decode([]byte(out))
		if err != nil {
			t.Fatal(err)
		}
		deployments := 0
		for _, o := range objs {
			if d, ok := o.(*appsv1.Deployment); ok {
				deployments++
				if got := d.Spec.Template.Spec.Containers[0].Image; got != pushed {
					t.Errorf("%s Deployment runs %s, want %s", env, got, pushed)
				}
			}
		}
		if deployments != 1 {
			t.Errorf("%s bundle has %d Deployments, want 1 whose image to check", env, deployments)
		}
	}
}

// helloDebs returns the .deb files of examples/hello's base from the
// run's shared directory, fetching the ones it lacks.
func helloDebs(t *testing.T, cfg string) []string {
	t.Helper()
	c, err := load.File(cfg, load.WithEnviron(nil))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	testutil.Shared(t, "debs", func(dir string) (err error) {
		files, err = deb.Fetch(t.Context(), dir, c.Image.Base.Debian, "amd64")
		return err
	})
	return files
}

// checkSBOM validates the SBOM relgen build wrote against the SPDX 2.3
// schema, reads back what it lists (ERTS, the release's applications, the
// base's Debian packages), and finds it in the registry as a referrer of
// the image.
func checkSBOM(t *testing.T, file string, ref name.Digest, img v1.Image) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	testutil.ValidateJSON(t, "../release/image/sbom/testdata/spdx-schema-2.3.json", data)
	var doc struct {
		Packages []struct {
			Name    string              `json:"name"`
			Version string              `json:"versionInfo"`
			Refs    []map[string]string `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, p := range doc.Packages {
		have[p.Name] = p.Version
		for _, r := range p.Refs {
			have[p.Name] += " " + r["referenceLocator"]
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"hello":              "0.1.0",
		ref.Context().Name(): ref.DigestStr() + " pkg:oci/hello@" + ref.DigestStr() + "?repository_url=" + ref.Context().Name(),
		"erts":               "13.",
		"kernel":             "8.",
		"elixir":             "1.",
		"libc6":              "2.36",
		"coreutils":          "9.",
	} {
		if got := have[name]; !strings.HasPrefix(got, want) {
			t.Errorf("SBOM lists %s as %q, want %q...", name, got, want)
		}
	}
	if got := have["libc6"]; !strings.Contains(got, "pkg:deb/debian/libc6@") || !strings.Contains(got, "&distro=debian-") {
		t.Errorf("SBOM libc6 = %q, want a pkg:deb purl naming the distribution", got)
	}
	if cf.Config.Labels[image.LabelBaseDigest] == "" {
		t.Errorf("image labels %v lack %s", cf.Config.Labels, image.LabelBaseDigest)
	}
	_, m, pulled := testutil.Referrer(t, ref)
	if m.ArtifactType != "application/spdx+json" || m.Subject == nil || m.Subject.Digest.String() != ref.DigestStr() {
		t.Errorf("the referrer of %s is %s with subject %+v, want an SPDX document about the image", ref, m.ArtifactType, m.Subject)
	}
	if !bytes.Equal(pulled, data) {
		t.Error("the SBOM pulled from the registry differs from the file relgen build wrote")
	}
}
