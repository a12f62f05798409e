package scaffold

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want Mix
	}{
		{name: "empty"},
		{name: "literal keys", src: `def project do [app: :my_app, version: "1.2.3", deps: deps()] end`,
			want: Mix{App: "my_app", Version: "1.2.3"}},
		{name: "module attributes", src: "@app :my_app\n@version \"0.9.0\"\ndef project do\n  [app: @app, version: @version]\nend\n",
			want: Mix{App: "my_app", Version: "0.9.0"}},
		{name: "unknown attribute", src: `def project, do: [app: :a, version: @nope]`, want: Mix{App: "a"}},
		{name: "releases list", src: `def project do [app: :a, releases: [first: [steps: [:assemble]], second: [], "quoted:": x]] end`,
			want: Mix{App: "a", HasReleases: true, Releases: []string{"first", "second"}}},
		{name: "releases function", src: `def project do [app: :a, releases: releases()] end`,
			want: Mix{App: "a", HasReleases: true}},
		{name: "umbrella", src: `def project do [apps_path: "apps", version: "2.0.0"] end`,
			want: Mix{Umbrella: true, Version: "2.0.0"}},
		{name: "comments", src: "def project do\n  # app: :commented, version: \"9.9.9\"\n  [app: :real, # trailing comment\n   version: \"1.0.0\"]\nend\n",
			want: Mix{App: "real", Version: "1.0.0"}},
		{name: "hash in strings", src: "def project do\n  [description: \"the #1 app # not a comment\", app: :a, version: \"#{x}\"]\nend\n",
			want: Mix{App: "a", Version: "#{x}"}},
		{name: "keys of other functions", src: "def project do\n  [app: :a]\nend\n\ndef application do\n  [version: \"9\", releases: []]\nend\n",
			want: Mix{App: "a"}},
		{name: "deps", src: "defp deps do\n  [{:phoenix, \"~> 1.7\"}, { :libcluster , \"~> 3.3\"},\n   # {:peerage, \"~> 1.0\"},\n   {:phoenix, override: true}]\nend\n",
			want: Mix{Deps: []string{"phoenix", "libcluster"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseMix(tc.src)); diff != "" {
				t.Errorf("ParseMix (-want +got):\n%s", diff)
			}
		})
	}
}

var atom = regexp.MustCompile(`^[a-z_][A-Za-z0-9_]*$`)

// FuzzParseMix: any input parses without panicking, and names are atoms.
func FuzzParseMix(f *testing.F) {
	files, err := filepath.Glob("testdata/*/mix.exs")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(`def project do [releases: ["x`)
	f.Add(`"unterminated # string`)
	f.Add("?#?\"")
	f.Fuzz(func(t *testing.T, src string) {
		m := ParseMix(src)
		if m.App != "" && !atom.MatchString(m.App) {
			t.Errorf("App = %q, not an atom", m.App)
		}
		for _, r := range m.Releases {
			if !atom.MatchString(r) {
				t.Errorf("release %q is not an atom", r)
			}
		}
	})
}
