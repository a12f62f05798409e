package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/image"
	"github.com/relgen/relgen/release/image/abi"
	"github.com/relgen/relgen/release/image/deb"
)

// baseImage opens image.base for platform p: a reference through
// image.ResolveBase (nil for scratch), or a base built from Debian
// packages, fetched with apt-get download into the user cache unless
// image.base.debs names a directory of .deb files.
func baseImage(ctx context.Context, cfg *release.Config, p v1.Platform, created time.Time) (v1.Image, error) {
	b := cfg.Image.Base
	if !b.IsPackages() {
		img, err := image.ResolveBase(ctx, b.Ref, p, nil)
		var pull *image.PullError
		if errors.As(err, &pull) && ctx.Err() == nil {
			return nil, cfg.Errorf("image.base", "%w; check the name, the network and your credentials for %s (docker login %s), "+
				"or build offline: image.base: scratch, oci-layout:DIR, tarball:FILE or {debian: [packages]}", err, pull.Registry, pull.Registry)
		} else if err != nil {
			return nil, cfg.Errorf("image.base", "%w", err)
		}
		return img, nil
	}
	arch := deb.Arch(p)
	var files []string
	switch {
	case b.Debs != "" && len(b.Debian) == 0:
		matches, err := filepath.Glob(filepath.Join(b.Debs, "*_*_*.deb"))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			if a := strings.TrimSuffix(m[strings.LastIndexByte(m, '_')+1:], ".deb"); a == arch || a == "all" {
				files = append(files, m)
			}
		}
		if len(files) == 0 {
			return nil, cfg.Errorf("image.base.debs", "%s holds no .deb files for %s", b.Debs, arch)
		}
	case b.Debs != "":
		found, missing, err := deb.Find(b.Debs, b.Debian, arch)
		if err != nil {
			return nil, cfg.Errorf("image.base.debs", "%w", err)
		}
		if len(missing) > 0 {
			return nil, cfg.Errorf("image.base.debs", "%s has no %s package for %s (apt-get download NAME:%s fetches one)",
				b.Debs, arch, strings.Join(missing, ", "), arch)
		}
		files = found
	default:
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, cfg.Errorf("image.base.debian", "no cache directory for the packages (%v): set image.base.debs to a directory of .deb files", err)
		}
		if files, err = deb.Fetch(ctx, filepath.Join(dir, "relgen", "debs"), b.Debian, arch); err != nil {
			return nil, cfg.Errorf("image.base.debian", "%w", err)
		}
	}
	user, err := cfg.User()
	if err != nil {
		return nil, err
	}
	var cache string
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "relgen", "bases")
	}
	opts := []deb.Option{deb.WithCreationTime(created), deb.WithUser(int(user.UID), int(user.GID)), deb.WithPlatform(p)}
	if c := cfg.Image.ABICheck; c != nil && !*c {
		opts = append(opts, deb.WithoutCheck())
	}
	img, err := deb.BaseFromFiles(files, cache, opts...)
	if err != nil {
		return nil, cfg.Errorf("image.base", "%w", err)
	}
	return img, nil
}

// baseName is the org.opencontainers.image.base.name of a registry base,
// its fully qualified reference, so that crane rebase can find it; other
// bases have no name to pull by.
func baseName(b release.Base) string {
	if b.IsPackages() || b.Ref == "" || b.Ref == image.BaseScratch || strings.HasPrefix(b.Ref, "oci-layout:") || strings.HasPrefix(b.Ref, "tarball:") {
		return ""
	}
	ref, err := name.ParseReference(b.Ref)
	if err != nil {
		return ""
	}
	return ref.Name()
}

// checkABI runs the ABI check of the release in dir against base (nil:
// scratch) unless image.abi_check is false. Passes are remembered in the
// user cache, so a rebuild on the same base does not read its layers again.
func checkABI(cfg *release.Config, dir string, base v1.Image) error {
	if c := cfg.Image.ABICheck; c != nil && !*c {
		return nil
	}
	needs, err := abi.Scan(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	name := cfg.Image.Base.String()
	if name == "" {
		name = image.BaseScratch
	}
	var cache string
	if d, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(d, "relgen", "abi")
	}
	err = abi.CheckImage(needs, base, name, cache)
	var problems *abi.Error
	switch {
	case errors.As(err, &problems):
		return cfg.Errorf("image.base", "%w\n(image.abi_check: false builds the image anyway)", err)
	case err != nil:
		return cfg.Errorf("image.base", "%w", err)
	}
	return nil
}
