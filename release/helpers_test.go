package release

import (
	"errors"
	"os"
	"testing"
	"time"
)

// LoadBytes is release/load's Bytes, set by load_test.go: the internal
// tests cannot import release/load (it imports release), yet they read
// configs the way relgen does.
var LoadBytes func(name string, data []byte) (*Config, error)

// parse loads a config from text through release/load, the production
// loader: viper, its decode hooks and the unknown-key check.
func parse(t *testing.T, file, text string) *Config {
	t.Helper()
	cfg, err := LoadBytes(file, []byte(text))
	if err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
	return cfg
}

// parseFile is parse for a file on disk.
func parseFile(t *testing.T, path string) *Config {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, path, string(b))
}

// minimal is the smallest valid config: everything else defaults.
func minimal() *Config {
	return &Config{
		Release:      ReleaseConfig{Name: "my_app"},
		Image:        ImageConfig{Repository: "registry.example.com/acme/my_app"},
		Environments: map[string]Environment{"prod": {}},
	}
}

// fieldErrorsOf flattens a joined error into its FieldErrors, failing the
// test on anything else.
func fieldErrorsOf(t *testing.T, err error) []*FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var out []*FieldError
	for _, e := range Split(err) {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %q (%T) is not a *FieldError", e, e)
		}
		out = append(out, fe)
	}
	return out
}

// located is the part of a FieldError tests compare: where, not the prose.
type located struct {
	Line int
	Path string
}

func locations(t *testing.T, err error) []located {
	t.Helper()
	var out []located
	for _, fe := range fieldErrorsOf(t, err) {
		out = append(out, located{fe.Line, fe.Path})
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func dur(s string) *time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return &d
}

// fakeStrategies stands in for manifests/discovery.Registry, which
// imports this package. It carries one of each kind of rule a strategy
// hands release: a unit check (peerage), naming nodes by hostname plus an
// env var of its own (libcluster-dnssrv). The real strategies' rules are
// tested in manifests/discovery and end to end in cmd/relgen/cli.
type fakeStrategies struct{}

type fakeStrategy struct {
	hostname bool
	seconds  bool
	env      []string
}

var fakes = map[string]fakeStrategy{
	"peerage":           {seconds: true},
	"libcluster-dns":    {},
	"libcluster-dnssrv": {hostname: true, env: []string{"CLUSTER_DOMAIN"}},
	"none":              {},
}

func (fakeStrategies) Names() []string {
	return []string{"peerage", "libcluster-dns", "libcluster-dnssrv", "none"}
}

func (fakeStrategies) Lookup(name string) (Strategy, bool) {
	s, ok := fakes[name]
	return s, ok
}

func (s fakeStrategy) NamedByHostname() bool { return s.hostname }

func (s fakeStrategy) Check(t Topology, add func(key, format string, args ...any)) {
	if s.seconds && t.Interval%time.Second != 0 {
		add("interval", "%s: not whole seconds", t.Interval)
	}
}

func (s fakeStrategy) Env(Topology, string) []string { return s.env }
