package discovery

import (
	"testing"
)

// FuzzParseConfig feeds arbitrary text to the Erlang config reader: it
// must never panic, and a config file relgen writes must read back with
// the values it was written with.
func FuzzParseConfig(f *testing.F) {
	f.Add(`[{peerage, [{via, 'Elixir.Peerage.Via.Dns'}, {dns_name, "a.b"}]}].`)
	f.Add("%% c\n[{libcluster, [{topologies, [{k, [{strategy, x}, {config, #{a => <<\"b\"/utf8>>}}]}]}]}].")
	f.Add(`[{a, [{b, -1.5e3}, {c, [1|2]}, {d, <<"\x{41}\n">>}]}].`)
	f.Fuzz(func(t *testing.T, text string) {
		_, _ = ParseConfig(text)
		// The same text as a binary value in a file relgen writes.
		cfg := configFile("fuzz", pair{"app", proplist{{"key", binary(text)}}})
		v, err := ParseConfig(cfg)
		if err != nil {
			t.Fatalf("ParseConfig of relgen's own file failed: %v\n%s", err, cfg)
		}
		got, ok := Lookup(v, "app", "key")
		if s, isText := Text(got); !ok || !isText || s != text {
			t.Fatalf("read back %#v, want %q", got, text)
		}
	})
}
