package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/relgen/relgen/cmd/relgen/cli"
	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/manifests/discovery"
)

// releaseName is the fixture's release name, hence the node basename.
const releaseName = "e2e_app"

// buildRelease runs `MIX_ENV=prod mix release` on a copy of the fixture
// app and returns the app directory. mix runs with a private HOME and
// MIX_HOME and Hex offline: the app has no Hex dependencies (peerage is a
// local stand-in), so nothing is fetched.
func buildRelease(t *testing.T, tl *tools, work string) string {
	t.Helper()
	src := filepath.Join(work, "src")
	if err := os.CopyFS(src, os.DirFS("testdata")); err != nil {
		t.Fatalf("copying the fixture: %v", err)
	}
	app := filepath.Join(src, "app")
	cmd := exec.CommandContext(t.Context(), tl.mix, "release", "--overwrite")
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
		t.Fatalf("MIX_ENV=prod mix release: %v\n%s", err, out)
	}
	return app
}

// relgenConfig is the relgen.yaml the test deploys with.
const relgenConfig = `# relgen.yaml of the end-to-end test's fixture release.
release:
  name: ` + releaseName + `
  kind: mix
  path: _build/prod/rel/` + releaseName + `
image:
  repository: example.invalid/e2e
  # Offline there is no debian:bookworm-slim to pull; the simulated
  # container runtime lays the image over the host's Debian root instead.
  base: scratch
cluster:
  discovery: peerage
  headless_service: e2e-app-peers
  interval: 1s
deployment:
  port: 8000
  health_path: /healthz
  env:
    HTTP_PORT: "8000"
environments:
  e2e:
    namespace: e2e
    replicas: 3
`

func writeConfig(t *testing.T, appDir string) string {
	t.Helper()
	p := filepath.Join(appDir, "relgen.yaml")
	if err := os.WriteFile(p, []byte(relgenConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// relgen runs the relgen CLI in-process and returns its stdout.
func relgen(t *testing.T, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := cli.Execute(t.Context(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("relgen %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("relgen %s:\n%s", args[0], stderr.String())
	}
	return stdout.Bytes()
}

func decode(t *testing.T, what string, yaml []byte) []discovery.Object {
	t.Helper()
	objs, err := manifests.Decode(yaml)
	if err != nil {
		t.Fatalf("decoding %s: %v\n%s", what, err, yaml)
	}
	return objs
}

// unpackedImage is an image's root filesystem and config on the host.
type unpackedImage struct {
	dir    string
	config v1.Config
}

// unpackImage reads the image ref (repository@sha256:...) from an OCI
// layout, as a node pulls it by digest, and flattens its layers into dst.
func unpackImage(ctx context.Context, layoutDir, ref, dst string) (*unpackedImage, error) {
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
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	if err := untar(ctx, rc, dst); err != nil {
		return nil, fmt.Errorf("unpacking %s: %w", ref, err)
	}
	return &unpackedImage{dir: dst, config: cf.Config}, nil
}

func untar(ctx context.Context, r io.Reader, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rel := filepath.Clean(strings.TrimPrefix(hdr.Name, "/"))
		if !filepath.IsLocal(rel) {
			if rel == "." {
				continue
			}
			return fmt.Errorf("%s: path outside the root", hdr.Name)
		}
		p := filepath.Join(dst, rel)
		mode := hdr.FileInfo().Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(hdr.Linkname, p); err != nil {
				return err
			}
			if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil {
				return err
			}
			continue
		case tar.TypeLink:
			if err := os.Link(filepath.Join(dst, filepath.Clean(hdr.Linkname)), p); err != nil {
				return err
			}
			continue
		default:
			return fmt.Errorf("%s: unexpected tar entry type %q", hdr.Name, hdr.Typeflag)
		}
		if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
	}
}
