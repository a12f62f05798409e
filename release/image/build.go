package image

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/relgen/relgen/release"
)

// OCI annotation keys relgen sets on the image config (as labels) and on
// the manifest.
const (
	LabelTitle      = "org.opencontainers.image.title"
	LabelVersion    = "org.opencontainers.image.version"
	LabelSource     = "org.opencontainers.image.source"
	LabelRevision   = "org.opencontainers.image.revision"
	LabelBaseDigest = "org.opencontainers.image.base.digest"
)

// Result is what Build and BuildIndex produce. Exactly one of Image and
// Index is set. Close it when done publishing.
type Result struct {
	// Digest is the digest of Image or Index.
	Digest v1.Hash
	Image  v1.Image
	Index  v1.ImageIndex
	// Release is the release that was packed (the first one for an index).
	Release Release
	// Manifests holds one entry per platform image.
	Manifests []Manifest

	tempDir string
}

// Manifest is one platform's image within a Result.
type Manifest struct {
	// Dir is the release directory the image was built from.
	Dir      string
	Platform v1.Platform
	Digest   v1.Hash
	Image    v1.Image
	// Layers lists every layer, base layers first.
	Layers []LayerRecord
}

// Close removes the temporary layer storage used when no cache directory
// was given. The Result's images cannot be read afterwards.
func (r *Result) Close() error {
	if r == nil || r.tempDir == "" {
		return nil
	}
	return os.RemoveAll(r.tempDir)
}

// Target is one platform's release for BuildIndex.
type Target struct {
	Dir      string
	Platform v1.Platform
	// Base overrides WithBase for this platform.
	Base v1.Image
}

// Build packs the release in dir into an image (see the package doc for
// the layering). It reads the release and the layer cache and writes only
// to the cache.
func Build(ctx context.Context, dir string, opts ...Option) (*Result, error) {
	o := makeOptions(opts)
	res, st, err := o.start()
	if err != nil {
		return nil, err
	}
	m, rel, err := o.buildImage(ctx, st, dir, o.base, o.platform)
	if err != nil {
		_ = res.Close()
		return nil, err
	}
	res.Digest, res.Image, res.Release, res.Manifests = m.Digest, m.Image, rel, []Manifest{m}
	return res, nil
}

// BuildIndex builds one image per target (ERTS is native code, so every
// platform needs its own release) and an OCI index over them.
func BuildIndex(ctx context.Context, targets []Target, opts ...Option) (*Result, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("building index: no targets")
	}
	o := makeOptions(opts)
	res, st, err := o.start()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Result, error) { _ = res.Close(); return nil, err }
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for i, t := range targets {
		base := t.Base
		if base == nil {
			base = o.base
		}
		p := t.Platform
		m, rel, err := o.buildImage(ctx, st, t.Dir, base, &p)
		if err != nil {
			return fail(fmt.Errorf("platform %s: %w", p.String(), err))
		}
		if i == 0 {
			res.Release = rel
		} else if rel.Name != res.Release.Name || rel.Version != res.Release.Version {
			return fail(fmt.Errorf("platform %s: release %s %s differs from %s %s in %s",
				p.String(), rel.Name, rel.Version, res.Release.Name, res.Release.Version, targets[0].Dir))
		}
		res.Manifests = append(res.Manifests, m)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: m.Image, Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	res.Index = mutate.Annotations(idx, o.labelsFor(res.Release, nil)).(v1.ImageIndex)
	if res.Digest, err = res.Index.Digest(); err != nil {
		return fail(fmt.Errorf("index digest: %w", err))
	}
	return res, nil
}

// start opens the layer cache, or a temporary one the Result owns.
func (o *options) start() (*Result, *store, error) {
	res := &Result{}
	dir := o.cacheDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "relgen-layers-")
		if err != nil {
			return nil, nil, fmt.Errorf("layer storage: %w", err)
		}
		dir, res.tempDir = tmp, tmp
	}
	st, err := openStore(dir)
	if err != nil {
		_ = res.Close()
		return nil, nil, err
	}
	return res, st, nil
}

