package discovery

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/relgen/relgen/release"
)

// BuildConfig is what a release is built with, as far as it decides
// whether relgen's discovery config file (cluster.discovery_config: file)
// survives boot. A release with config/runtime.exs boots through the
// runtime.exs config provider, which puts every key the build-time config
// sets back to its build-time value after a -config file set it; the
// nodes then look for each other where the build said (docs/runtime.md,
// "Which route for the discovery config"). The fields are
// read from the project sources (relgen init) or from the built release
// (relgen build).
type BuildConfig struct {
	// RuntimeExs says the release has config/runtime.exs (as built:
	// releases/<vsn>/runtime.exs).
	RuntimeExs bool
	// Exs are the config/*.exs sources a prod release is built with,
	// comments removed.
	Exs []string
	// SysConfig is the built releases/<vsn>/sys.config.
	SysConfig string
}

// Built reads the BuildConfig of the built release in fsys (the release
// directory) at version. A release without runtime.exs or sys.config
// gives a BuildConfig that undoes nothing.
func Built(fsys fs.FS, version string) (BuildConfig, error) {
	vsn := path.Join("releases", version)
	var b BuildConfig
	if _, err := fs.Stat(fsys, path.Join(vsn, "runtime.exs")); err != nil {
		return b, ignoreMissing(err)
	}
	sys, err := fs.ReadFile(fsys, path.Join(vsn, "sys.config"))
	if err != nil {
		return b, ignoreMissing(err)
	}
	b.RuntimeExs, b.SysConfig = true, string(sys)
	return b, nil
}

func ignoreMissing(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("reading the built release: %w", err)
}

// Configures reports whether the build-time config sets keys of the OTP
// application app.
func (b BuildConfig) Configures(app string) bool {
	exs := regexp.MustCompile(`(?m)^\s*config\s+:` + regexp.QuoteMeta(app) + `\b`)
	if slices.ContainsFunc(b.Exs, exs.MatchString) {
		return true
	}
	return regexp.MustCompile(`[\[,]\s*\{\s*` + regexp.QuoteMeta(app) + `\s*,`).MatchString(b.SysConfig)
}

// Undoes returns the application whose config file the release would put
// back to build-time values if the strategy named name used the file
// route, or "" when the file route is safe.
func (b BuildConfig) Undoes(name string) string {
	s, err := For(name)
	if !b.RuntimeExs || err != nil {
		return ""
	}
	if app := fileApp(s); app != "" && b.Configures(app) {
		return app
	}
	return ""
}

// Undone is one application whose discovery config file a release undoes,
// and the environments on the file route that it affects.
type Undone struct {
	App          string
	Environments []string
}

// Undone lists, by application, the environments of specs on the file
// route whose discovery config the release would undo.
func (b BuildConfig) Undone(specs []*release.Spec) []Undone {
	var out []Undone
	for _, s := range specs {
		if s.DiscoveryConfig != release.DiscoveryConfigFile {
			continue
		}
		app := b.Undoes(s.Discovery)
		if app == "" {
			continue
		}
		i := slices.IndexFunc(out, func(u Undone) bool { return u.App == app })
		if i < 0 {
			out = append(out, Undone{App: app})
			i = len(out) - 1
		}
		out[i].Environments = append(out[i].Environments, s.Environment)
	}
	slices.SortFunc(out, func(a, b Undone) int { return strings.Compare(a.App, b.App) })
	return out
}

// fileApp is the OTP application the strategy's config file configures,
// "" when it ships none. It is read from a plan for a sample topology:
// the application does not depend on the environment.
func fileApp(s Strategy) string {
	t := release.Topology{
		Basename: "app", Namespace: "default", HeadlessService: "app-headless", Service: "app",
		Domain: release.DefaultDomain, Interval: release.DefaultInterval, PodIPEnv: release.DefaultPodIPEnv,
	}
	if s.NamedByHostname() {
		t.PodNameEnv = release.DefaultPodNameEnv
	}
	p, err := s.Plan(t)
	if err != nil || p.Config == "" {
		return ""
	}
	return p.App
}
