package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relgen/relgen/manifests"
)

// mixExs is a mix.exs for app with the given deps.
func mixExs(app string, deps ...string) string {
	var d []string
	for _, dep := range deps {
		d = append(d, "{:"+dep+`, "~> 1.0"}`)
	}
	return `defmodule X.MixProject do
  use Mix.Project

  def project do
    [app: :` + app + `, version: "1.2.3", deps: deps(), releases: [` + app + `: []]]
  end

  defp deps, do: [` + strings.Join(d, ", ") + `]
end
`
}

// TestInitGeneratesWorkingConfig runs relgen init on sample projects and
// then relgen manifests on the result, for staging and prod.
func TestInitGeneratesWorkingConfig(t *testing.T) {
	for _, tc := range []struct {
		name, mix, distillery string
		wantKind, wantDisc    string
	}{
		{name: "no deps", mix: mixExs("my_app"), wantKind: "mix", wantDisc: "none"},
		{name: "phoenix dns_cluster", mix: mixExs("shop", "phoenix", "dns_cluster"), wantKind: "mix", wantDisc: "dns_cluster"},
		{name: "libcluster", mix: mixExs("my_app", "libcluster", "dns_cluster"), wantKind: "mix", wantDisc: "libcluster-dns"},
		{name: "distillery peerage", mix: mixExs("myapp", "distillery", "peerage"), distillery: "release :myapp do\nend\n",
			wantKind: "distillery", wantDisc: "peerage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my-project")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, dir, "mix.exs", tc.mix)
			write(t, dir, "rel/config.exs", tc.distillery)
			cfg := filepath.Join(dir, "relgen.yaml")

			code, stdout, stderr := run(t, "init", "-f", cfg)
			if code != 0 || stdout != "" {
				t.Fatalf("relgen init: exit %d, stdout %q\n%s", code, stdout, stderr)
			}
			data, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"kind: " + tc.wantKind + "\n", "discovery: " + tc.wantDisc + "\n", "CHANGE-ME", "base: debian:bookworm-slim"} {
				if !strings.Contains(string(data), want) {
					t.Errorf("relgen.yaml lacks %q:\n%s", want, data)
				}
			}

			code, stdout, stderr = run(t, "manifests", "-f", cfg, "--env", "staging")
			if code != 0 {
				t.Fatalf("relgen manifests --env staging: exit %d\n%s\nrelgen.yaml:\n%s", code, stderr, data)
			}
			if _, err := manifests.Decode([]byte(stdout)); err != nil {
				t.Errorf("staging bundle: %v", err)
			}
			// prod is protected: it wants the image pinned by digest.
			code, _, stderr = run(t, "manifests", "-f", cfg, "--env", "prod")
			if code != 1 || !strings.Contains(stderr, "environments.prod.protected: image") {
				t.Errorf("unpinned prod: exit %d, stderr %q; want the protected environment to refuse", code, stderr)
			}
			img := "registry.example.com/acme/app@" + digestA
			code, stdout, stderr = run(t, "manifests", "-f", cfg, "--env", "prod", "--image", img)
			if code != 0 || stderr != "" {
				t.Fatalf("relgen manifests --env prod --image: exit %d\n%s", code, stderr)
			}
			if _, err := manifests.Decode([]byte(stdout)); err != nil {
				t.Errorf("prod bundle: %v", err)
			}
			if code, _, stderr := run(t, "diff", "-f", cfg, "staging", "prod", "--image", img); code != 0 {
				t.Errorf("relgen diff staging prod: exit %d\n%s", code, stderr)
			}
		})
	}
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if text == "" {
		return
	}
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInitKeepsExistingConfig: without --force an existing file stays as
// it is; with --force it is replaced. The default file is ./relgen.yaml.
func TestInitKeepsExistingConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	write(t, dir, "mix.exs", mixExs("kept"))
	write(t, dir, "relgen.yaml", "# mine\n")

	code, stdout, stderr := run(t, "init")
	if code != 1 || stdout != "" || stderr != "relgen: relgen.yaml already exists; pass --force to overwrite it\n" {
		t.Errorf("init over an existing file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if b, _ := os.ReadFile("relgen.yaml"); string(b) != "# mine\n" {
		t.Errorf("relgen.yaml changed without --force: %q", b)
	}

	code, _, stderr = run(t, "init", "--force")
	if code != 0 || !strings.Contains(stderr, "relgen: wrote relgen.yaml for kept 1.2.3") {
		t.Fatalf("init --force: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile("relgen.yaml"); !strings.Contains(string(b), "name: kept\n") {
		t.Errorf("relgen.yaml not replaced by --force:\n%s", b)
	}
	// The write is atomic: no temporary file is left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "mix.exs" && e.Name() != "relgen.yaml" {
			t.Errorf("unexpected file %s", e.Name())
		}
	}
	if code, _, stderr := run(t, "check", "--env", "staging"); code != 0 {
		t.Errorf("relgen check on the generated file: exit %d\n%s", code, stderr)
	}

	code, _, stderr = run(t, "init", "-f", "missing/relgen.yaml")
	if code != 1 || stderr != "relgen: missing/relgen.yaml: the project directory missing does not exist\n" {
		t.Errorf("init into a missing directory: exit %d, stderr %q", code, stderr)
	}
}

// TestInitWithoutMixExs: without mix.exs there is no release to read, so
// init says so and writes nothing rather than naming the release after
// the directory.
func TestInitWithoutMixExs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my-project")
	write(t, dir, "README.md", "not a Mix project")
	cfg := filepath.Join(dir, "relgen.yaml")
	code, stdout, stderr := run(t, "init", "-f", cfg)
	if want := "relgen: " + cfg + ": no mix.exs in " + dir + ": relgen init reads the release name"; code != 1 || stdout != "" || !strings.HasPrefix(stderr, want) {
		t.Errorf("init without mix.exs: exit %d, stdout %q, stderr %q; want 1 and %q...", code, stdout, stderr, want)
	}
	if _, err := os.Stat(cfg); err == nil {
		t.Errorf("init wrote %s without a mix.exs", cfg)
	}
}
