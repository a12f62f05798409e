package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/relgen/relgen/bench/synth"
	"github.com/relgen/relgen/release/image"
)

// These tests run relgen as a separate process (this test binary, which
// runs main's code when RELGEN_TEST_MAIN is set) and signal or kill it in
// the middle of a build or a push. Whatever the moment, no layout,
// tarball, record or cache entry may be left half-written, and the next
// build must succeed, reusing the layers that were finished.

func TestMain(m *testing.M) {
	if os.Getenv("RELGEN_TEST_MAIN") == "1" {
		os.Exit(run())
	}
	code := m.Run()
	if releaseDir != "" {
		_ = os.RemoveAll(releaseDir)
	}
	os.Exit(code)
}

// project is a synthetic release (bench/synth, about 25 MB: long enough
// to compress that a signal lands mid-build) with its relgen.yaml.
type project struct {
	config, cache, out string
}

var (
	releaseOnce sync.Once
	releaseDir  string
	releaseErr  error
)

func newProject(t *testing.T, repository string) project {
	t.Helper()
	releaseOnce.Do(func() {
		releaseDir, releaseErr = os.MkdirTemp("", "relgen-signal-")
		if releaseErr == nil {
			_, _, releaseErr = synth.Write(filepath.Join(releaseDir, "rel"), synth.Options{Scale: 0.3, Seed: 1})
		}
	})
	if releaseErr != nil {
		t.Fatal(releaseErr)
	}
	dir := t.TempDir()
	p := project{config: filepath.Join(dir, "relgen.yaml"), cache: filepath.Join(dir, "cache"), out: filepath.Join(dir, "out")}
	cfg := `release:
  name: benchapp
  kind: mix
  path: ` + filepath.Join(releaseDir, "rel") + `
image:
  repository: ` + repository + `
  base: scratch
environments:
  prod: {namespace: default}
`
	if err := os.WriteFile(p.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p.out, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// outputs are the flags that write every file output into p.out.
func (p project) outputs() []string {
	return []string{"--oci-layout", filepath.Join(p.out, "layout"), "--tarball", filepath.Join(p.out, "image.tar"),
		"--record", filepath.Join(p.out, "build.json")}
}

func (p project) command(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], append([]string{"-f", p.config, "build", "--skip-build"}, args...)...)
	cmd.Env = append(os.Environ(), "RELGEN_TEST_MAIN=1", "XDG_CACHE_HOME="+p.cache, "SOURCE_DATE_EPOCH=1700000000")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// cacheFiles lists the cache's finished blobs and its temporary files.
func (p project) cacheFiles(t *testing.T) (blobs, temps []string) {
	t.Helper()
	err := filepath.WalkDir(p.cache, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Base(filepath.Dir(path)) {
		case "blobs":
			blobs = append(blobs, path)
		case "tmp":
			if !strings.HasPrefix(d.Name(), "clock") {
				temps = append(temps, path)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return blobs, temps
}

// midBuild waits until at least one layer is recorded in the cache and
// another is being compressed, then returns; it fails the test if relgen exits first.
func (p project) midBuild(t *testing.T, exited <-chan error) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			t.Fatalf("relgen exited (%v) before the build was under way: make the release bigger", err)
		case <-tick.C:
		}
		if _, temps := p.cacheFiles(t); len(p.records(t)) > 0 && len(temps) > 0 {
			return
		}
	}
}

// records lists the cache's records: the entries that name a blob.
func (p project) records(t *testing.T) []string {
	t.Helper()
	var records []string
	for _, kind := range []string{"stat", "content"} {
		found, err := filepath.Glob(filepath.Join(p.cache, "relgen", "layers", "*", kind, "*"))
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, found...)
	}
	return records
}

// assertCacheIntact checks every cache entry is whole: each blob hashes
// to its name, each record parses and names a blob that is there. It
// returns the blobs that records name: the layers a next build reuses.
func (p project) assertCacheIntact(t *testing.T) []string {
	t.Helper()
	blobs, _ := p.cacheFiles(t)
	for _, b := range blobs {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != filepath.Base(b) {
			t.Errorf("cache blob %s holds other content (%d bytes)", b, len(data))
		}
	}
	var recorded []string
	for _, d := range p.records(t) {
		// A record is its JSON, then (after a newline) a checksum.
		var rec struct{ Digest string }
		data, err := os.ReadFile(d)
		line, _, _ := bytes.Cut(data, []byte("\n"))
		if err != nil || json.Unmarshal(line, &rec) != nil {
			t.Errorf("cache record %s is damaged: %q", d, data)
			continue
		}
		blob := filepath.Join(filepath.Dir(filepath.Dir(d)), "blobs", rec.Digest)
		if _, err := os.Stat(blob); err != nil {
			t.Errorf("cache record %s names a missing blob: %v", d, err)
		}
		recorded = append(recorded, blob)
	}
	return recorded
}

// assertNothingWritten checks p.out holds nothing, temporary files
// included.
func (p project) assertNothingWritten(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(p.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("interrupted build left %s in the output directory", e.Name())
	}
}

