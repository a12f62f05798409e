package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// The registry fault tests put a fault injector in front of ggcr's
// in-process registry (on loopback) and push a real build through it.
// Transient faults must be retried into a push that pulls back intact;
// the others must end in a *RegistryError that names the registry and
// says what to do, with nothing left under the tag.

// request kinds a fault can be aimed at.
func isPatch(r *http.Request) bool {
	return r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/blobs/uploads/")
}

func isBlobCommit(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/")
}

func isBlobHead(r *http.Request) bool {
	return r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/blobs/sha256:")
}

func isManifestPut(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/")
}

// injector fails the first n requests that match (n < 0: every one) with
// do, and passes the rest to the registry. hits counts injected faults.
type injector struct {
	match func(*http.Request) bool
	n     int32
	do    func(w http.ResponseWriter, r *http.Request, next http.Handler)
	hits  atomic.Int32
}

func (f *injector) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.match(r) && (f.n < 0 || f.hits.Load() < f.n) {
			f.hits.Add(1)
			f.do(w, r, next)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// answer replies with a bare status code.
func answer(code int) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) { w.WriteHeader(code) }
}

// resetMidBody reads part of the request body, then resets the TCP
// connection (SO_LINGER 0), as a crashing proxy or a flaky link does.
func resetMidBody(w http.ResponseWriter, r *http.Request, _ http.Handler) {
	_, _ = io.CopyN(io.Discard, r.Body, 100)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// slowly answers after a delay: latency, not failure.
func slowly(d time.Duration) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		time.Sleep(d)
		next.ServeHTTP(w, r)
	}
}

// flipByte alters one byte of an upload on its way to the registry.
func flipByte(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body, _ := io.ReadAll(r.Body)
	if len(body) > 0 {
		body[len(body)/2] ^= 0xff
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	next.ServeHTTP(w, r)
}

// storeOtherManifest stores a manifest other than the one pushed (an
// annotation added), as a registry with broken storage or a rewriting
// proxy would.
func storeOtherManifest(w http.ResponseWriter, r *http.Request, next http.Handler) {
	var m map[string]any
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &m); err != nil {
		panic(err)
	}
	m["annotations"] = map[string]string{"rewritten": "yes"}
	body, _ = json.Marshal(m)
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	next.ServeHTTP(w, r)
}

// dropBlob acknowledges a blob upload without storing it.
func dropBlob(w http.ResponseWriter, r *http.Request, _ http.Handler) {
	repo := strings.TrimPrefix(r.URL.Path[:strings.Index(r.URL.Path, "/blobs/")], "/v2/")
	d := r.URL.Query().Get("digest")
	w.Header().Set("Location", "/v2/"+repo+"/blobs/"+d)
	w.Header().Set("Docker-Content-Digest", d)
	w.WriteHeader(http.StatusCreated)
}

// assertPulledIntact pulls ref back and checks it is exactly the build:
// same digest, and every byte consistent with it (validate.Image reads
// and hashes every layer).
func assertPulledIntact(t *testing.T, ref name.Reference, res *Result) {
	t.Helper()
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pulling %s back: %v", ref, err)
	}
	if d, _ := img.Digest(); d != res.Digest {
		t.Errorf("pulled %s has digest %s, want %s", ref, d, res.Digest)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("validate.Image(%s) = %v", ref, err)
	}
}

// assertNotTagged checks that a failed push set no tag.
func assertNotTagged(t *testing.T, host string, res *Result) {
	t.Helper()
	if desc, err := remote.Head(mustRef(t, host+"/acme/myapp:0.1.0")); err == nil {
		t.Errorf("tag 0.1.0 points at %s after a failed push", desc.Digest)
	}
}

func TestPushTransientFaults(t *testing.T) {
	tests := []struct {
		name string
		f    *injector
	}{
		{name: "500 on manifest PUT", f: &injector{match: isManifestPut, n: 2, do: answer(http.StatusInternalServerError)}},
		{name: "502 on blob HEAD", f: &injector{match: isBlobHead, n: 2, do: answer(http.StatusBadGateway)}},
		{name: "503 on blob upload", f: &injector{match: isPatch, n: 2, do: answer(http.StatusServiceUnavailable)}},
		{name: "504 on blob commit", f: &injector{match: isBlobCommit, n: 1, do: answer(http.StatusGatewayTimeout)}},
		{name: "429 on blob upload", f: &injector{match: isPatch, n: 1, do: answer(http.StatusTooManyRequests)}},
		{name: "connection reset mid-blob", f: &injector{match: isPatch, n: 2, do: resetMidBody}},
		{name: "slow responses", f: &injector{match: func(*http.Request) bool { return true }, n: -1, do: slowly(20 * time.Millisecond)}},
	}
	res := mustBuild(t, newRelease(t), WithBase(randomBase(t)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := newRegistry(t, tt.f.wrap)
			ref, err := Push(context.Background(), res, host+"/acme/myapp", WithTags("0.1.0"), anonymous, fastRetry)
			if err != nil {
				t.Fatalf("Push() = %v, want the fault retried", err)
			}
			if tt.f.hits.Load() == 0 {
				t.Fatalf("no fault was injected: the test proves nothing")
			}
			assertPulledIntact(t, ref, res)
			assertPulledIntact(t, mustRef(t, host+"/acme/myapp:0.1.0"), res)
		})
	}
}

