package scaffold

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/templates"
)

// DefaultVersion is written when mix.exs names no version.
const DefaultVersion = "0.1.0"

// Project is what relgen init knows about the project it writes
// relgen.yaml for.
type Project struct {
	// Name is the release name: the first release of a literal releases:
	// list, the Distillery release, the app, or the directory name.
	Name    string
	Version string
	// Kind is release.KindMix or release.KindDistillery.
	Kind string
	// Discovery is the strategy matching the clustering library among
	// the deps, discovery.None without one.
	Discovery string
	// DiscoveryConfig is release.DiscoveryConfigEnv when the discovery
	// settings must reach the VM through config/runtime.exs, else
	// release.DiscoveryConfigFile.
	DiscoveryConfig string
	// AppLayers are an umbrella's own apps; empty for a single app.
	AppLayers []string
	// Phoenix is set when the project depends on Phoenix; a mix release
	// of it serves only when PHX_SERVER is set.
	Phoenix bool
	// Found says where each value came from, one line each, for the
	// generated file's header.
	Found []string
}

// discoveryDeps maps a dependency to its strategy, in order of
// preference: a project that added libcluster or peerage uses it, while
// dns_cluster comes with every new Phoenix app.
// ErrNoMixProject is returned by Detect for a directory without mix.exs:
// the release name would only be a guess from the directory's name.
var ErrNoMixProject = errors.New("no mix.exs")

var discoveryDeps = []struct{ dep, strategy string }{
	{"libcluster", discovery.LibclusterDNS},
	{"peerage", discovery.Peerage},
	{"dns_cluster", discovery.DNSCluster},
}

// Detect reads the project in fsys, the directory relgen.yaml goes into:
// mix.exs, an umbrella's apps/*/mix.exs, Distillery's rel/config.exs and
// config/*.exs.
// dirName names the project when mix.exs names no app. Without a mix.exs
// there is nothing to read the release from: ErrNoMixProject.
func Detect(fsys fs.FS, dirName string) (Project, error) {
	p := Project{Kind: release.KindMix, Discovery: discovery.None, DiscoveryConfig: release.DiscoveryConfigFile, Version: DefaultVersion}
	src, err := readOptional(fsys, "mix.exs")
	if err != nil {
		return p, err
	}
	if src == "" {
		return p, ErrNoMixProject
	}
	m := ParseMix(src)
	deps := m.Deps
	if m.Umbrella {
		apps, err := fs.Glob(fsys, "apps/*/mix.exs")
		if err != nil {
			return p, err
		}
		for _, f := range apps {
			app, err := readOptional(fsys, f)
			if err != nil {
				return p, err
			}
			am := ParseMix(app)
			if am.App != "" {
				p.AppLayers = append(p.AppLayers, am.App)
			}
			deps = append(deps, am.Deps...)
		}
		slices.Sort(p.AppLayers)
	}

	rel, err := readOptional(fsys, "rel/config.exs")
	if err != nil {
		return p, err
	}
	from := "app:"
	switch {
	case rel != "":
		p.Kind = release.KindDistillery
		p.Name = m.App
		if g := distilleryRelease.FindStringSubmatch(stripComments(rel)); g != nil {
			p.Name, from = g[1], "rel/config.exs"
		}
		p.Found = append(p.Found, "rel/config.exs found: a Distillery release.")
	case len(m.Releases) > 0:
		p.Name, from = m.Releases[0], "releases:"
	default:
		p.Name = m.App
	}
	if p.Name == "" {
		p.Name = NameFromDir(dirName)
		p.Found = append(p.Found, "mix.exs names no app or release: release name from the directory.")
	} else {
		p.Found = append(p.Found, fmt.Sprintf("Release name %s from %s.", p.Name, from))
	}
	if plainVersion.MatchString(m.Version) {
		p.Version = m.Version
		p.Found = append(p.Found, fmt.Sprintf("Version %s from mix.exs.", p.Version))
	} else {
		p.Found = append(p.Found, fmt.Sprintf("No plain version in mix.exs: version %s.", DefaultVersion))
	}
	if p.Kind == release.KindMix && !m.HasReleases {
		p.Found = append(p.Found, "mix.exs configures no releases: `mix release` builds one named after the app.")
	}
	for _, d := range discoveryDeps {
		if slices.Contains(deps, d.dep) {
			p.Discovery = d.strategy
			p.Found = append(p.Found, fmt.Sprintf("mix.exs depends on :%s: discovery %s.", d.dep, d.strategy))
			break
		}
	}
	p.Phoenix = slices.Contains(deps, "phoenix")
	if err := detectDiscoveryConfig(fsys, &p); err != nil {
		return p, err
	}
	return p, nil
}

// prodConfigFiles are the config/*.exs files a prod release is built with.
var prodConfigFiles = []string{"config/config.exs", "config/prod.exs"}

// detectDiscoveryConfig picks the env route when the release would undo
// the file route: it has a config/runtime.exs and the build-time config
// also configures the discovery library (discovery.BuildConfig).
func detectDiscoveryConfig(fsys fs.FS, p *Project) error {
	runtime, err := readOptional(fsys, "config/runtime.exs")
	if err != nil || runtime == "" {
		return err
	}
	for _, f := range prodConfigFiles {
		src, err := readOptional(fsys, f)
		if err != nil {
			return err
		}
		b := discovery.BuildConfig{RuntimeExs: true, Exs: []string{stripComments(src)}}
		if app := b.Undoes(p.Discovery); app != "" {
			p.DiscoveryConfig = release.DiscoveryConfigEnv
			p.Found = append(p.Found, fmt.Sprintf("config/runtime.exs exists and %s configures :%s: discovery_config env.", f, app))
			return nil
		}
	}
	return nil
}

// readOptional reads name from fsys, returning "" when it does not exist.
func readOptional(fsys fs.FS, name string) (string, error) {
	b, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	return string(b), nil
}

// NameFromDir makes a release name of a directory name: lower case,
// letters, digits and _, starting with a letter ("My-App" → "my_app").
func NameFromDir(dir string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(path.Base(strings.ReplaceAll(dir, `\`, "/"))) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('_')
		}
	}
	name := strings.Trim(b.String(), "_")
	for strings.Contains(name, "__") {
		name = strings.ReplaceAll(name, "__", "_")
	}
	if name == "" {
		return "my_app"
	}
	return name
}

// configData is what the template sees.
type configData struct {
	Project
	ObjectName string
	Path       string
	Build      []string
	// Strategies lists every discovery strategy, from the registry.
	Strategies string
}

// strategyList is "a, b or c" of the registered discovery strategies.
func strategyList() string {
	names := discovery.Names()
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Render writes the commented relgen.yaml for p.
func Render(p Project) ([]byte, error) {
	d := configData{
		Project:    p,
		ObjectName: release.ObjectName(p.Name),
		Path:       "_build/prod/rel/" + p.Name,
		Build:      []string{"mix", "release", "--overwrite"},
		Strategies: strategyList(),
	}
	if p.Kind == release.KindDistillery {
		d.Build = []string{"mix", "distillery.release", "--env=prod"}
	}
	name, text := templates.InitConfig()
	out, err := templates.Render(name, text, d)
	if err != nil {
		return nil, fmt.Errorf("rendering relgen.yaml: %w", err)
	}
	return []byte(out), nil
}
