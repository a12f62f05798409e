package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/relgen/relgen/cmd/relgen/cli"
	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

// releaseName is the fixture's release name, hence the node basename.
const releaseName = "e2e_app"

// tlsSecretName is the TLS variants' certificate Secret.
const tlsSecretName = "e2e-app-dist-tls"

// variant is one way of shipping the fixture app, end to end.
type variant struct {
	name string
	// kind is release.kind; a distillery variant boots through the
	// Distillery stand-in (testdata/distillery).
	kind string
	// route is cluster.discovery_config.
	route string
	// runtimeExs gives the app a config/runtime.exs (relgen's block from
	// `relgen discovery --format elixir`) and a config/config.exs that
	// sets wrong peerage values at build time.
	runtimeExs bool
	// tls runs distribution over TLS (cluster.tls.secret, from relgen
	// secret --tls); epmdLess without epmd (cluster.epmd: false).
	tls, epmdLess bool
	// discovery is cluster.discovery; empty means peerage.
	discovery string
	// noLibcrypto builds the image on a base without libssl3, with
	// image.abi_check: false (after checking that the check refuses it).
	noLibcrypto bool
}

// strategy is the variant's cluster.discovery.
func (v variant) strategy() string {
	if v.discovery == "" {
		return discovery.Peerage
	}
	return v.discovery
}

// basePackages is the image base of the fixture: Debian packages, as
// examples/hello has it (the libraries Debian's ERTS and crypto NIF link
// against, and the shell tools the boot scripts run).
var basePackages = []string{
	"base-files", "libc6", "libgcc-s1", "libstdc++6", "libtinfo6", "zlib1g", "libssl3", "ca-certificates",
	"libsystemd0", "libcap2", "libgcrypt20", "libgpg-error0", "liblz4-1", "liblzma5", "libzstd1",
	"dash", "coreutils", "libacl1", "libattr1", "libgmp10", "libselinux1", "libpcre2-8-0", "sed", "grep", "mawk",
}

// buildTimePeerage is the fixture's build-time peerage config for the
// runtimeExs variants: values a bundle must override, or nodes never meet.
const buildTimePeerage = `config :peerage, via: Peerage.Via.Dns, dns_name: "peers.build-time.invalid", app_name: "build_time", interval: 1`

// shipped is a variant's release, built and packed into an image by
// relgen, and unpacked again as a node would pull it.
type shipped struct {
	variant
	config string // relgen.yaml
	ref    string // the image, by digest
	image  *unpackedImage
}