// buildImage builds one platform's image from the release in dir: it
// prepares the plan, builds the layers in parallel and puts them onto base.
func (o *options) buildImage(ctx context.Context, st *store, dir string, base v1.Image, want *v1.Platform) (Manifest, Release, error) {
	p, err := o.prepare(st, dir, base, want)
	if err != nil {
		return Manifest{}, Release{}, err
	}
	blobs, err := o.buildLayers(ctx, p)
	if err != nil {
		return Manifest{}, Release{}, err
	}
	img, records, err := o.assemble(p, blobs)
	if err != nil {
		return Manifest{}, Release{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return Manifest{}, Release{}, fmt.Errorf("image digest: %w", err)
	}
	return Manifest{Dir: dir, Platform: p.platform, Digest: d, Image: img, Layers: records}, p.rel, nil
}

// imagePlan is everything known about one platform's image before any
// layer is built: every input is checked and the layers are planned.
type imagePlan struct {
	rel      Release
	cmd      []string
	base     v1.Image
	platform v1.Platform
	specs    []*layerSpec
	builder  *layerBuilder
}

// prepare reads the release in dir, checks it against the options and the
// base image, and plans its layers, without reading any file's content.
func (o *options) prepare(st *store, dir string, base v1.Image, want *v1.Platform) (*imagePlan, error) {
	rel, err := inspect(os.DirFS(dir), dir, o.name)
	if err != nil {
		return nil, err
	}
	p := &imagePlan{rel: rel, base: base}
	if p.cmd, err = command(o.kind, rel); err != nil {
		return nil, err
	}
	uid, gid := int(o.user.UID), int(o.user.GID)
	own := o.appLayers
	if len(own) == 0 {
		own = []string{rel.Name}
	}
	if p.specs, err = plan(dir, rel, slices.Compact(slices.Clone(own)), o.exclude); err != nil {
		return nil, err
	}
	if p.base == nil {
		p.base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	if p.platform, err = platformFor(p.base, want); err != nil {
		return nil, err
	}
	if err := checkERTSArch(dir, rel, p.platform); err != nil {
		return nil, err
	}
	mt, err := p.base.MediaType()
	if err != nil {
		return nil, fmt.Errorf("base image: %w", err)
	}
	p.builder = &layerBuilder{
		dir:       dir,
		params:    tarParams{prefix: strings.Trim(release.Root, "/"), uid: uid, gid: gid, mtime: o.created},
		store:     st,
		mediaType: types.OCILayer,
	}
	if mt == types.DockerManifestSchema2 {
		p.builder.mediaType = types.DockerLayer
	}
	if p.builder.now, err = st.clock(); err != nil {
		return nil, err
	}
	return p, nil
}

// buildLayers builds the planned layers, two at a time, which keeps the
// disk and both compressors busy.
func (o *options) buildLayers(ctx context.Context, p *imagePlan) ([]*blobLayer, error) {
	blobs := make([]*blobLayer, len(p.specs))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for i, spec := range p.specs {
		g.Go(func() error {
			bl, how, err := p.builder.build(gctx, spec)
			if err != nil {
				return err
			}
			blobs[i] = bl
			if o.progress != nil {
				mu.Lock()
				defer mu.Unlock()
				o.progress(fmt.Sprintf("layer %-14s %5d files %10s  %s  %s",
					spec.name(), spec.files, humanSize(bl.size), bl.digest.Hex[:12], how))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return blobs, nil
}

// assemble puts the layers onto base and writes the image config.
func (o *options) assemble(plan *imagePlan, blobs []*blobLayer) (v1.Image, []LayerRecord, error) {
	base, rel, p := plan.base, plan.rel, plan.platform
	baseLayers, err := base.Layers()
	if err != nil {
		return nil, nil, fmt.Errorf("base image: %w", err)
	}
	var records []LayerRecord
	for _, l := range baseLayers {
		r, err := recordLayer(l, KindBase, "", 0)
		if err != nil {
			return nil, nil, fmt.Errorf("base image: %w", err)
		}
		records = append(records, r)
	}
	adds := make([]mutate.Addendum, len(plan.specs))
	for i, s := range plan.specs {
		adds[i] = mutate.Addendum{Layer: blobs[i], History: v1.History{
			Created:   v1.Time{Time: o.created},
			CreatedBy: "relgen build: " + s.name(),
		}}
		r, err := recordLayer(blobs[i], s.kind, s.app, s.files)
		if err != nil {
			return nil, nil, fmt.Errorf("layer %s: %w", s.name(), err)
		}
		records = append(records, r)
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, nil, fmt.Errorf("adding layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, fmt.Errorf("image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: o.created}
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	c := &cf.Config
	c.Entrypoint = []string{path.Join(release.Root, "bin", rel.Name)}
	c.Cmd = plan.cmd
	c.WorkingDir = release.Root
	c.User = o.user.String()
	c.Env = setEnv(c.Env, "LANG", "C.UTF-8")
	var baseDigest *v1.Hash
	if len(baseLayers) > 0 {
		if d, err := base.Digest(); err == nil {
			baseDigest = &d
		}
	}
	labels := o.labelsFor(rel, baseDigest)
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	for k, v := range labels {
		c.Labels[k] = v
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, nil, fmt.Errorf("image config: %w", err)
	}
	if mt, _ := img.MediaType(); mt == types.OCIManifestSchema1 {
		img = mutate.Annotations(img, labels).(v1.Image)
	}
	return img, records, nil
}

// labels are the OCI labels and annotations for rel.
func (o *options) labelsFor(rel Release, baseDigest *v1.Hash) map[string]string {
	l := map[string]string{LabelTitle: rel.Name, LabelVersion: rel.Version}
	if o.source != "" {
		l[LabelSource] = o.source
	}
	if o.revision != "" {
		l[LabelRevision] = o.revision
	}
	if baseDigest != nil {
		l[LabelBaseDigest] = baseDigest.String()
	}
	for k, v := range o.labels {
		l[k] = v
	}
	return l
}

// command is the image's cmd for the release kind: the option, else the
// kind the release looks like, else relgen's default kind.
func command(kind string, rel Release) ([]string, error) {
	switch {
	case kind != "":
	case rel.Kind != "":
		kind = rel.Kind
	default:
		kind = release.DefaultKind
	}
	switch kind {
	case release.KindDistillery:
		return []string{"foreground"}, nil // start would daemonise and exit
	case release.KindMix:
		return []string{"start"}, nil
	}
	return nil, fmt.Errorf("release kind %q: want %s or %s", kind, release.KindDistillery, release.KindMix)
}

// platformFor is the wanted platform, checked against the base image's, or
// the base's own, or linux/amd64.
func platformFor(base v1.Image, want *v1.Platform) (v1.Platform, error) {
	cf, err := base.ConfigFile()
	if err != nil {
		return v1.Platform{}, fmt.Errorf("base image: %w", err)
	}
	have := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant, OSVersion: cf.OSVersion}
	switch {
	case want == nil && have.OS != "" && have.Architecture != "":
		return have, nil
	case want == nil:
		return v1.Platform{OS: "linux", Architecture: "amd64"}, nil
	case have.OS != "" && have.Architecture != "" &&
		(have.OS != want.OS || have.Architecture != want.Architecture || (want.Variant != "" && have.Variant != want.Variant)):
		return v1.Platform{}, fmt.Errorf("base image is %s, want %s", have.String(), want.String())
	}
	return *want, nil
}

func setEnv(env []string, key, value string) []string {
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
	return append(out, key+"="+value)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