// buildAgain runs an uninterrupted build and checks its outputs, and that
// the blobs finished before the interruption were reused, not rebuilt.
func (p project) buildAgain(t *testing.T, before []string) {
	t.Helper()
	stats := map[string]os.FileInfo{}
	for _, b := range before {
		fi, err := os.Stat(b)
		if err != nil {
			t.Fatal(err)
		}
		stats[b] = fi
	}
	cmd, stdout, stderr := p.command(append(p.outputs(), "--push=false")...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("build after the interruption: %v\n%s", err, stderr)
	}
	rec, err := image.ReadRecordFile(filepath.Join(p.out, "build.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(stdout.String()); got != rec.Reference {
		t.Errorf("stdout %q, record %q", got, rec.Reference)
	}
	p.assertOutputs(t, rec.Digest)
	for b, fi := range stats {
		now, err := os.Stat(b)
		if err != nil || !os.SameFile(fi, now) {
			t.Errorf("cached layer %s was not reused (%v)", filepath.Base(b), err)
		}
	}
	p.assertCacheIntact(t)
}

// assertOutputs checks the layout and tarball in p.out hold the image,
// whole: manifests and configs valid, every layer's compressed bytes of
// the digest and size the manifest gives. (validate's full check, which
// also decompresses every layer to check its diff ID, is release/image's
// own tests' job; here it is what an interrupted write could break.)
func (p project) assertOutputs(t *testing.T, digest string) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(filepath.Join(p.out, "layout"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx, validate.Fast); err != nil {
		t.Errorf("validate.Index(layout) = %v", err)
	}
	m, _ := idx.IndexManifest()
	if len(m.Manifests) != 1 || m.Manifests[0].Digest.String() != digest {
		t.Fatalf("layout holds %+v, want %s", m, digest)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	assertLayersWhole(t, "layout", img)
	img, err = tarball.ImageFromPath(filepath.Join(p.out, "image.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img, validate.Fast); err != nil {
		t.Errorf("validate.Image(tarball) = %v", err)
	}
	assertLayersWhole(t, "tarball", img)
}

// assertLayersWhole checks each layer's compressed bytes hash to the
// digest, and have the size, that img's manifest gives.
func assertLayersWhole(t *testing.T, what string, img v1.Image) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != len(m.Layers) {
		t.Fatalf("%s: %d layers (%v), manifest lists %d", what, len(layers), err, len(m.Layers))
	}
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("%s: layer %d: %v", what, i, err)
		}
		h, n, err := v1.SHA256(rc)
		_ = rc.Close()
		if err != nil || h != m.Layers[i].Digest || n != m.Layers[i].Size {
			t.Errorf("%s: layer %d is %s, %d bytes (%v), manifest says %s, %d bytes", what, i, h, n, err, m.Layers[i].Digest, m.Layers[i].Size)
		}
	}
}

func TestSignalMidBuild(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			p := newProject(t, "registry.invalid/acme/benchapp")
			cmd, _, stderr := p.command(append(p.outputs(), "--push=false")...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			p.midBuild(t, exited)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := <-exited
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("relgen after %s: %v, want it stopped", sig, err)
			}
			status := exit.Sys().(syscall.WaitStatus)
			if sig == syscall.SIGKILL {
				if !status.Signaled() || status.Signal() != sig {
					t.Errorf("relgen after SIGKILL: %v", status)
				}
			} else {
				if status.ExitStatus() != 128+int(sig) {
					t.Errorf("relgen after %s exited %d, want %d", sig, status.ExitStatus(), 128+int(sig))
				}
				if msg := stderr.String(); !strings.HasPrefix(msg, "relgen: ") || !strings.Contains(msg, "context canceled") {
					t.Errorf("relgen after %s printed %q, want the cancellation", sig, msg)
				}
			}
			p.assertNothingWritten(t)
			recorded := p.assertCacheIntact(t)
			_, temps := p.cacheFiles(t)
			if sig != syscall.SIGKILL && len(temps) > 0 {
				t.Errorf("relgen stopped by %s left temporary files %v", sig, temps)
			}
			t.Logf("%s: %d cache records before it, %d temporary files left", sig, len(recorded), len(temps))
			if len(recorded) == 0 {
				t.Fatalf("no layer was recorded before %s", sig)
			}
			p.buildAgain(t, recorded)
		})
	}
}

// TestSignalMidPush stops relgen while a registry holds an upload: the
// layout and tarball, written before the push, are whole; no record is
// written and no tag set.
func TestSignalMidPush(t *testing.T) {
	stalled, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			_, _ = io.Copy(io.Discard, r.Body)
			once.Do(func() { close(stalled) })
			select { // never answer
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(done) })
	repo := strings.TrimPrefix(s.URL, "http://") + "/acme/benchapp"
	p := newProject(t, repo)
	cmd, _, stderr := p.command(p.outputs()...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-stalled:
	case err := <-exited:
		t.Fatalf("relgen exited (%v) before pushing:\n%s", err, stderr)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("relgen after SIGINT mid-push: %v, want exit 130\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "pushing to "+repo) {
		t.Errorf("stderr %q, want it to say the push to %s stopped", stderr, repo)
	}
	if _, err := os.Stat(filepath.Join(p.out, "build.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("record after an interrupted push: %v, want none", err)
	}
	idx, err := layout.ImageIndexFromPath(filepath.Join(p.out, "layout"))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	p.assertOutputs(t, m.Manifests[0].Digest.String())
	tag, _ := name.NewTag(repo + ":" + synth.Version)
	if desc, err := remote.Head(tag); err == nil {
		t.Errorf("tag %s set to %s by an interrupted push", tag, desc.Digest)
	}
}