// ship does what a user of the variant does: writes relgen.yaml, adds
// what `relgen discovery` says to config/runtime.exs, runs
// `MIX_ENV=prod mix release` and `relgen build`. mix runs with a private
// HOME and MIX_HOME and Hex offline: the app has no Hex dependencies
// (peerage is a local stand-in), so nothing is fetched. Variants whose
// app sources are the same share one mix release (mixReleases), and
// images with the same digest are unpacked once (unpacked), each layer
// once for all images into runDir/layers. The variant's own files go to
// runDir/<variant name>.
func ship(t *testing.T, tl *tools, runDir string, v variant) *shipped {
	t.Helper()
	work, layersDir := filepath.Join(runDir, v.name), filepath.Join(runDir, "layers")
	src := filepath.Join(work, "src")
	if err := os.CopyFS(src, os.DirFS("testdata")); err != nil {
		t.Fatalf("copying the fixture: %v", err)
	}
	app := filepath.Join(src, "app")
	s := &shipped{variant: v, config: filepath.Join(app, "relgen.yaml")}
	write(t, s.config, relgenConfig(v))
	if v.runtimeExs {
		if err := os.MkdirAll(filepath.Join(app, "config"), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(app, "config", "config.exs"), "import Config\n\n"+buildTimePeerage+"\n")
		// A runtime.exs as apps have one, plus on the env route the block
		// relgen prints for it.
		runtime := "import Config\n\nconfig :logger, level: String.to_existing_atom(System.get_env(\"LOG_LEVEL\", \"info\"))\n"
		if v.route == release.DiscoveryConfigEnv {
			runtime += "\n" + string(relgen(t, "discovery", "-f", s.config, "--env", "e2e", "--format", "elixir"))
		}
		write(t, filepath.Join(app, "config", "runtime.exs"), runtime)
	}
	if v.strategy() == discovery.DNSCluster {
		// A Phoenix app's runtime.exs reads DNS_CLUSTER_QUERY; relgen
		// prints the line, naming the app.
		if err := os.MkdirAll(filepath.Join(app, "config"), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(app, "config", "runtime.exs"), "import Config\n\n"+
			string(relgen(t, "discovery", "-f", s.config, "--env", "e2e", "--format", "elixir")))
	}
	start := time.Now()
	built, err := buildRelease(t.Context(), tl, work, app)
	if err != nil {
		t.Fatal(err)
	}
	mixTook := time.Since(start)
	if v.kind == release.KindDistillery {
		distilleryLayout(t, filepath.Join(app, "_build", "prod", "rel", releaseName), filepath.Join(src, "distillery"))
	}

	layoutDir := filepath.Join(work, "oci")
	if v.noLibcrypto {
		// The ABI check refuses the base before anything is packed.
		relgenBuilds.Lock()
		_, errOut, err := relgenBinary(t.Context(), tl, "build", "-f", s.config, "--push=false", "--skip-build", "--set", "image.abi_check=true")
		relgenBuilds.Unlock()
		if want := "/priv/lib/crypto.so needs libcrypto.so.3; Debian packages ["; err == nil || !strings.Contains(string(errOut), want) {
			t.Fatalf("relgen build on a base without libssl3: %v, stderr:\n%s\nwant a failure saying %q", err, errOut, want)
		}
	}
	start = time.Now()
	ref, stderr := relgenBuild(t, tl, s.config, layoutDir)
	s.ref = strings.TrimSpace(string(ref))
	// relgen build warns when build-time config would win over the file
	// route (the broken build-time-config case), and only then.
	warned := strings.Contains(string(stderr), "its build-time config sets :peerage")
	if want := v.runtimeExs && v.route == release.DiscoveryConfigFile; warned != want {
		t.Errorf("relgen build warned about build-time peerage config: %v, want %v\n%s", warned, want, stderr)
	}
	buildTook := time.Since(start)
	start = time.Now()
	img, first, err := unpacked.do(s.ref, func() (*unpackedImage, error) {
		return unpackImage(t.Context(), tl, layoutDir, s.ref, layersDir)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: mix release %s in %.1fs, relgen build in %.1fs, image %s %s in %.1fs", v.name,
		map[bool]string{true: "built", false: "copied"}[built], mixTook.Seconds(), buildTook.Seconds(),
		s.ref, map[bool]string{true: "unpacked", false: "shared"}[first], time.Since(start).Seconds())
	if p := img.path(filepath.Join(img.config.WorkingDir, "releases", "COOKIE")); p != "" {
		t.Errorf("the image holds releases/COOKIE (%s); the cookie must only come from the Secret", p)
	}
	s.image = img
	return s
}

// distilleryLayout turns the mix release in dir into the shape of a
// Distillery release that relgen recognises and the image boots the
// Distillery way: bin/<name> is the stand-in boot script, and
// releases/<vsn>/libexec replaces mix's env.sh.
func distilleryLayout(t *testing.T, dir, standIn string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "releases", "start_erl.data"))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		t.Fatalf("releases/start_erl.data = %q, want ERTS and release version", data)
	}
	vsn := filepath.Join(dir, "releases", f[1])
	if err := os.Remove(filepath.Join(vsn, "env.sh")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(vsn, "libexec"), os.DirFS(filepath.Join(standIn, "libexec"))); err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(standIn, releaseName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", releaseName), script, 0o755); err != nil {
		t.Fatal(err)
	}
}

// discoveryInterval is cluster.interval: how often discovery polls DNS.
const discoveryInterval = time.Second

// jobReport starts the line the migrate Job prints.
const jobReport = "migrate ran on "

