package image

import (
	"maps"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/relgen/relgen/release"
)

// DefaultUser is the numeric user the image runs as when WithUser is not
// given: the conventional "nonroot" uid of distroless images.
const DefaultUser = release.DefaultUser

// Option configures Build.
type Option func(*options)

type options struct {
	base      v1.Image
	created   time.Time
	user      release.User
	appLayers []string
	exclude   []string
	kind      string
	name      string
	labels    map[string]string
	platform  *v1.Platform
	cacheDir  string
	source    string
	revision  string
	progress  func(string)
}

func makeOptions(opts []Option) options {
	o := options{user: release.DefaultImageUser, created: time.Unix(0, 0).UTC()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithBase sets the base image the release is added onto. Without it the
// image starts from scratch (then the base must provide nothing: the release
// has to bundle ERTS and the boot scripts still need a shell, so scratch is
// mostly useful for tests).
func WithBase(img v1.Image) Option { return func(o *options) { o.base = img } }

// WithCreationTime sets every timestamp in the image: file times in the
// layers, the config's created time and history. The CLI passes
// SOURCE_DATE_EPOCH; the default is the Unix epoch.
func WithCreationTime(t time.Time) Option { return func(o *options) { o.created = t.UTC() } }

// WithUser sets the user the image runs as and that owns the release files,
// parsed by release.ParseUser (numeric, so that Kubernetes can verify
// runAsNonRoot). The default is DefaultUser.
func WithUser(user release.User) Option { return func(o *options) { o.user = user } }

// WithAppLayers lists the project's own OTP applications, each packed in its
// own layer (umbrella projects list every app). The default is the release
// name.
func WithAppLayers(apps []string) Option {
	return func(o *options) { o.appLayers = append([]string(nil), apps...) }
}

// WithExclude adds glob patterns (path.Match syntax) of files never packed.
// A pattern without a slash matches a base name at any depth ("*.md"); one
// with a slash matches the path from the release root ("lib/*/src"). A
// matching directory is left out with everything below it.
func WithExclude(patterns []string) Option {
	return func(o *options) { o.exclude = append(o.exclude, patterns...) }
}

// WithKind says how the release boots: "distillery" (cmd foreground) or
// "mix" (cmd start). Without it the kind is the one Inspect detects, else
// release.DefaultKind.
func WithKind(kind string) Option { return func(o *options) { o.kind = kind } }

// WithName sets the release name; bin/<name> must exist. Without it the
// name is found by Inspect.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithLabels adds labels to the image config (and annotations to the
// manifest). They override the labels relgen sets itself.
func WithLabels(labels map[string]string) Option {
	return func(o *options) {
		if o.labels == nil {
			o.labels = map[string]string{}
		}
		maps.Copy(o.labels, labels)
	}
}

// WithPlatform sets the image platform. The default is the base image's
// platform, or linux/amd64 on scratch.
func WithPlatform(p v1.Platform) Option { return func(o *options) { o.platform = &p } }

// WithCacheDir sets the layer cache directory. Without it layers are kept in
// a temporary directory that Result.Close removes.
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithSource records the source repository URL in the
// org.opencontainers.image.source label.
func WithSource(url string) Option { return func(o *options) { o.source = url } }

// WithRevision records the source revision (a commit) in the
// org.opencontainers.image.revision label.
func WithRevision(rev string) Option { return func(o *options) { o.revision = rev } }

// WithProgress receives one human-readable line per finished layer.
func WithProgress(f func(msg string)) Option { return func(o *options) { o.progress = f } }
