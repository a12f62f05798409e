package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/image"
)

// BuildOptions are the flags of relgen build.
type BuildOptions struct {
	OCILayout string
	Tarball   string
	Push      bool
	Record    string
	Platforms []string
	// ReleaseDirs maps a platform to its release directory, for
	// multi-platform builds ("linux/arm64=_build/arm64/rel/myapp").
	ReleaseDirs map[string]string
	SkipBuild   bool
	// SBOM is the file the SPDX bill of materials is written to.
	SBOM string
}

func newBuildCommand(g *GlobalOptions) *cobra.Command {
	o := &BuildOptions{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the release's OCI image and push it, or write it to disk",
		Long: `Run release.build (with MIX_ENV=prod), then pack the release directory
into a layered, reproducible OCI image without a container daemon: ERTS,
third-party apps, the project's own apps, then releases/ and bin/, so that a
code-only change makes one new app layer. Unchanged layers come from the
layer cache and are not uploaded again. releases/COOKIE is never packed.
image.base is a registry reference, oci-layout:DIR, tarball:FILE, scratch,
or {debian: [packages]} for a base built from Debian packages. Before
packing, ERTS and the NIFs are checked against the base's libraries
(image.abi_check); --sbom writes an SPDX bill of materials.

The image is pushed to image.repository (tagged with the release version)
unless --push=false; --oci-layout and --tarball also write it to disk.
Stdout carries only the pinned reference, repository@sha256:..., for
relgen manifests --image; --record writes it with the layer digests for
relgen manifests --record. Times in the image come from SOURCE_DATE_EPOCH
(default 0), so the same release always gives the same digest.

It warns when the release has config/runtime.exs and its build-time config
already sets the discovery library: on cluster.discovery_config: file those
keys would go back to their build-time values after boot.`,
		Example: `  relgen build --record build.json
  relgen build --push=false --oci-layout out/image --skip-build
  relgen build --push=false --oci-layout out/image --sbom out/image.spdx.json
  relgen manifests --env prod --record build.json | kubectl apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			if err := cfg.Validate(discovery.Registry{}); err != nil {
				return err
			}
			if !o.SkipBuild && len(cfg.Release.Build) > 0 {
				if err := runReleaseBuild(ctx, g, cfg.Release.Build, cmd.ErrOrStderr()); err != nil {
					return cfg.Errorf("release.build", "%w; its output is above (--skip-build packs release.path as it is)", err)
				}
			}
			res, err := o.build(cmd, g, cfg)
			if err != nil {
				return err
			}
			defer func() { _ = res.Close() }()
			ref, err := o.publish(ctx, cfg, res, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if o.SBOM != "" {
				if err := imageSBOM(ctx, g, cfg, res, ref, o.SBOM, o.Push); err != nil {
					return fmt.Errorf("SBOM: %w", err)
				}
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), ref)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.OCILayout, "oci-layout", "", "also write the image as an OCI image layout into this directory")
	f.StringVar(&o.Tarball, "tarball", "", "also write the image as a tarball for docker load / podman load")
	f.BoolVar(&o.Push, "push", true, "push the image to image.repository (--push=false: only build and print the reference pinned by digest)")
	f.StringVar(&o.Record, "record", "", "write the build record (reference, digest, layers) as JSON for relgen manifests --record")
	f.StringSliceVar(&o.Platforms, "platform", nil, "platforms to build, e.g. linux/arm64 (default image.platforms, else linux/amd64)")
	f.StringToStringVar(&o.ReleaseDirs, "release-dir", nil, "the release directory of one platform built, as `PLATFORM=DIR`, e.g. linux/arm64=_build/arm64/rel/myapp (repeatable; default release.paths, else release.path)")
	f.Lookup("release-dir").DefValue = "" // the default is in the usage; pflag would print "(default [])"
	f.BoolVar(&o.SkipBuild, "skip-build", false, "do not run release.build; pack the release directory as it is")
	f.StringVar(&o.SBOM, "sbom", "", "write the image's SPDX 2.3 bill of materials to this file (and push it as a referrer of the image)")
	return cmd
}

// runReleaseBuild runs release.build in the config file's directory with
// MIX_ENV=prod, its output streamed to stderr (stdout is for the reference).
func runReleaseBuild(ctx context.Context, g *GlobalOptions, argv []string, stderr io.Writer) error {
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Dir = filepath.Dir(g.ConfigFile)
	c.Env = append(withoutVar(g.Environ(), "MIX_ENV"), "MIX_ENV=prod")
	c.Stdout, c.Stderr = stderr, stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return nil
}

func withoutVar(env []string, key string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// build packs the release for every platform.
func (o *BuildOptions) build(cmd *cobra.Command, g *GlobalOptions, cfg *release.Config) (*image.Result, error) {
	ctx := cmd.Context()
	platforms, err := o.platforms(cfg)
	if err != nil {
		return nil, err
	}
	opts, err := buildOptions(cmd, g, cfg)
	if err != nil {
		return nil, err
	}
	created, err := creationTime(g)
	if err != nil {
		return nil, err
	}
	if err := o.unusedReleaseDirs(platforms); err != nil {
		return nil, err
	}
	var targets []image.Target
	for _, p := range platforms {
		dir := o.ReleaseDirs[p.String()]
		if dir == "" {
			dir = cfg.Release.Paths[p.String()]
		}
		switch {
		case dir == "" && len(platforms) > 1:
			return nil, fmt.Errorf("--release-dir %s=DIR is missing, and release.paths has no %s: a multi-platform image needs one release per platform (ERTS is native code)", p.String(), p.String())
		case dir == "":
			dir = cfg.Release.Path
		}
		if dir == "" {
			return nil, cfg.Errorf("release.path", "is required: the built release directory to pack")
		}
		if err := releaseDir(cfg, o.ReleaseDirs[p.String()], dir); err != nil {
			return nil, err
		}
		base, err := baseImage(ctx, cfg, p, created)
		if err != nil {
			return nil, err
		}
		if err := checkABI(cfg, dir, base); err != nil {
			return nil, err
		}
		targets = append(targets, image.Target{Dir: dir, Platform: p, Base: base})
	}
	var res *image.Result
	if len(targets) == 1 {
		res, err = image.Build(ctx, targets[0].Dir, append(opts, image.WithBase(targets[0].Base), image.WithPlatform(targets[0].Platform))...)
	} else {
		res, err = image.BuildIndex(ctx, targets, opts...)
	}
	if err != nil {
		return nil, err
	}
	if err := checkRelease(cfg, res); err != nil {
		_ = res.Close()
		return nil, err
	}
	if err := checkTLSApps(cfg, res.Manifests[0].Dir, res.Release); err != nil {
		_ = res.Close()
		return nil, err
	}
	if k := res.Release.Kind; k != "" && k != cfg.ReleaseKind() {
		warn(cmd, fmt.Sprintf("release.kind is %s but %s looks like a %s release", cfg.ReleaseKind(), res.Manifests[0].Dir, k))
	}
	for _, l := range res.Release.EnvShSets {
		warn(cmd, fmt.Sprintf("%s/releases/%s/env.sh:%d sets %s, which the start script reads after env.sh, so it overrides the %s the pods get from relgen; "+
			"remove it from rel/env.sh.eex or keep the pod's value with ${%s:-...}", res.Manifests[0].Dir, res.Release.Version, l.Line, l.Name, l.Name, l.Name))
	}
	if msg := buildTimeDiscovery(cfg, res.Manifests[0].Dir, res.Release.Version); msg != "" {
		warn(cmd, msg)
	}
	return res, nil
}

// unusedReleaseDirs refuses a --release-dir for a platform that is not built:
// ignoring it would pack another release than the one the user named.
func (o *BuildOptions) unusedReleaseDirs(platforms []v1.Platform) error {
	built := make([]string, len(platforms))
	for i, p := range platforms {
		built[i] = p.String()
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(o.ReleaseDirs)) {
		if !slices.Contains(built, k) {
			errs = append(errs, fmt.Errorf("--release-dir %s=%s: %s is not among the platforms built (%s); add it with --platform, or write PLATFORM=DIR for one of those",
				k, o.ReleaseDirs[k], k, strings.Join(built, ", ")))
		}
	}
	return errors.Join(errs...)
}

// releaseDir refuses a release directory that does not exist, naming the
// path and where it came from (--release-dir, else release.path).
func releaseDir(cfg *release.Config, flagDir, dir string) error {
	fi, err := os.Stat(dir)
	if err == nil && fi.IsDir() {
		return nil
	}
	why := "does not exist"
	if err == nil {
		why = "is not a directory"
	}
	hint := "build the release first (relgen build runs release.build unless --skip-build; mix release writes _build/prod/rel/NAME)"
	if flagDir != "" {
		return fmt.Errorf("--release-dir: %s %s; %s", dir, why, hint)
	}
	return cfg.Errorf("release.path", "%s %s (relative paths start at the config file's directory); %s, or point release.path at it", dir, why, hint)
}

// buildTimeDiscovery words what goes wrong when the release would undo
// relgen's discovery config file (discovery.BuildConfig): the nodes look
// for each other where the build said. It returns "" when no environment
// on the file route is affected.
func buildTimeDiscovery(cfg *release.Config, dir, version string) string {
	built, err := discovery.Built(os.DirFS(dir), version)
	if err != nil || !built.RuntimeExs {
		return ""
	}
	var specs []*release.Spec
	for _, env := range cfg.EnvironmentNames() {
		if spec, err := cfg.Resolve(env, discovery.Registry{}); err == nil {
			specs = append(specs, spec)
		}
	}
	var msgs []string
	for _, u := range built.Undone(specs) {
		msgs = append(msgs, fmt.Sprintf("the release has config/runtime.exs and its build-time config sets :%s, "+
			"so after boot those keys go back to their build-time values over relgen's discovery config in environment %s; "+
			"remove :%s from config/*.exs, or set cluster.discovery_config: env and add what "+
			"`relgen discovery --env ENV --format elixir` prints to config/runtime.exs",
			u.App, strings.Join(u.Environments, ", "), u.App))
	}
	return strings.Join(msgs, "\n")
}

// checkRelease makes sure the config and the built release agree on the
// version the manifests will label the pods with.
func checkRelease(cfg *release.Config, res *image.Result) error {
	if v := cfg.Release.Version; v != "" && v != res.Release.Version {
		return cfg.Errorf("release.version", "is %s but the release directory holds version %s", v, res.Release.Version)
	}
	return nil
}

func (o *BuildOptions) platforms(cfg *release.Config) ([]v1.Platform, error) {
	specs := o.Platforms
	if len(specs) == 0 {
		specs = cfg.Image.Platforms
	}
	if len(specs) == 0 {
		specs = []string{"linux/amd64"}
	}
	var out []v1.Platform
	for _, s := range specs {
		p, err := v1.ParsePlatform(s)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf("platform %q: want OS/ARCH[/VARIANT], e.g. linux/arm64", s)
		}
		out = append(out, *p)
	}
	return out, nil
}

// buildOptions turns the config and the environment into image options.
func buildOptions(cmd *cobra.Command, g *GlobalOptions, cfg *release.Config) ([]image.Option, error) {
	if cfg.Image.Base.IsZero() {
		return nil, cfg.Errorf("image.base", "is required: a registry reference such as debian:bookworm-slim, oci-layout:DIR, tarball:FILE, scratch, or {debian: [packages]}")
	}
	created, err := creationTime(g)
	if err != nil {
		return nil, err
	}
	opts := []image.Option{
		image.WithName(cfg.Release.Name),
		image.WithKind(cfg.ReleaseKind()),
		image.WithCreationTime(created),
		image.WithAppLayers(cfg.Image.AppLayers),
		image.WithExclude(cfg.Image.Exclude),
		image.WithSource(cfg.Image.Source),
		image.WithRevision(gitRevision(filepath.Dir(g.ConfigFile))),
	}
	user, err := cfg.User()
	if err != nil {
		return nil, err
	}
	opts = append(opts, image.WithUser(user))
	if n := baseName(cfg.Image.Base); n != "" {
		opts = append(opts, image.WithLabels(map[string]string{image.LabelBaseName: n}))
	}
	if dir, err := os.UserCacheDir(); err == nil {
		opts = append(opts, image.WithCacheDir(filepath.Join(dir, "relgen", "layers")))
	} else {
		warn(cmd, fmt.Sprintf("no user cache directory (%v): every layer is compressed anew", err))
	}
	if stderr := cmd.ErrOrStderr(); isTerminal(stderr) {
		opts = append(opts, image.WithProgress(func(msg string) { fmt.Fprintln(stderr, msg) }))
	}
	return opts, nil
}

// creationTime is SOURCE_DATE_EPOCH, else the Unix epoch.
func creationTime(g *GlobalOptions) (time.Time, error) {
	s, ok := environ(g)["SOURCE_DATE_EPOCH"]
	if !ok || s == "" {
		return time.Unix(0, 0), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want whole seconds since 1970", s)
	}
	return time.Unix(sec, 0), nil
}

// gitRevision is the commit the config's directory is checked out at, for
// the org.opencontainers.image.revision label; empty outside git.
func gitRevision(dir string) string {
	out, err := exec.Command("git", "-C", dir, "rev-parse", "--verify", "-q", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// badTagChars are the characters a release version may have and a tag may
// not ("1.0.0+build.1" is tagged 1.0.0_build.1).
var badTagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// publish writes the outputs asked for and returns the pinned reference.
func (o *BuildOptions) publish(ctx context.Context, cfg *release.Config, res *image.Result, stderr io.Writer) (string, error) {
	tag := badTagChars.ReplaceAllString(res.Release.Version, "_")
	if o.OCILayout != "" {
		if err := image.WriteLayout(ctx, o.OCILayout, res, tag); err != nil {
			return "", err
		}
	}
	if o.Tarball != "" {
		t, err := name.NewTag(cfg.Image.Repository + ":" + tag)
		if err != nil {
			return "", cfg.Errorf("image.repository", "%q with tag %s: %w", cfg.Image.Repository, tag, err)
		}
		if err := image.WriteTarball(ctx, o.Tarball, res, t); err != nil {
			return "", err
		}
	}
	var tags []string
	if o.Push {
		popts := []image.PushOption{image.WithTags(tag)}
		if isTerminal(stderr) {
			popts = append(popts, image.WithPushProgress(pushProgress(stderr)))
		}
		if _, err := image.Push(ctx, res, cfg.Image.Repository, popts...); err != nil {
			return "", o.pushFailed(err)
		}
		tags = []string{tag}
	}
	rec, err := res.Record(cfg.Image.Repository, tags...)
	if err != nil {
		return "", err
	}
	if o.Record != "" {
		if err := image.WriteRecordFile(o.Record, rec); err != nil {
			return "", err
		}
	}
	return rec.Reference, nil
}

// pushFailed says, for a push that failed after the image was written to
// disk, what was written and that --push=false skips the push; no record
// is written, since nothing was published.
func (o *BuildOptions) pushFailed(err error) error {
	var written []string
	if o.OCILayout != "" {
		written = append(written, "an OCI layout in "+o.OCILayout)
	}
	if o.Tarball != "" {
		written = append(written, "a tarball at "+o.Tarball)
	}
	if len(written) == 0 {
		return err
	}
	return fmt.Errorf("%w; the image was written as %s, but not pushed and no record was written (--push=false builds without pushing)",
		err, strings.Join(written, " and "))
}

// pushProgress redraws one status line on the terminal.
func pushProgress(w io.Writer) func(complete, total int64) {
	return func(complete, total int64) {
		fmt.Fprintf(w, "\rpushing %5.1f / %5.1f MB", float64(complete)/1e6, float64(total)/1e6)
		if complete == total {
			fmt.Fprintln(w)
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