// relgenConfig is the relgen.yaml the test deploys a variant with. The
// Distillery variant names the pod IP variable as the seed recipe does:
// -name e2e_app@${MY_POD_IP}.
func relgenConfig(v variant) string {
	podIPEnv := ""
	if v.kind == release.KindDistillery {
		podIPEnv = "\n  pod_ip_env: MY_POD_IP"
	}
	if v.epmdLess {
		podIPEnv += "\n  epmd: false"
	}
	if v.tls {
		podIPEnv += "\n  tls: {secret: " + tlsSecretName + "}"
	}
	pkgs, abiCheck := basePackages, ""
	if v.noLibcrypto {
		pkgs = slices.DeleteFunc(slices.Clone(pkgs), func(p string) bool { return p == "libssl3" })
		abiCheck = "\n  abi_check: false"
	}
	return `# relgen.yaml of the end-to-end test's fixture release.
release:
  name: ` + releaseName + `
  kind: ` + v.kind + `
  path: _build/prod/rel/` + releaseName + `
image:
  repository: example.invalid/e2e
  # The pods run on the image's own root: this base is all they have.
  base:
    debian: [` + strings.Join(pkgs, ", ") + `]` + abiCheck + `
cluster:
  discovery: ` + v.strategy() + `
  discovery_config: ` + v.route + `
  headless_service: e2e-app-peers
  interval: ` + discoveryInterval.String() + podIPEnv + `
deployment:
  port: 8000
  health_path: /healthz
  env:
    HTTP_PORT: "8000"
  jobs:
    # A release command as a Job: it reads the pods' env, reports whether
    # its VM is distributed, and lives a few discovery intervals so the
    # nodes would find it if it were a node.
    migrate:
      eval: 'IO.puts("` + jobReport + `#{node()} alive=#{Node.alive?()} http_port=#{System.fetch_env!("HTTP_PORT")}"); Process.sleep(3000)'
environments:
  e2e:
    namespace: e2e
    replicas: 2
`
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// relgen runs the relgen CLI in-process and returns its stdout.
func relgen(t *testing.T, args ...string) []byte {
	t.Helper()
	stdout, _ := relgenRun(t, args...)
	return stdout
}

// kustomize applies an overlay (a kustomization body without its
// resources) over docs with the real kubectl kustomize, as a team does
// before kubectl apply.
func kustomize(t *testing.T, tl *tools, overlay string, docs []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	base, over := filepath.Join(dir, "base"), filepath.Join(dir, "overlay")
	for _, d := range []string{base, over} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(base, "bundle.yaml"):        string(docs),
		filepath.Join(base, "kustomization.yaml"): "resources:\n- bundle.yaml\n",
		filepath.Join(over, "kustomization.yaml"): overlay + "resources:\n- ../base\n",
	}
	for name, text := range files {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(tl.kubectl, "kustomize", over)
	cmd.Env = append(os.Environ(), "KUBECONFIG=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	return out
}

// checkBundle runs relgen check --bundle on bundle: it must pass, or,
// when refused lists what it must say, refuse the bundle saying that.
func checkBundle(t *testing.T, bundle []byte, refused []string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "bundle.yaml")
	if err := os.WriteFile(file, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := cli.Execute(t.Context(), []string{"check", "--bundle", file}, &out, &errOut)
	switch {
	case len(refused) == 0 && code != 0:
		t.Fatalf("relgen check --bundle refused the bundle it is deployed from:\n%s", errOut.String())
	case len(refused) > 0 && code == 0:
		t.Fatalf("relgen check --bundle passed a bundle that must be refused:\n%s", errOut.String())
	}
	for _, want := range refused {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("relgen check --bundle says\n%s\nwant it to name %q", errOut.String(), want)
		}
	}
}

// relgenRun runs the relgen CLI in-process and returns its stdout and
// stderr; it fails the test unless relgen exits 0.
func relgenRun(t *testing.T, args ...string) (stdout, stderr []byte) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := cli.Execute(t.Context(), args, &out, &errOut); code != 0 {
		t.Fatalf("relgen %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
	}
	if errOut.Len() > 0 {
		t.Logf("relgen %s:\n%s", args[0], errOut.String())
	}
	return out.Bytes(), errOut.Bytes()
}

func decode(t *testing.T, what string, yaml []byte) []manifests.Object {
	t.Helper()
	objs, err := manifests.Decode(yaml)
	if err != nil {
		t.Fatalf("decoding %s: %v\n%s", what, err, yaml)
	}
	return objs
}

// unpackedImage is an image as a node's container runtime keeps it: each
// layer unpacked once into a directory of its own (shared by every image
// with that layer, as containerd's overlayfs snapshotter shares them),
// and the image config. A container's root is an overlay of the layers.
type unpackedImage struct {
	// layers are the layer directories, the top layer first (the order
	// of overlayfs's lowerdir).
	layers []string
	config v1.Config
}

// path is where the file name (absolute in the image) is on the host:
// in the topmost layer that has it, as the overlay shows it (the layers
// hold no whiteouts; unpackLayer refuses them). It returns "" when no
// layer has it.
func (u *unpackedImage) path(name string) string {
	for _, dir := range u.layers {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); err == nil {
			return p
		}
	}
	return ""
}

