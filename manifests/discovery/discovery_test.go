package discovery

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgen/relgen/release"
)

func topology() release.Topology {
	return release.Topology{
		Basename: "myapp", Namespace: "default", HeadlessService: "myapp-service-headless",
		Domain: "cluster.local", Interval: 5 * time.Second, PodIPEnv: "MY_POD_IP",
	}
}

func TestPeerage(t *testing.T) {
	s, err := For("peerage")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Plan(topology())
	if err != nil {
		t.Fatal(err)
	}
	want := `[
 {peerage,
  [{via, 'Elixir.Peerage.Via.Dns'},
   {dns_name, <<"myapp-service-headless.default.svc.cluster.local">>},
   {app_name, <<"myapp">>},
   {interval, 5}]}
].
`
	body := p.Config[strings.Index(p.Config, "[\n"):]
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("peerage config (-want +got):\n%s", diff)
	}
	if p.DNSName != "myapp-service-headless.default.svc.cluster.local" || p.Basename != "myapp" {
		t.Errorf("Plan names = %q, %q", p.DNSName, p.Basename)
	}
	if !strings.Contains(p.Elixir, "interval: 5\n") || !strings.Contains(p.Elixir, `dns_name: "myapp-service-headless.default.svc.cluster.local"`) {
		t.Errorf("Elixir snippet = %q", p.Elixir)
	}
}

func TestPeerageIntervalInSeconds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		want     string
		wantErr  bool
	}{
		{name: "minute", interval: time.Minute, want: "{interval, 60}"},
		{name: "one second", interval: time.Second, want: "{interval, 1}"},
		{name: "sub-second", interval: 1500 * time.Millisecond, wantErr: true},
		{name: "milliseconds", interval: 500 * time.Millisecond, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := topology()
			top.Interval = tc.interval
			p, err := peerage{}.Plan(top)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Plan(%s) error = %v, want error %v", tc.interval, err, tc.wantErr)
			}
			if !tc.wantErr && !strings.Contains(p.Config, tc.want) {
				t.Errorf("Plan(%s) config = %s, want it to contain %s", tc.interval, p.Config, tc.want)
			}
		})
	}
}

func TestNone(t *testing.T) {
	p, err := none{}.Plan(topology())
	if err != nil {
		t.Fatal(err)
	}
	if p.Config != "" || len(p.Env) != 0 || len(p.Objects) != 0 || p.DNSName != "" {
		t.Errorf("none.Plan = %+v, want nothing but the basename", p)
	}
}

func TestForUnknown(t *testing.T) {
	_, err := For("zookeeper")
	if err == nil || !strings.Contains(err.Error(), "peerage") {
		t.Errorf(`For("zookeeper") = %v, want an error listing the supported strategies`, err)
	}
}

func TestErlangTerms(t *testing.T) {
	for _, tc := range []struct {
		name string
		term term
		want string
	}{
		{name: "plain atom", term: atom("peerage"), want: "peerage"},
		{name: "module atom", term: elixirModule("Peerage.Via.Dns"), want: "'Elixir.Peerage.Via.Dns'"},
		{name: "atom with quote", term: atom("it's"), want: `'it\'s'`},
		{name: "capital atom", term: atom("Up"), want: "'Up'"},
		{name: "binary", term: binary("a.b"), want: `<<"a.b">>`},
		{name: "binary escapes", term: binary("q\"b\\"), want: `<<"q\"b\\">>`},
		{name: "binary utf8", term: binary("é\n"), want: `<<"\x{C3}\x{A9}\x{0A}">>`},
		{name: "integer", term: intval(-3), want: "-3"},
		{name: "proplist", term: proplist{{"a", intval(1)}, {"b", binary("x")}}, want: `[{a, 1}, {b, <<"x">>}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.term.erlang(); got != tc.want {
				t.Errorf("erlang() = %s, want %s", got, tc.want)
			}
		})
	}
}