func TestPushFaultsReported(t *testing.T) {
	tests := []struct {
		name string
		f    *injector
		want string
	}{
		{
			name: "503 that persists",
			f:    &injector{match: isPatch, n: -1, do: answer(http.StatusServiceUnavailable)},
			want: "answered 503 Service Unavailable, also on retries; it is overloaded or failing: try again later",
		},
		{
			name: "500 that persists on the manifest",
			f:    &injector{match: isManifestPut, n: -1, do: answer(http.StatusInternalServerError)},
			want: "answered 500 Internal Server Error, also on retries",
		},
		{
			name: "resets that persist",
			f:    &injector{match: isPatch, n: -1, do: resetMidBody},
			want: "kept dropping the connection, also on retries; try again, and if it persists check a proxy",
		},
		{
			name: "blob altered on the way",
			f:    &injector{match: isPatch, n: -1, do: flipByte},
			want: "received content that does not match its digest (DIGEST_INVALID): the bytes were altered on the way",
		},
		{
			name: "registry stores another manifest",
			f:    &injector{match: isManifestPut, n: -1, do: storeOtherManifest},
			want: "accepted the push but does not serve sha256:",
		},
		{
			name: "registry loses a blob",
			f:    &injector{match: isBlobCommit, n: -1, do: dropBlob},
			want: "accepted the push but does not serve sha256:",
		},
	}
	res := mustBuild(t, newRelease(t), WithBase(randomBase(t)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := newRegistry(t, tt.f.wrap)
			_, err := Push(context.Background(), res, host+"/acme/myapp", WithTags("0.1.0"), anonymous, fastRetry)
			assertRegistryError(t, err, host, tt.want)
			if tt.f.hits.Load() == 0 {
				t.Errorf("no fault was injected")
			}
			assertNotTagged(t, host, res)
		})
	}
}

func assertRegistryError(t *testing.T, err error, host, want string) {
	t.Helper()
	var rerr *RegistryError
	if !errors.As(err, &rerr) {
		t.Fatalf("Push() = %v, want a *RegistryError", err)
	}
	if rerr.Registry != host {
		t.Errorf("RegistryError.Registry = %q, want %q", rerr.Registry, host)
	}
	if msg := err.Error(); !strings.Contains(msg, "registry "+host) || !strings.Contains(msg, want) {
		t.Errorf("Push() = %q\nwant it to name registry %s and say %q", msg, host, want)
	}
}

// TestPushStalledRegistry: a registry that stops answering mid-upload
// does not hang the push past its context, and leaves no tag.
func TestPushStalledRegistry(t *testing.T) {
	stalled, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f := &injector{match: isPatch, n: -1, do: func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		_, _ = io.Copy(io.Discard, r.Body)
		once.Do(func() { close(stalled) })
		select { // never answer
		case <-r.Context().Done():
		case <-done:
		}
	}}
	host := newRegistry(t, f.wrap)
	t.Cleanup(func() { close(done) }) // before the server's Close, which waits for handlers
	res := mustBuild(t, newRelease(t))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-stalled; cancel() }()
	_, err := Push(ctx, res, host+"/acme/myapp", WithTags("0.1.0"), anonymous, fastRetry)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Push(stalled, cancelled) = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "pushing to "+host+"/acme/myapp") {
		t.Errorf("Push() = %q, want it to name the repository", err)
	}
	assertNotTagged(t, host, res)
}

