package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/relgen/relgen/release"
)

// ErrNoRelease is wrapped by the error Inspect returns when a directory is
// not a built release, so callers can suggest building it first.
var ErrNoRelease = errors.New("not a release directory")

// Release describes a built release directory, as found by Inspect.
type Release struct {
	// Name is the release name: the boot script is bin/<Name>.
	Name string
	// Version is the release version from releases/start_erl.data.
	Version string
	// ERTSVersion is the ERTS version from releases/start_erl.data.
	ERTSVersion string
	// ERTSDir is the bundled runtime ("erts-13.1.5"), empty when the release
	// relies on an Erlang installed in the base image.
	ERTSDir string
	// Kind is the release kind the directory looks like: "mix" when
	// releases/<vsn>/env.sh exists, "distillery" when releases/<vsn>/libexec/
	// does, empty when neither.
	Kind string
	// Apps are the OTP applications under lib/, sorted by name.
	Apps []App
	// EnvShSets are the lines of a mix release's releases/<vsn>/env.sh
	// that set a variable relgen passes in the pod env. The start script
	// sources env.sh before it reads those variables, so such a line
	// wins over the pod's value unless it keeps it (${VAR:-...}).
	EnvShSets []EnvShLine
}

// EnvShLine is one assignment in env.sh.
type EnvShLine struct {
	Name string
	Line int
}

// App is one OTP application directory under lib/.
type App struct {
	Name    string
	Version string
	// Dir is the directory relative to the release root, e.g. "lib/myapp-0.1.0".
	Dir string
}

// Inspect recognises the release in dir: releases/start_erl.data
// ("ERTS_VSN REL_VSN"), releases/<vsn>/, bin/<name>, lib/<app>-<vsn>/ and an
// optional erts-<vsn>/. When dir is not a release the error names dir and
// everything that is missing, and wraps ErrNoRelease.
func Inspect(dir string) (Release, error) {
	return inspect(os.DirFS(dir), dir, "")
}

// inspect does the work of Inspect on fsys; name, when set, is the release
// name the caller expects (bin/<name> must then exist).
func inspect(fsys fs.FS, dir, name string) (Release, error) {
	if fi, err := fs.Stat(fsys, "."); err != nil {
		return Release{}, fmt.Errorf("%w: %s: %w", ErrNoRelease, dir, err)
	} else if !fi.IsDir() {
		return Release{}, fmt.Errorf("%w: %s is not a directory", ErrNoRelease, dir)
	}

	var rel Release
	var missing []string
	data, err := fs.ReadFile(fsys, "releases/start_erl.data")
	switch {
	case err != nil:
		missing = append(missing, "releases/start_erl.data")
	default:
		f := strings.Fields(string(data))
		if len(f) != 2 {
			return Release{}, fmt.Errorf("%w: %s: releases/start_erl.data: want \"ERTS_VSN REL_VSN\", got %q",
				ErrNoRelease, dir, strings.TrimSpace(string(data)))
		}
		rel.ERTSVersion, rel.Version = f[0], f[1]
		if fi, err := fs.Stat(fsys, path.Join("releases", rel.Version)); err != nil || !fi.IsDir() {
			missing = append(missing, "releases/"+rel.Version+"/")
		}
	}

	apps, err := fs.ReadDir(fsys, "lib")
	if err != nil {
		missing = append(missing, "lib/")
	}
	for _, e := range apps {
		i := strings.LastIndexByte(e.Name(), '-')
		if !e.IsDir() || i <= 0 {
			continue
		}
		rel.Apps = append(rel.Apps, App{Name: e.Name()[:i], Version: e.Name()[i+1:], Dir: "lib/" + e.Name()})
	}
	if err == nil && len(rel.Apps) == 0 {
		missing = append(missing, "lib/<app>-<vsn>/")
	}
	sort.SliceStable(rel.Apps, func(i, j int) bool { return rel.Apps[i].Name < rel.Apps[j].Name })

	rel.Name, err = releaseName(fsys, rel.Version, name)
	if err != nil {
		missing = append(missing, err.Error())
	}
	if len(missing) > 0 {
		return Release{}, fmt.Errorf("%w: %s: missing %s", ErrNoRelease, dir, strings.Join(missing, ", "))
	}

	switch {
	case exists(fsys, path.Join("releases", rel.Version, "env.sh")):
		rel.Kind = release.KindMix
		data, _ := fs.ReadFile(fsys, path.Join("releases", rel.Version, "env.sh"))
		rel.EnvShSets = envShSets(string(data))
	case exists(fsys, path.Join("releases", rel.Version, "libexec")):
		rel.Kind = release.KindDistillery
	}
	if rel.ERTSVersion != "" {
		if fi, err := fs.Stat(fsys, "erts-"+rel.ERTSVersion); err == nil && fi.IsDir() {
			rel.ERTSDir = "erts-" + rel.ERTSVersion
		}
	}
	return rel, nil
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// releaseName finds the boot script bin/<name>. With want set, only that
// name is accepted; otherwise the script that has a releases/<vsn>/<name>.rel
// wins, and a lone script is taken as is. The error text completes
// "missing ...".
func releaseName(fsys fs.FS, version, want string) (string, error) {
	if want != "" {
		if fi, err := fs.Stat(fsys, "bin/"+want); err != nil || fi.IsDir() {
			return "", fmt.Errorf("bin/%s", want)
		}
		return want, nil
	}
	entries, err := fs.ReadDir(fsys, "bin")
	if err != nil {
		return "", errors.New("bin/<name>")
	}
	var scripts []string
	for _, e := range entries {
		switch path.Ext(e.Name()) {
		case ".bat", ".ps1", ".sh":
			continue
		}
		if !e.IsDir() {
			scripts = append(scripts, e.Name())
		}
	}
	for _, s := range scripts {
		if _, err := fs.Stat(fsys, path.Join("releases", version, s+".rel")); err == nil {
			return s, nil
		}
	}
	switch len(scripts) {
	case 0:
		return "", errors.New("bin/<name>")
	case 1:
		return scripts[0], nil
	}
	return "", fmt.Errorf("a single boot script (bin/ holds %s; set the release name)", strings.Join(scripts, ", "))
}

// envAssignment is "[export ]NAME=VALUE" at the start of a shell line.
var envAssignment = regexp.MustCompile(`^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$`)

// envShSets lists the lines of env.sh that set a variable of the pod env
// of a mix release (release.BootEnv, the cookie) without keeping a value
// already set (${NAME:-...} or ${NAME-...}).
func envShSets(text string) []EnvShLine {
	pod := []string{release.CookieEnv}
	for _, e := range release.BootEnv(release.KindMix, release.Topology{}, release.BootPaths{}) {
		pod = append(pod, e.Name)
	}
	var out []EnvShLine
	for i, line := range strings.Split(text, "\n") {
		m := envAssignment.FindStringSubmatch(line)
		if m == nil || !slices.Contains(pod, m[1]) {
			continue
		}
		keeps := strings.TrimLeft(m[2], `"'`)
		if strings.HasPrefix(keeps, "${"+m[1]+":-") || strings.HasPrefix(keeps, "${"+m[1]+"-") {
			continue
		}
		out = append(out, EnvShLine{Name: m[1], Line: i + 1})
	}
	return out
}
