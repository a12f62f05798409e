package cli

import (
	"bytes"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/relgen/relgen/bench/synth"
	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/release"
)

// leakedCookie is the cookie the test plants where a release and a pod
// keep it: releases/COOKIE in the release directory (mix release writes
// one) and RELEASE_COOKIE in the environment.
const leakedCookie = "PLANTEDCOOKIEQX7Z4KJ2M9WRT5VYB3"

// TestCookieNeverPrinted runs every command, in every output form, on a
// project whose cookie Secret is configured and whose cookie sits in the
// release directory and the environment, and looks for the cookie in
// everything relgen writes: stdout, stderr, JSON, records, directories,
// the image's layers (uncompressed) and the tarball. relgen secret is the
// only command that prints a cookie, and its cookie appears nowhere else.
func TestCookieNeverPrinted(t *testing.T) {
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	dir := t.TempDir()
	rel := filepath.Join(dir, "rel")
	if _, _, err := synth.Write(rel, synth.Options{Scale: 0.05, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rel, "releases", "COOKIE"), []byte(leakedCookie), 0o400); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "relgen.yaml")
	config := `release:
  name: benchapp
  kind: distillery
  path: rel
  cookie: {secret: benchapp-erlang-cookie, key: erlang-cookie}
image:
  repository: ` + strings.TrimPrefix(s.URL, "http://") + `/acme/benchapp
  base: scratch
cluster:
  discovery: libcluster-dns
environments:
  staging: {namespace: staging}
  prod: {namespace: prod, protected: true}
`
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("RELEASE_COOKIE", leakedCookie)
	t.Setenv("POD_IP", "10.0.0.7")
	out := filepath.Join(dir, "out")
	at := func(name string) string { return filepath.Join(out, name) }
	record := at("build.json")

	commands := [][]string{
		{"build", "--skip-build", "--record", record, "--oci-layout", at("layout"), "--tarball", at("image.tar")},
		{"manifests", "--env", "prod", "--record", record},
		{"manifests", "--env", "prod", "--record", record, "-o", "json"},
		{"manifests", "--env", "staging", "--output-dir", at("staging")},
		{"manifests", "--env", "prod", "--record", record, "--kustomize", at("base")},
		{"check"},
		{"check", "--record", record, "--strict"},
		{"check", "--record", record, "-o", "json"},
		{"diff", "staging", "prod", "--record", record},
		{"diff", "staging", "prod", "--record", record, "-o", "json"},
		{"discovery", "--env", "prod"},
		{"discovery", "--env", "prod", "--format", "elixir"},
		{"vmargs", "--env", "prod"},
		{"vmargs", "--env", "prod", "--resolve"},
		{"version"},
		{"build", "--skip-build", "--push=false", "--record", at("again.json")},
	}
	var all bytes.Buffer
	for _, args := range commands {
		code, stdout, stderr := run(t, append([]string{"-f", cfg}, args...)...)
		if code != 0 && args[0] != "check" {
			t.Fatalf("relgen %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		if strings.Contains(stdout+stderr, leakedCookie) {
			t.Errorf("relgen %s printed the cookie:\n%s%s", strings.Join(args, " "), stdout, stderr)
		}
		all.WriteString(stdout + stderr)
	}

	// Every file written, and every layer of the image as unpacked.
	written := filesUnder(t, out)
	if len(written) < 15 {
		t.Fatalf("only %d files written under %s", len(written), out)
	}
	for name, data := range written {
		if bytes.Contains(data, []byte(leakedCookie)) {
			t.Errorf("%s holds the cookie", name)
		}
		all.Write(data)
	}
	idx, err := layout.ImageIndexFromPath(at("layout"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	fromTar, err := tarball.ImageFromPath(at("image.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string]v1.Image{"OCI layout": img, "tarball": fromTar} {
		layers, err := img.Layers()
		if err != nil || len(layers) < 3 {
			t.Fatalf("%s: %d layers, %v", name, len(layers), err)
		}
		for i, l := range layers {
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			_ = rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte(leakedCookie)) || bytes.Contains(data, []byte("releases/COOKIE")) {
				t.Errorf("%s layer %d holds the cookie or releases/COOKIE", name, i)
			}
		}
	}

	// relgen secret prints a cookie, its own; it is in no other output.
	code, stdout, stderr := run(t, "-f", cfg, "secret", "--env", "prod")
	if code != 0 {
		t.Fatalf("relgen secret: exit %d: %s", code, stderr)
	}
	var secret corev1.Secret
	if err := yaml.UnmarshalStrict([]byte(stdout), &secret); err != nil {
		t.Fatal(err)
	}
	fresh := secret.StringData["erlang-cookie"]
	if secret.Name != "benchapp-erlang-cookie" || len(fresh) < 32 || fresh == leakedCookie {
		t.Fatalf("relgen secret printed %s with cookie %q, want a fresh cookie under release.cookie's name and key", secret.Name, fresh)
	}
	if strings.Contains(stderr, fresh) || bytes.Contains(all.Bytes(), []byte(fresh)) {
		t.Errorf("the cookie relgen secret drew appears outside its stdout")
	}
	// The bundle refers to the Secret, by the configured name and key.
	objs, err := manifests.Decode(written[filepath.Join("base", "04-deployment-benchapp.yaml")])
	if err != nil || len(objs) != 1 {
		t.Fatalf("decoding the kustomize base's Deployment: %d objects, %v", len(objs), err)
	}
	pod, _, _ := manifests.WorkloadPod(objs[0])
	var ref *corev1.SecretKeySelector
	for _, e := range pod.Spec.Containers[0].Env {
		if e.Name == release.CookieEnv && e.ValueFrom != nil {
			ref = e.ValueFrom.SecretKeyRef
		}
	}
	if ref == nil || ref.Name != "benchapp-erlang-cookie" || ref.Key != "erlang-cookie" {
		t.Errorf("%s comes from %+v, want the Secret benchapp-erlang-cookie, key erlang-cookie", release.CookieEnv, ref)
	}
}

// TestGoldenFilesHoldNoCookie: no expected output in the repository
// carries a cookie: no Secret object, no literal RELEASE_COOKIE, no
// -setcookie with a literal value.
func TestGoldenFilesHoldNoCookie(t *testing.T) {
	literal := regexp.MustCompile(`(?m)-setcookie\s+[^$\s]`)
	var n int
	for _, root := range []string{"testdata", examples} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			golden := strings.HasSuffix(p, ".golden") || strings.Contains(p, "/expected/") && strings.HasSuffix(p, ".yaml")
			if err != nil || d.IsDir() || !golden {
				return err
			}
			n++
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if literal.Match(data) {
				t.Errorf("%s: a literal -setcookie", p)
			}
			objs, err := manifests.Decode(data)
			if err != nil {
				return nil // not a bundle: an error message or a diff
			}
			for _, o := range objs {
				if _, ok := o.(*corev1.Secret); ok {
					t.Errorf("%s holds a Secret", p)
				}
				if pod, _, ok := manifests.WorkloadPod(o); ok {
					for _, e := range pod.Spec.Containers[0].Env {
						if e.Name == release.CookieEnv && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.Value != "") {
							t.Errorf("%s: %s is not taken from a Secret", p, release.CookieEnv)
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 20 {
		t.Errorf("checked %d golden files, want every one (20 or more)", n)
	}
}

// filesUnder reads every regular file under dir, by path relative to dir.
func filesUnder(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