// unpackImage reads the image ref (repository@sha256:...) from an OCI
// layout, as a node pulls it by digest, and unpacks each of its layers
// that is not unpacked yet into layersDir.
func unpackImage(ctx context.Context, tl *tools, layoutDir, ref, layersDir string) (*unpackedImage, error) {
	d, err := name.NewDigest(ref)
	if err != nil {
		return nil, fmt.Errorf("image %q is not pinned by digest: %w", ref, err)
	}
	h, err := v1.NewHash(d.DigestStr())
	if err != nil {
		return nil, err
	}
	idx, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		return nil, err
	}
	img, err := idx.Image(h)
	if err != nil {
		return nil, fmt.Errorf("image %s in %s: %w", h, layoutDir, err)
	}
	if got, err := img.Digest(); err != nil || got != h {
		return nil, fmt.Errorf("image digest = %v (%v), want %s", got, err, h)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	u := &unpackedImage{config: cf.Config}
	for _, l := range slices.Backward(layers) {
		digest, err := l.Digest()
		if err != nil {
			return nil, err
		}
		dir, _, err := unpackedLayers.do(digest.String(), func() (string, error) {
			dir := filepath.Join(layersDir, digest.Hex)
			return dir, unpackLayer(ctx, tl, l, dir)
		})
		if err != nil {
			return nil, fmt.Errorf("unpacking layer %s of %s: %w", digest, ref, err)
		}
		u.layers = append(u.layers, dir)
	}
	return u, nil
}

// unpackLayer extracts layer into dst with tar (as root: owners, modes
// and hard links as in the layer), from its gzip stream when it is one.
// A whiteout would need the overlay's own format, which the images relgen
// builds never need; one fails the test rather than being ignored.
func unpackLayer(ctx context.Context, tl *tools, layer v1.Layer, dst string) error {
	mt, err := layer.MediaType()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	args := []string{"-x", "-p", "--numeric-owner", "-f", "-", "-C", dst}
	open := layer.Uncompressed
	if mt == types.OCILayer || mt == types.DockerLayer {
		open, args = layer.Compressed, append([]string{"-z"}, args...)
	}
	rc, err := open()
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	cmd := exec.CommandContext(ctx, tl.tar, args...)
	cmd.Stdin = rc
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tar %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".wh.") {
			return fmt.Errorf("%s: whiteouts are not simulated", strings.TrimPrefix(p, dst))
		}
		return err
	})
}

// onceEach runs a function once per key: the first caller runs it, later
// callers with the same key wait for it and share its result. A function
// that ends its goroutine (t.Fatal) leaves the zero value.
type onceEach[V any] struct {
	mu sync.Mutex
	m  map[string]*onceResult[V]
}

type onceResult[V any] struct {
	once sync.Once
	v    V
	err  error
}

