package image

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

var fastRetry = WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 2, Steps: 4})

// anonymous avoids reading the docker config of whoever runs the tests.
var anonymous = WithKeychain(authn.NewMultiKeychain())

// newRegistry serves ggcr's in-memory registry on loopback, through wrap
// when given, and returns its host:port.
func newRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	h := http.Handler(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	if wrap != nil {
		h = wrap(h)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func randomBase(t testing.TB) v1.Image {
	t.Helper()
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// appTree keeps the entries under app/: the base's random files differ.
func appTree(tree map[string]node) map[string]node {
	out := map[string]node{}
	for k, v := range tree {
		if k == "app" || strings.HasPrefix(k, "app/") {
			out[k] = v
		}
	}
	return out
}

func TestPush(t *testing.T) {
	host := newRegistry(t, nil)
	dir := newRelease(t)
	res := mustBuild(t, dir, WithBase(randomBase(t)), WithCreationTime(epoch))
	ref, err := Push(context.Background(), res, host+"/acme/myapp", WithTags("0.1.0", "latest"), anonymous)
	if err != nil {
		t.Fatalf("Push() = %v", err)
	}
	if want := host + "/acme/myapp@" + res.Digest.String(); ref.String() != want {
		t.Errorf("Push() = %s, want %s", ref, want)
	}

	for _, r := range []string{ref.String(), host + "/acme/myapp:0.1.0", host + "/acme/myapp:latest"} {
		got, err := remote.Image(mustRef(t, r))
		if err != nil {
			t.Fatalf("pulling %s: %v", r, err)
		}
		if d, _ := got.Digest(); d != res.Digest {
			t.Errorf("%s has digest %s, want %s", r, d, res.Digest)
		}
	}
	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(pulled); err != nil {
		t.Errorf("validate.Image(pulled) = %v", err)
	}
	layers, _ := pulled.Layers()
	if len(layers) != 2+4 {
		t.Errorf("pulled image has %d layers, want 2 base + 4", len(layers))
	}
	if diff := cmp.Diff(releaseTree(t, dir, "app"), appTree(imageTree(t, pulled))); diff != "" {
		t.Errorf("pulled tree (-release +image):\n%s", diff)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPushSkipsExisting: after a code-only change only the new app layer
// and the config are uploaded.
func TestPushSkipsExisting(t *testing.T) {
	var mu sync.Mutex
	var uploads []string
	host := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/") {
				mu.Lock()
				uploads = append(uploads, r.URL.Path)
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	})
	dir := newRelease(t)
	cache := t.TempDir()
	base := randomBase(t)
	first := mustBuild(t, dir, WithBase(base), WithCacheDir(cache))
	if _, err := Push(context.Background(), first, host+"/acme/myapp", anonymous); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := len(uploads)
		uploads = nil
		return n
	}
	if n := count(); n != 2+4+1 {
		t.Errorf("first push: %d uploads, want 7 (2 base + 4 layers + config)", n)
	}

	writeFile(t, filepath.Join(dir, "lib/myapp-0.1.0/ebin/Elixir.myapp.M0.beam"), "FOR1 changed", 0o644)
	second := mustBuild(t, dir, WithBase(base), WithCacheDir(cache))
	if _, err := Push(context.Background(), second, host+"/acme/myapp", anonymous); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Errorf("code-only push: %d uploads, want 2 (app layer + config)", n)
	}
}

func TestPushErrors(t *testing.T) {
	status := func(code int) func(http.Handler) http.Handler {
		return func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if code == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				}
				w.WriteHeader(code)
			})
		}
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedHost := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()

	tests := []struct {
		name string
		host string
		want string
	}{
		{name: "401", host: newRegistry(t, status(http.StatusUnauthorized)), want: "needs valid credentials (401 Unauthorized)"},
		{name: "404", host: newRegistry(t, status(http.StatusNotFound)), want: "(404 Not Found)"},
		{name: "403", host: newRegistry(t, status(http.StatusForbidden)), want: "denied access (403 Forbidden)"},
		{name: "unreachable", host: closedHost, want: "is unreachable"},
	}
	res := mustBuild(t, newRelease(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Push(context.Background(), res, tt.host+"/acme/myapp", anonymous, fastRetry)
			var rerr *RegistryError
			if !errors.As(err, &rerr) {
				t.Fatalf("Push() = %v, want a *RegistryError", err)
			}
			if rerr.Registry != tt.host {
				t.Errorf("RegistryError.Registry = %q, want %q", rerr.Registry, tt.host)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || !strings.Contains(msg, "registry "+tt.host) {
				t.Errorf("Push() = %q, want it to name registry %s and say %q", msg, tt.host, tt.want)
			}
		})
	}
}

func TestPushRetriesTransientErrors(t *testing.T) {
	var failures atomic.Int32
	host := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failures.Load() < 2 {
				failures.Add(1)
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	res := mustBuild(t, newRelease(t))
	ref, err := Push(context.Background(), res, host+"/acme/myapp", anonymous, fastRetry)
	if err != nil {
		t.Fatalf("Push() through two 503s = %v", err)
	}
	if got := failures.Load(); got != 2 {
		t.Errorf("registry failed %d requests, want 2", got)
	}
	if _, err := remote.Image(ref); err != nil {
		t.Errorf("pulling %s: %v", ref, err)
	}
}

func TestPushProgress(t *testing.T) {
	host := newRegistry(t, nil)
	res := mustBuild(t, newRelease(t))
	var last, total int64
	_, err := Push(context.Background(), res, host+"/acme/myapp", anonymous,
		WithPushProgress(func(c, t int64) { last, total = c, t }))
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || last != total {
		t.Errorf("progress ended at %d of %d", last, total)
	}
}
