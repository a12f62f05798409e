package cli

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relgen/relgen/bench/synth"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/image"
)

// buildProject writes a small synthetic release and a relgen.yaml for it
// into a temporary directory and returns the config path. The release
// build command only records MIX_ENV, so the release stays as written.
func buildProject(t *testing.T, repository, extra string) string {
	t.Helper()
	dir := t.TempDir()
	if _, _, err := synth.Write(filepath.Join(dir, "rel"), synth.Options{Scale: 0.05, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	cfg := `release:
  name: benchapp
  kind: mix
  path: rel
  build: [sh, -c, 'echo building with MIX_ENV=$MIX_ENV >&2; echo $MIX_ENV > built']
image:
  repository: ` + repository + `
  base: scratch
` + extra + `
environments:
  prod: {namespace: default}
`
	path := filepath.Join(dir, "relgen.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Keep the layer cache out of the real user cache.
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	return path
}

func TestBuildCommand(t *testing.T) {
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	repo := strings.TrimPrefix(s.URL, "http://") + "/acme/benchapp"
	cfg := buildProject(t, repo, "")
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	out := t.TempDir()
	layoutDir, tarball, record := filepath.Join(out, "layout"), filepath.Join(out, "image.tar"), filepath.Join(out, "build.json")

	code, stdout, stderr := run(t, "-f", cfg, "build", "--oci-layout", layoutDir, "--tarball", tarball, "--record", record)
	if code != 0 {
		t.Fatalf("relgen build: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "building with MIX_ENV=prod") {
		t.Errorf("release.build output missing from stderr:\n%s", stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "built")); string(b) != "prod\n" {
		t.Errorf("release.build ran with MIX_ENV=%q, want prod", b)
	}
	ref, err := name.NewDigest(strings.TrimSuffix(stdout, "\n"))
	if err != nil || stdout != ref.String()+"\n" || ref.Context().String() != repo {
		t.Fatalf("stdout = %q, want only %s@sha256:...", stdout, repo)
	}

	img, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pulling %s: %v", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Created.Unix() != 1700000000 || cf.Config.Cmd[0] != "start" || cf.Config.Entrypoint[0] != "/app/bin/benchapp" {
		t.Errorf("config created %v, cmd %v, entrypoint %v", cf.Created, cf.Config.Cmd, cf.Config.Entrypoint)
	}
	if _, err := remote.Image(mustParse(t, repo+":"+synth.Version)); err != nil {
		t.Errorf("tag %s was not pushed: %v", synth.Version, err)
	}

	rec, err := image.ReadRecordFile(record)
	if err != nil || rec.Reference != ref.String() {
		t.Errorf("record = %+v, %v, want reference %s", rec, err, ref)
	}
	idx, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := idx.IndexManifest(); err != nil || m.Manifests[0].Digest.String() != ref.DigestStr() {
		t.Errorf("layout holds %v, want %s", m, ref.DigestStr())
	}
	if _, err := os.Stat(tarball); err != nil {
		t.Errorf("tarball: %v", err)
	}

	// The record pins the Deployment's image to exactly this digest.
	code, stdout, stderr = run(t, "-f", cfg, "manifests", "--env", "prod", "--record", record)
	if code != 0 {
		t.Fatalf("relgen manifests --record: exit %d\n%s", code, stderr)
	}
	if d := deploymentOf(t, stdout); d.Spec.Template.Spec.Containers[0].Image != ref.String() {
		t.Errorf("Deployment image = %s, want %s", d.Spec.Template.Spec.Containers[0].Image, ref)
	}

	// Building again gives the same digest, without pushing.
	code, again, stderr := run(t, "-f", cfg, "build", "--push=false", "--skip-build")
	if code != 0 || again != ref.String()+"\n" {
		t.Errorf("second build: exit %d, stdout %q, want %s\n%s", code, again, ref, stderr)
	}
}

func mustParse(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildCommandErrors(t *testing.T) {
	tests := []struct {
		name  string
		extra string // appended to the image section
		args  []string
		edit  func(t *testing.T, dir string)
		want  string
	}{
		{
			name: "not built",
			edit: func(t *testing.T, dir string) { _ = os.RemoveAll(filepath.Join(dir, "rel", "releases")) },
			want: "not a release directory: ",
		},
		{
			name: "version mismatch",
			edit: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "relgen.yaml")
				b, _ := os.ReadFile(p)
				_ = os.WriteFile(p, []byte(strings.Replace(string(b), "kind: mix", "kind: mix\n  version: 9.9.9", 1)), 0o644)
			},
			want: "release.version: is 9.9.9 but the release directory holds version 0.1.0",
		},
		{
			name: "no release directory",
			edit: func(t *testing.T, dir string) { _ = os.RemoveAll(filepath.Join(dir, "rel")) },
			want: "/rel does not exist (relative paths start at the config file's directory); build the release first",
		},
		{name: "no --release-dir", args: []string{"--skip-build", "--release-dir", "linux/amd64=/nonexistent/rel"},
			want: "relgen: --release-dir: /nonexistent/rel does not exist; build the release first"},
		{name: "--release-dir of a platform not built", args: []string{"--skip-build", "--release-dir", "linux/arm64=/elsewhere/rel"},
			want: "relgen: --release-dir linux/arm64=/elsewhere/rel: linux/arm64 is not among the platforms built (linux/amd64); add it with --platform"},
		{name: "bad platform", args: []string{"--platform", "amd64"}, want: `platform "amd64": want OS/ARCH`},
		{name: "two platforms, one dir", args: []string{"--platform", "linux/amd64,linux/arm64"}, want: "--release-dir linux/amd64=DIR is missing"},
		{name: "own app missing", extra: "  app_layers: [nope]\n", want: `own app "nope" not found`},
		{
			name: "failing release.build",
			edit: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "relgen.yaml")
				b, _ := os.ReadFile(p)
				_ = os.WriteFile(p, []byte(strings.Replace(string(b), "echo $MIX_ENV > built", "exit 3", 1)), 0o644)
			},
			args: []string{},
			want: "relgen.yaml:5: release.build: sh -c echo building with MIX_ENV=$MIX_ENV >&2; exit 3: exit status 3; its output is above",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := buildProject(t, "registry.example.com/acme/benchapp", tt.extra)
			if tt.edit != nil {
				tt.edit(t, filepath.Dir(cfg))
			}
			args := tt.args
			if args == nil {
				args = []string{"--skip-build"}
			}
			code, stdout, stderr := run(t, append([]string{"-f", cfg, "build", "--push=false"}, args...)...)
			if code == 0 || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("relgen build: exit %d, stdout %q, stderr %q; want failure with %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestBuildWarnsAboutBuildTimeDiscovery: a release with config/runtime.exs
// whose build-time sys.config sets peerage would put relgen's mounted
// discovery config back after boot; relgen build says so, naming the
// environments on the file route, and is quiet on the env route.
func TestBuildWarnsAboutBuildTimeDiscovery(t *testing.T) {
	const sysConfig = `[{elixir,[]},{peerage,[{via,'Elixir.Peerage.Via.Dns'},{dns_name,<<"x">>}]}].` + "\n"
	for _, tc := range []struct {
		name, extra string
		runtimeExs  bool
		want        string
	}{
		{name: "file route", runtimeExs: true, extra: "cluster: {discovery: peerage}",
			want: "relgen: warning: the release has config/runtime.exs and its build-time config sets :peerage, so after boot " +
				"those keys go back to their build-time values over relgen's discovery config in environment prod; " +
				"remove :peerage from config/*.exs, or set cluster.discovery_config: env"},
		{name: "env route", runtimeExs: true, extra: "cluster: {discovery: peerage, discovery_config: env}"},
		{name: "no runtime.exs", extra: "cluster: {discovery: peerage}"},
		{name: "libcluster", runtimeExs: true, extra: "cluster: {discovery: libcluster-dns}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"sys.config": sysConfig}
			if tc.runtimeExs {
				files["runtime.exs"] = "import Config\n"
			}
			stderr := buildStderr(t, tc.extra, files)
			if got := strings.Contains(stderr, "build-time config"); tc.want == "" && got || tc.want != "" && !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %q, want warning %q", stderr, tc.want)
			}
		})
	}
}

// TestVersionFromRelease: without release.version the manifests tag the
// image with the version the built release holds, as image.Inspect reads
// it.
func TestVersionFromRelease(t *testing.T) {
	cfg := buildProject(t, "registry.example.com/acme/benchapp", "")
	code, stdout, stderr := run(t, "manifests", "-f", cfg, "--env", "prod")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "image: registry.example.com/acme/benchapp:" + synth.Version + "\n"
	if !strings.Contains(stdout, want) {
		t.Errorf("manifests lack %q:\n%s", want, stdout)
	}
	if err := os.RemoveAll(filepath.Join(filepath.Dir(cfg), "rel")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "manifests", "-f", cfg, "--env", "prod"); code != 1 || !strings.Contains(stderr, "release.version: no image digest") {
		t.Errorf("unbuilt release: exit %d, stderr %q; want 1 and no release version", code, stderr)
	}
}

// TestCancelSurvives: a build stopped by its context (Ctrl-C) reports
// context.Canceled at the top of the command, through the located error
// the base-image pull is wrapped in.
func TestCancelSurvives(t *testing.T) {
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	host := strings.TrimPrefix(s.URL, "http://")
	cfg := buildProject(t, host+"/acme/benchapp", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := NewRootCommand()
	root.SetArgs([]string{"-f", cfg, "--set", "image.base=" + host + "/acme/base:1", "build", "--skip-build", "--push=false"})
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	err := root.ExecuteContext(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("build with a cancelled context = %v, want an error matching context.Canceled", err)
	}
	var fe *release.FieldError
	if !errors.As(err, &fe) || fe.Path != "image.base" {
		t.Errorf("build with a cancelled context = %v, want it located at image.base", err)
	}
}

// TestBuildUnpullableBase: a base image the registry does not have is
// blamed on image.base, naming the registry and the offline choices.
func TestBuildUnpullableBase(t *testing.T) {
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(s.Close)
	host := strings.TrimPrefix(s.URL, "http://")
	cfg := buildProject(t, host+"/acme/benchapp", "")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(b), "base: scratch", "base: "+host+"/nothing/here:1", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "-f", cfg, "build", "--push=false", "--skip-build")
	for _, want := range []string{
		"relgen.yaml:8: image.base: base " + host + "/nothing/here:1: pulling from registry " + host + ": ",
		"check the name, the network and your credentials for " + host + " (docker login " + host + ")",
		"or build offline: image.base: scratch, oci-layout:DIR, tarball:FILE or {debian: [packages]}",
	} {
		if code != 1 || stdout != "" || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, stdout, stderr, want)
		}
	}
}