func (o *onceEach[V]) do(key string, f func() (V, error)) (v V, first bool, err error) {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[string]*onceResult[V]{}
	}
	r := o.m[key]
	if r == nil {
		r = &onceResult[V]{}
		o.m[key] = r
	}
	o.mu.Unlock()
	r.once.Do(func() {
		first = true
		r.v, r.err = f()
	})
	return r.v, first, r.err
}

// mixReleases runs `mix release` once per distinct app source: mix reads
// neither relgen.yaml nor the release kind, so only the app's config/
// tells variants apart (sourceKey). Each variant still packs its own copy
// with relgen build (and the Distillery ones reshape theirs).
var mixReleases onceEach[string]

// unpacked holds each image once, by digest, as a node pulls an image
// once for all its pods; pods only read it.
var unpacked onceEach[*unpackedImage]

// unpackedLayers holds each layer's directory once, by digest.
var unpackedLayers onceEach[string]

// relgenBuilds lets one relgen build run at a time (relgenBuild).
var relgenBuilds sync.Mutex

// relgenBuild runs relgen build into an OCI layout, one build at a time:
// the first build of a base fills the shared layer cache, after which a
// build on the same base takes a fraction of a second; side by side, two
// subtests would each build the base.
func relgenBuild(t *testing.T, tl *tools, config, layoutDir string) (stdout, stderr []byte) {
	t.Helper()
	relgenBuilds.Lock()
	defer relgenBuilds.Unlock()
	stdout, stderr, err := relgenBinary(t.Context(), tl, "build", "-f", config, "--push=false", "--oci-layout", layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(stderr) > 0 {
		t.Logf("relgen build:\n%s", stderr)
	}
	return stdout, stderr
}

// relgenBinary runs the relgen binary the test built, as a user runs
// it, and returns its stdout and stderr; err says how it failed.
func relgenBinary(ctx context.Context, tl *tools, args ...string) (stdout, stderr []byte, err error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, tl.relgen, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.Bytes(), errOut.Bytes(), fmt.Errorf("relgen %s: %w\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes(), errOut.Bytes(), nil
}

// buildRelease puts app's release in app/_build/prod/rel/<name>: built
// with `MIX_ENV=prod mix release` by the first variant with these
// sources (and kept pristine under its work dir), copied for the rest.
func buildRelease(ctx context.Context, tl *tools, work, app string) (built bool, err error) {
	key, err := sourceKey(app)
	if err != nil {
		return false, err
	}
	rel := filepath.Join(app, "_build", "prod", "rel", releaseName)
	pristine, built, err := mixReleases.do(key, func() (string, error) {
		if err := mixRelease(ctx, tl, work, app); err != nil {
			return "", err
		}
		dir := filepath.Join(work, "release")
		return dir, copyDir(ctx, rel, dir)
	})
	if err != nil || built {
		return built, err
	}
	return false, copyDir(ctx, pristine, rel)
}

// mixRelease runs `MIX_ENV=prod mix release` in app with a private HOME
// and MIX_HOME and Hex offline.
func mixRelease(ctx context.Context, tl *tools, work, app string) error {
	cmd := exec.CommandContext(ctx, tl.mix, "release", "--overwrite")
	cmd.Dir = app
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(work, "home"),
		"MIX_HOME=" + filepath.Join(work, "mix"),
		"HEX_HOME=" + filepath.Join(work, "hex"),
		"HEX_OFFLINE=1",
		"MIX_ENV=prod",
		"LANG=C.UTF-8",
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("MIX_ENV=prod mix release: %w\n%s", err, out)
	}
	return nil
}

// sourceKey hashes what sets one variant's app apart from another's: the
// files under config/ (the rest is the fixture, the same for all).
func sourceKey(app string) (string, error) {
	h := sha256.New()
	dir := filepath.Join(app, "config")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n%s", d.Name(), len(b), b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// copyDir copies the tree src to dst, keeping modes, owners and times.
func copyDir(ctx context.Context, src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, "cp", "-a", src, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("cp -a %s %s: %w\n%s", src, dst, err, out)
	}
	return nil
}