// TestPushAuthChallenges: a registry answering 401 with a challenge gets
// credentials from the keychain (Basic, or a token from the realm the
// Bearer challenge names); without valid ones the error says to log in.
func TestPushAuthChallenges(t *testing.T) {
	const user, pass, token = "ci", "s3cret", "tok-123"
	good := authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})
	bad := authn.FromConfig(authn.AuthConfig{Username: user, Password: "wrong"})

	// basic requires user:pass on every /v2/ request.
	basic := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="relgen-test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	// bearer sends clients to /token, which swaps user:pass for a token.
	bearer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				_ = json.NewEncoder(w).Encode(map[string]string{"token": token})
				return
			}
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.Header().Set("WWW-Authenticate",
					`Bearer realm="http://`+r.Host+`/token",service="relgen-test",scope="repository:acme/myapp:push,pull"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	res := mustBuild(t, newRelease(t))
	for _, tt := range []struct {
		name string
		wrap func(http.Handler) http.Handler
		auth authn.Authenticator
		ok   bool
	}{
		{name: "basic, valid", wrap: basic, auth: good, ok: true},
		{name: "basic, none", wrap: basic, auth: authn.Anonymous},
		{name: "basic, wrong", wrap: basic, auth: bad},
		{name: "bearer, valid", wrap: bearer, auth: good, ok: true},
		{name: "bearer, none", wrap: bearer, auth: authn.Anonymous},
		{name: "bearer, wrong", wrap: bearer, auth: bad},
	} {
		t.Run(tt.name, func(t *testing.T) {
			host := newRegistry(t, tt.wrap)
			keychain := WithKeychain(staticKeychain{tt.auth})
			ref, err := Push(context.Background(), res, host+"/acme/myapp", WithTags("0.1.0"), keychain, fastRetry)
			if !tt.ok {
				assertRegistryError(t, err, host, "needs valid credentials (401 Unauthorized); check `docker login "+host+"`")
				return
			}
			if err != nil {
				t.Fatalf("Push() = %v", err)
			}
			img, err := remote.Image(ref, remote.WithAuth(tt.auth))
			if err != nil {
				t.Fatal(err)
			}
			if err := validate.Image(img); err != nil {
				t.Errorf("validate.Image(pulled) = %v", err)
			}
		})
	}
}

// staticKeychain gives the same credentials for every registry.
type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

// TestPushIndexVerified: an index is read back too, every platform image
// included.
func TestPushIndexVerified(t *testing.T) {
	res := mustBuildIndex(t)
	f := &injector{match: isBlobCommit, n: -1, do: dropBlob}
	host := newRegistry(t, f.wrap)
	_, err := Push(context.Background(), res, host+"/acme/myapp", anonymous, fastRetry)
	assertRegistryError(t, err, host, "accepted the push but does not serve "+res.Digest.String())
}

func mustBuildIndex(t *testing.T) *Result {
	t.Helper()
	res, err := BuildIndex(context.Background(), []Target{
		{Dir: newRelease(t), Platform: v1.Platform{OS: "linux", Architecture: "amd64"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Close() })
	return res
}

// TestPushCorruptBase: a base image whose registry serves bytes that do
// not match their digest is never built or pushed on. A damaged config
// stops the build; a damaged layer stops the push (ggcr checks every blob
// it streams from the base registry) before anything is tagged.
func TestPushCorruptBase(t *testing.T) {
	baseImg := randomBase(t)
	layers, _ := baseImg.Layers()
	layer, _ := layers[len(layers)-1].Digest()
	config, _ := baseImg.ConfigName()
	for _, target := range []v1.Hash{config, layer} {
		corrupt := &injector{match: func(r *http.Request) bool {
			return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+target.String())
		}, n: -1, do: corruptBody}
		baseHost := newRegistry(t, corrupt.wrap)
		if err := remote.Write(mustRef(t, baseHost+"/base:1"), baseImg); err != nil {
			t.Fatal(err)
		}
		base, err := ResolveBase(context.Background(), baseHost+"/base:1", v1.Platform{OS: "linux", Architecture: "amd64"}, authn.NewMultiKeychain())
		if err != nil {
			t.Fatalf("ResolveBase() = %v", err)
		}
		res, err := Build(context.Background(), newRelease(t), WithBase(base))
		if target == config {
			if err == nil || !strings.HasPrefix(err.Error(), "base image: ") {
				t.Errorf("Build(base with a damaged config) = %v, want a base image error", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Build() = %v", err)
		}
		host := newRegistry(t, nil)
		_, err = Push(context.Background(), res, host+"/acme/myapp", WithTags("0.1.0"), anonymous, fastRetry)
		var rerr *RegistryError
		if !errors.As(err, &rerr) || rerr.Registry != host {
			t.Errorf("Push(base with a damaged layer) = %v, want a *RegistryError for %s", err, host)
		}
		if corrupt.hits.Load() == 0 {
			t.Errorf("the damaged layer was never read")
		}
		assertNotTagged(t, host, res)
		if _, err := remote.Head(mustRef(t, host+"/acme/myapp@"+res.Digest.String())); err == nil {
			t.Errorf("the image was pushed on a damaged base layer")
		}
		out := filepath.Join(t.TempDir(), "layout")
		if err := WriteLayout(context.Background(), out, res, ""); err == nil {
			t.Errorf("WriteLayout(base with a damaged layer) succeeded")
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("WriteLayout left %s", out)
		}
		_ = res.Close()
	}
}

// corruptBody flips a byte in the registry's answer.
func corruptBody(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if len(body) > 0 {
		body[len(body)/2] ^= 0xff
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}
