package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/relgen/relgen/internal/safefile"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/image"
	"github.com/relgen/relgen/release/image/sbom"
)

// SBOMOptions are the flags of relgen sbom.
type SBOMOptions struct {
	Output  string
	MixLock string
}

func newSBOMCommand(g *GlobalOptions) *cobra.Command {
	o := &SBOMOptions{}
	cmd := &cobra.Command{
		Use:   "sbom [RELEASE_DIR]",
		Short: "Write the SPDX 2.3 bill of materials of a built release",
		Long: `Write an SPDX 2.3 JSON software bill of materials for a built release
directory (default release.path): the ERTS version and every OTP application
the release boots, with its version (from releases/<vsn>/<name>.rel and the
.app files). Applications that mix.lock lists as Hex packages get a
pkg:hex/NAME@VSN package URL. relgen build --sbom FILE writes the same for the
image, with the base image's Debian packages, and attaches it to the pushed
image as an OCI referrer. The creation time is SOURCE_DATE_EPOCH (default 0),
so the same release always gives the same document.`,
		Example: `  relgen sbom -o myapp.spdx.json
  relgen sbom _build/prod/rel/myapp --mix-lock mix.lock`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, lock := "", o.MixLock
			if len(args) == 1 {
				dir = args[0]
			} else {
				cfg, err := loadConfig(g)
				if err != nil {
					return err
				}
				if cfg.Release.Path == "" {
					return cfg.Errorf("release.path", "is required: the built release directory (or pass it as an argument)")
				}
				dir = cfg.Release.Path
				if lock == "" {
					lock = filepath.Join(filepath.Dir(g.ConfigFile), "mix.lock")
				}
			}
			created, err := creationTime(g)
			if err != nil {
				return err
			}
			rel, err := readSBOMRelease(dir, lock, o.MixLock != "")
			if err != nil {
				return err
			}
			doc, err := sbom.Document(sbom.Subject{Release: rel, Tool: "relgen-" + version()}, nil, created)
			if err != nil {
				return err
			}
			if o.Output == "" || o.Output == "-" {
				_, err = cmd.OutOrStdout().Write(doc)
				return err
			}
			return safefile.WriteFile(o.Output, doc, 0o644)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", "", "write the document to this file instead of stdout")
	f.StringVar(&o.MixLock, "mix-lock", "", "the project's mix.lock, for Hex package URLs (default mix.lock next to the config file)")
	return cmd
}

// readSBOMRelease reads the release in dir and the mix.lock at lock
// (which may be absent unless required).
func readSBOMRelease(dir, lock string, required bool) (sbom.Release, error) {
	var data []byte
	if lock != "" {
		var err error
		data, err = os.ReadFile(lock)
		if err != nil && (required || !errors.Is(err, os.ErrNotExist)) {
			return sbom.Release{}, fmt.Errorf("reading mix.lock: %w", err)
		}
	}
	rel, err := sbom.ReadRelease(os.DirFS(dir), data)
	if err != nil {
		return sbom.Release{}, fmt.Errorf("%s: %w", dir, err)
	}
	return rel, nil
}

// imageSBOM writes the SBOM of the built image ref (repository@sha256:...)
// to file and, when pushed, attaches it to the image as a referrer.
func imageSBOM(ctx context.Context, g *GlobalOptions, cfg *release.Config, res *image.Result, ref, file string, push bool) error {
	m := res.Manifests[0]
	rel, err := readSBOMRelease(m.Dir, filepath.Join(filepath.Dir(g.ConfigFile), "mix.lock"), false)
	if err != nil {
		return err
	}
	base, err := sbom.ReadBase(m.Image)
	if err != nil {
		return err
	}
	created, err := creationTime(g)
	if err != nil {
		return err
	}
	s := sbom.Subject{Release: rel, Image: ref, Tool: "relgen-" + version()}
	if cf, err := m.Image.ConfigFile(); err == nil {
		if d := cf.Config.Labels[image.LabelBaseDigest]; d != "" {
			s.Base, s.BaseDigest = cfg.Image.Base.String(), d
		}
	}
	doc, err := sbom.Document(s, base, created.In(time.UTC))
	if err != nil {
		return err
	}
	if err := safefile.WriteFile(file, doc, 0o644); err != nil {
		return err
	}
	if !push {
		return nil
	}
	d, err := name.NewDigest(ref)
	if err != nil {
		return err
	}
	var subject *v1.Descriptor
	if res.Index != nil {
		subject, err = partial.Descriptor(res.Index)
	} else {
		subject, err = partial.Descriptor(res.Image)
	}
	if err != nil {
		return err
	}
	_, err = sbom.Push(ctx, d, *subject, doc, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	return err
}
