package release

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRepository(t *testing.T) {
	tests := []struct {
		in, wantName, wantErr string
	}{
		{in: "registry.example.com/acme/myapp", wantName: "registry.example.com/acme/myapp"},
		{in: "localhost:5000/myapp", wantName: "localhost:5000/myapp"},
		{in: "myapp", wantName: "index.docker.io/library/myapp"},
		{in: "registry.example.com/acme/myapp:latest", wantErr: "a repository has no tag; write registry.example.com/acme/myapp "},
		{in: "registry.example.com/acme/myapp@sha256:" + strings.Repeat("ab", 32), wantErr: "a repository has no digest; write registry.example.com/acme/myapp "},
		{in: "https://registry.example.com/acme/myapp", wantErr: "drop the URL scheme; write registry.example.com/acme/myapp"},
		{in: "registry.example.com/Acme/MyApp", wantErr: "repository paths are lower case; write registry.example.com/acme/myapp"},
		{in: "registry.example.com/acme/my app", wantErr: "white space"},
		{in: "Acme/myapp", wantErr: "repository paths are lower case; write acme/myapp"},
		{in: "Registry.Example.com/acme/myapp", wantName: "Registry.Example.com/acme/myapp"},
		{in: "registry.example.com/acme/my$app", wantErr: "repository can only contain"},
		{in: "", wantErr: "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRepository(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrBadReference) {
					t.Fatalf("ParseRepository(%q) = %v, want ErrBadReference saying %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || r.Name() != tt.wantName {
				t.Fatalf("ParseRepository(%q) = %v, %v, want %s", tt.in, r.Name(), err, tt.wantName)
			}
		})
	}
}

func TestParseReference(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		in, wantErr string
	}{
		{in: "registry.example.com/acme/myapp@" + digest},
		{in: "registry.example.com/acme/myapp:1.0.0"},
		{in: "localhost:5000/myapp:V1"},
		{in: "hello@sha256:abc", wantErr: `the digest "sha256:abc" is not sha256: followed by 64 hex digits`},
		{in: "https://registry.example.com/acme/myapp:1", wantErr: "drop the URL scheme; write registry.example.com/acme/myapp:1"},
		{in: "registry.example.com/acme/MyApp:1", wantErr: "repository paths are lower case; write registry.example.com/acme/myapp:1"},
		{in: "registry.example.com/acme/myapp:", wantErr: "want REPOSITORY@sha256:DIGEST or REPOSITORY:TAG"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseReference(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrBadReference) {
					t.Fatalf("ParseReference(%q) = %v, want ErrBadReference saying %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || r.String() != tt.in {
				t.Fatalf("ParseReference(%q) = %v, %v, want it back", tt.in, r, err)
			}
		})
	}
}
