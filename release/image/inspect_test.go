package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestInspect(t *testing.T) {
	small := fixture{name: "myapp", version: "0.1.0", erts: "13.1.5",
		deps: []string{"kernel-8.5.3"}, own: []string{"myapp-0.1.0"}}
	want := Release{
		Name: "myapp", Version: "0.1.0", ERTSVersion: "13.1.5", ERTSDir: "erts-13.1.5", Kind: "distillery",
		Apps: []App{
			{Name: "kernel", Version: "8.5.3", Dir: "lib/kernel-8.5.3"},
			{Name: "myapp", Version: "0.1.0", Dir: "lib/myapp-0.1.0"},
		},
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   Release
	}{
		{name: "distillery", want: want},
		{
			name: "mix with bat script",
			mutate: func(t *testing.T, dir string) {
				_ = os.RemoveAll(filepath.Join(dir, "releases/0.1.0/libexec"))
				writeFile(t, filepath.Join(dir, "releases/0.1.0/env.sh"), "#!/bin/sh", 0o755)
				writeFile(t, filepath.Join(dir, "bin/myapp.bat"), "@echo off", 0o644)
			},
			want: func() Release { r := want; r.Kind = "mix"; return r }(),
		},
		{
			name: "mix whose env.sh sets the node",
			mutate: func(t *testing.T, dir string) {
				_ = os.RemoveAll(filepath.Join(dir, "releases/0.1.0/libexec"))
				writeFile(t, filepath.Join(dir, "releases/0.1.0/env.sh"), "#!/bin/sh\n"+
					"# export RELEASE_NODE=commented\n"+
					"export RELEASE_DISTRIBUTION=name\n"+
					"export RELEASE_NODE=\"${FLY_APP_NAME}@${FLY_PRIVATE_IP}\"\n"+
					"RELEASE_COOKIE=\"${RELEASE_COOKIE:-fallback}\"\n"+
					"export ERL_AFLAGS=\"-proto_dist inet6_tcp\"\n", 0o755)
			},
			want: func() Release {
				r := want
				r.Kind = "mix"
				r.EnvShSets = []EnvShLine{{Name: "RELEASE_DISTRIBUTION", Line: 3}, {Name: "RELEASE_NODE", Line: 4}}
				return r
			}(),
		},
		{
			name: "kind unknown",
			mutate: func(t *testing.T, dir string) {
				_ = os.RemoveAll(filepath.Join(dir, "releases/0.1.0/libexec"))
			},
			want: func() Release { r := want; r.Kind = ""; return r }(),
		},
		{
			name: "extra script, name from .rel",
			mutate: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "bin/helper"), "#!/bin/sh", 0o755)
			},
			want: want,
		},
		{
			name: "no bundled erts",
			mutate: func(t *testing.T, dir string) {
				if err := os.RemoveAll(filepath.Join(dir, "erts-13.1.5")); err != nil {
					t.Fatal(err)
				}
			},
			want: func() Release { r := want; r.ERTSDir = ""; return r }(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rel")
			writeRelease(t, dir, small)
			if tt.mutate != nil {
				tt.mutate(t, dir)
			}
			got, err := Inspect(dir)
			if err != nil {
				t.Fatalf("Inspect(%s) = %v", dir, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Inspect(%s) (-want +got):\n%s", dir, diff)
			}
		})
	}
}

func TestInspectNotARelease(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   string // after "not a release directory: <dir>"
	}{
		{
			name:   "missing dir",
			mutate: func(t *testing.T, dir string) { _ = os.RemoveAll(dir) },
			want:   ": stat .: no such file or directory",
		},
		{
			name: "empty dir",
			mutate: func(t *testing.T, dir string) {
				_ = os.RemoveAll(dir)
				_ = os.Mkdir(dir, 0o755)
			},
			want: ": missing releases/start_erl.data, lib/, bin/<name>",
		},
		{
			name:   "no start_erl.data",
			mutate: func(t *testing.T, dir string) { _ = os.Remove(filepath.Join(dir, "releases/start_erl.data")) },
			want:   ": missing releases/start_erl.data",
		},
		{
			name: "bad start_erl.data",
			mutate: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "releases/start_erl.data"), "13.1.5\n", 0o644)
			},
			want: `: releases/start_erl.data: want "ERTS_VSN REL_VSN", got "13.1.5"`,
		},
		{
			name:   "no version dir",
			mutate: func(t *testing.T, dir string) { _ = os.RemoveAll(filepath.Join(dir, "releases/0.1.0")) },
			want:   ": missing releases/0.1.0/",
		},
		{
			name:   "no boot script",
			mutate: func(t *testing.T, dir string) { _ = os.RemoveAll(filepath.Join(dir, "bin")) },
			want:   ": missing bin/<name>",
		},
		{
			name:   "no apps",
			mutate: func(t *testing.T, dir string) { _ = os.RemoveAll(filepath.Join(dir, "lib")) },
			want:   ": missing lib/",
		},
		{
			name: "two scripts",
			mutate: func(t *testing.T, dir string) {
				_ = os.Remove(filepath.Join(dir, "releases/0.1.0/myapp.rel"))
				writeFile(t, filepath.Join(dir, "bin/other"), "#!/bin/sh", 0o755)
			},
			want: ": missing a single boot script (bin/ holds myapp, other; set the release name)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rel")
			writeRelease(t, dir, fixture{name: "myapp", version: "0.1.0", erts: "13.1.5",
				own: []string{"myapp-0.1.0"}})
			tt.mutate(t, dir)
			_, err := Inspect(dir)
			if !errors.Is(err, ErrNoRelease) {
				t.Fatalf("Inspect(%s) = %v, want ErrNoRelease", dir, err)
			}
			want := "not a release directory: " + dir + tt.want
			if got := err.Error(); got != want {
				t.Errorf("Inspect() error\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestInspectWantName(t *testing.T) {
	dir := newRelease(t)
	_, err := inspect(os.DirFS(dir), dir, "other")
	if err == nil || !strings.HasSuffix(err.Error(), "missing bin/other") {
		t.Errorf("inspect(name other) = %v, want missing bin/other", err)
	}
}