// TestBuildPushFailsAfterWriting: when the push fails after --oci-layout
// and --tarball were written, the error says what is on disk and how to
// skip the push, and no record is written.
func TestBuildPushFailsAfterWriting(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "denied", http.StatusForbidden)
	}))
	t.Cleanup(s.Close)
	cfg := buildProject(t, strings.TrimPrefix(s.URL, "http://")+"/acme/benchapp", "")
	dir := t.TempDir()
	layout, tarball, record := filepath.Join(dir, "layout"), filepath.Join(dir, "image.tar"), filepath.Join(dir, "build.json")
	code, stdout, stderr := run(t, "-f", cfg, "build", "--skip-build", "--oci-layout", layout, "--tarball", tarball, "--record", record)
	want := "; the image was written as an OCI layout in " + layout + " and a tarball at " + tarball +
		", but not pushed and no record was written (--push=false builds without pushing)\n"
	if code != 1 || stdout != "" || !strings.HasSuffix(stderr, want) {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and a message ending %q", code, stdout, stderr, want)
	}
	for _, p := range []string{layout, tarball} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was not written: %v", p, err)
		}
	}
	if _, err := os.Stat(record); err == nil {
		t.Errorf("a record was written for an image that was not pushed")
	}
}

// TestBuildWarnsAboutEnvSh: a mix release whose env.sh exports
// RELEASE_NODE overrides the node name the pods set; relgen build names
// the line. Keeping the pod's value (${RELEASE_NODE:-...}) is quiet.
func TestBuildWarnsAboutEnvSh(t *testing.T) {
	for _, tc := range []struct{ name, envSh, want string }{
		{name: "overrides", envSh: "#!/bin/sh\nexport RELEASE_DISTRIBUTION=name\nexport RELEASE_NODE=\"${FLY_APP_NAME}@${FLY_PRIVATE_IP}\"\n",
			want: "/releases/" + synth.Version + "/env.sh:3 sets RELEASE_NODE, which the start script reads after env.sh, so it overrides the RELEASE_NODE the pods get from relgen"},
		{name: "keeps", envSh: "#!/bin/sh\nexport RELEASE_NODE=\"${RELEASE_NODE:-app@127.0.0.1}\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stderr := buildStderr(t, "", map[string]string{"env.sh": tc.envSh})
			if got := strings.Contains(stderr, "env.sh:"); tc.want == "" && got || tc.want != "" && !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %q, want warning %q", stderr, tc.want)
			}
		})
	}
}

// buildStderr builds the synthetic release with files written into its
// releases/<vsn>/ directory and returns what relgen build printed on
// stderr; the build must succeed.
func buildStderr(t *testing.T, extra string, files map[string]string) string {
	t.Helper()
	cfg := buildProject(t, "registry.invalid/acme/benchapp", extra)
	vsn := filepath.Join(filepath.Dir(cfg), "rel", "releases", synth.Version)
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(vsn, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := run(t, "-f", cfg, "build", "--push=false", "--skip-build")
	if code != 0 {
		t.Fatalf("relgen build: exit %d\n%s", code, stderr)
	}
	return stderr
}
