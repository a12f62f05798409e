package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/relgen/relgen/release/image"
)

// TestBadImageReference: every command that takes --image or reads
// image.repository refuses a malformed one, naming the flag or the key
// with its file and line, and prints nothing on stdout.
func TestBadImageReference(t *testing.T) {
	bad := []struct {
		name string
		args []string
		want string
	}{
		{name: "short digest", args: []string{"--image", "hello@sha256:abc"},
			want: `relgen: --image "hello@sha256:abc": not a valid image reference: the digest "sha256:abc" is not sha256: followed by 64 hex digits`},
		{name: "scheme", args: []string{"--image", "https://registry.example.com/acme/myapp:1"},
			want: `relgen: --image "https://registry.example.com/acme/myapp:1": not a valid image reference: drop the URL scheme; write registry.example.com/acme/myapp:1`},
		{name: "upper case", args: []string{"--image", "registry.example.com/Acme/myapp:1"},
			want: `relgen: --image "registry.example.com/Acme/myapp:1": not a valid image reference: repository paths are lower case; write registry.example.com/acme/myapp:1`},
		{name: "repository with a tag", args: []string{"--set", "image.repository=registry.example.com/acme/myapp:latest"},
			want: `relgen: --set image.repository=registry.example.com/acme/myapp:latest: image.repository: "registry.example.com/acme/myapp:latest": not a valid image reference: a repository has no tag; write registry.example.com/acme/myapp (relgen tags the image with the release version)`},
		{name: "repository with a scheme", args: []string{"--set", "image.repository=https://registry.example.com/acme/myapp"},
			want: `drop the URL scheme; write registry.example.com/acme/myapp`},
		{name: "repository in upper case", args: []string{"--set", "image.repository=registry.example.com/Acme/MyApp"},
			want: `repository paths are lower case; write registry.example.com/acme/myapp`},
	}
	for _, tt := range bad {
		for _, cmd := range [][]string{{"manifests", "--env", "prod"}, {"check", "--env", "prod"}, {"diff", "staging", "prod"}} {
			t.Run(tt.name+"/"+cmd[0], func(t *testing.T) {
				args := append(append(append([]string{}, cmd...), "-f", seed), tt.args...)
				code, stdout, stderr := run(t, args...)
				if code != 1 || stdout != "" {
					t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout)
				}
				if !strings.Contains(stderr, tt.want) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, tt.want)
				}
			})
		}
	}
	// build validates the config before it builds anything.
	code, _, stderr := run(t, "build", "-f", seed, "--skip-build", "--push=false", "--set", "image.repository=registry.example.com/acme/myapp:latest")
	if code != 1 || !strings.Contains(stderr, "image.repository:") || !strings.Contains(stderr, "a repository has no tag") {
		t.Errorf("build with a tagged repository: exit %d, stderr %q", code, stderr)
	}
}

// TestRecordOfAnotherRelease: a build record of another repository,
// release or version is refused, naming the record and the config key.
func TestRecordOfAnotherRelease(t *testing.T) {
	dir := t.TempDir()
	record := func(name string, rec image.Record) string {
		p := filepath.Join(dir, name)
		if rec.Digest == "" {
			rec.Digest = digestA
		}
		if err := image.WriteRecordFile(p, rec); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := record("good.json", image.Record{Reference: "registry.example.com/acme/myapp@" + digestA, Release: "myapp", Version: "0.1.0"})
	if code, _, stderr := run(t, "manifests", "-f", seed, "--env", "prod", "--record", good); code != 0 {
		t.Fatalf("the seed's own record: exit %d: %s", code, stderr)
	}
	tests := []struct {
		name string
		rec  image.Record
		want string
	}{
		{name: "repository", rec: image.Record{Reference: "registry.example.com/other/app@" + digestA, Release: "myapp", Version: "0.1.0"},
			want: "relgen.yaml:14: image.repository: is registry.example.com/acme/myapp, but the record %s holds an image of registry.example.com/other/app"},
		{name: "release", rec: image.Record{Reference: "registry.example.com/acme/myapp@" + digestA, Release: "billing", Version: "0.1.0"},
			want: "relgen.yaml:6: release.name: is myapp, but the record %s was built from release billing"},
		{name: "version", rec: image.Record{Reference: "registry.example.com/acme/myapp@" + digestA, Release: "myapp", Version: "0.2.0"},
			want: "relgen.yaml:7: release.version: is 0.1.0, but the record %s was built from version 0.2.0"},
	}
	for _, tt := range tests {
		p := record(tt.name+".json", tt.rec)
		want := strings.Replace(tt.want, "%s", p, 1)
		for _, args := range [][]string{
			{"manifests", "-f", seed, "--env", "prod", "--record", p},
			{"check", "-f", seed, "--record", p},
			{"diff", "-f", seed, "staging", "prod", "--record", p},
			{"diff", "-f", seed, "staging", "prod", "--record", good, "--record-b", p},
		} {
			t.Run(tt.name+"/"+strings.Join(args[:1], " "), func(t *testing.T) {
				code, stdout, stderr := run(t, args...)
				if code != 1 || stdout != "" && args[0] != "diff" {
					t.Errorf("exit %d, stdout %q; want 1", code, stdout)
				}
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, want)
				}
			})
		}
	}
}
