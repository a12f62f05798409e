package sbom

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Component types.
const (
	TypeERTS        = "erts"        // the Erlang runtime system
	TypeOTP         = "otp"         // an application shipped with Erlang/OTP
	TypeElixir      = "elixir"      // an application shipped with Elixir
	TypeHex         = "hex"         // a Hex package
	TypeApplication = "application" // any other OTP application: the project's own, path or git deps
	TypeDeb         = "deb"         // a Debian package of the base image
)

// Component is one entry of the bill of materials.
type Component struct {
	Name    string
	Version string
	Type    string
	// PURL is the package URL, when the component has one.
	PURL        string
	Description string
}

// Release is a built release and what it holds.
type Release struct {
	Name, Version, ERTSVersion string
	Components                 []Component
}

// elixirApps are the applications Elixir itself ships.
var elixirApps = []string{"eex", "elixir", "ex_unit", "iex", "logger", "mix"}

// relApp matches an application of a .rel file: {kernel,"8.5.3"} or
// {kernel,"8.5.3",permanent}; erts is one too and is taken apart.
var relApp = regexp.MustCompile(`\{\s*'?([A-Za-z][A-Za-z0-9_@]*)'?\s*,\s*"([^"]*)"`)

// relName matches the release name and version at the head of a .rel
// file: {release,{"hello","0.1.0"}.
var relName = regexp.MustCompile(`\{\s*release\s*,\s*\{\s*"([^"]*)"\s*,\s*"([^"]*)"\s*\}`)

// lockHex matches a Hex entry of mix.lock: "app": {:hex, :package, "1.2.3", ...
var lockHex = regexp.MustCompile(`"([A-Za-z0-9_]+)"\s*:\s*\{\s*:hex\s*,\s*:"?([A-Za-z0-9_]+)"?\s*,\s*"([^"]+)"`)

// appDescription matches the description of an .app file.
var appDescription = regexp.MustCompile(`\{\s*description\s*,\s*"((?:[^"\\]|\\.)*)"\s*\}`)

// ReadRelease reads the release in fsys. mixLock is the project's mix.lock
// (nil when there is none): applications it lists as Hex packages get a
// pkg:hex package URL.
func ReadRelease(fsys fs.FS, mixLock []byte) (Release, error) {
	data, err := fs.ReadFile(fsys, "releases/start_erl.data")
	if err != nil {
		return Release{}, fmt.Errorf("reading the release: %w", err)
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return Release{}, fmt.Errorf("releases/start_erl.data: want \"ERTS_VSN REL_VSN\", got %q", strings.TrimSpace(string(data)))
	}
	r := Release{ERTSVersion: f[0], Version: f[1]}
	rels, err := fs.Glob(fsys, path.Join("releases", r.Version, "*.rel"))
	if err != nil {
		return Release{}, err
	}
	if len(rels) != 1 {
		return Release{}, fmt.Errorf("releases/%s: want one .rel file, found %d", r.Version, len(rels))
	}
	rel, err := fs.ReadFile(fsys, rels[0])
	if err != nil {
		return Release{}, err
	}
	m := relName.FindSubmatch(rel)
	if m == nil {
		return Release{}, fmt.Errorf("%s: no {release, {Name, Vsn}, ...} term", rels[0])
	}
	r.Name = string(m[1])
	hex := map[string][2]string{} // app -> package, version
	for _, m := range lockHex.FindAllSubmatch(mixLock, -1) {
		hex[string(m[1])] = [2]string{string(m[2]), string(m[3])}
	}
	r.Components = append(r.Components, Component{Name: "erts", Version: r.ERTSVersion, Type: TypeERTS,
		Description: "Erlang runtime system"})
	for _, m := range relApp.FindAllSubmatch(rel, -1) {
		name, vsn := string(m[1]), string(m[2])
		if name == "erts" {
			continue
		}
		c := Component{Name: name, Version: vsn}
		if app, err := fs.ReadFile(fsys, path.Join("lib", name+"-"+vsn, "ebin", name+".app")); err == nil {
			if d := appDescription.FindSubmatch(app); d != nil {
				c.Description = strings.ReplaceAll(string(d[1]), `\"`, `"`)
			}
		}
		switch h, ok := hex[name]; {
		case ok:
			c.Type, c.PURL = TypeHex, "pkg:hex/"+strings.ToLower(h[0])+"@"+escape(vsn)
			if h[1] != vsn {
				return Release{}, fmt.Errorf("mix.lock has %s %s but the release has %s: rebuild the release or pass the lock it was built with", name, h[1], vsn)
			}
		case slices.Contains(elixirApps, name):
			c.Type = TypeElixir
		case slices.Contains(otpApps, name):
			c.Type = TypeOTP
		default:
			c.Type = TypeApplication
		}
		r.Components = append(r.Components, c)
	}
	return r, nil
}

// otpApps are Erlang/OTP's applications (OTP 24 to 27).
var otpApps = []string{
	"asn1", "common_test", "compiler", "crypto", "debugger", "dialyzer", "diameter", "edoc", "eldap",
	"erl_docgen", "erl_interface", "et", "eunit", "ftp", "inets", "jinterface", "kernel", "megaco", "mnesia",
	"observer", "odbc", "os_mon", "parsetools", "public_key", "reltool", "runtime_tools", "sasl", "snmp", "ssh",
	"ssl", "stdlib", "syntax_tools", "tftp", "tools", "wx", "xmerl",
}

// escape percent-encodes what a package URL version may not hold as is.
func escape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte(".-_~+:", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
