package vmargs

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const realistic = `## Name of the node, reachable from the other pods by IP
-name myapp@${MY_POD_IP}

## Cookie for distributed Erlang; comes from the cookie Secret
-setcookie ${RELEASE_COOKIE}

# Kernel poll and async threads
+K true
+A 5   # trailing comment

-kernel inet_dist_listen_min 9000 inet_dist_listen_max 9000
-config /etc/relgen/discovery.config
	-env ERL_MAX_PORTS 4096 -smp auto
-heart#not-a-comment
`

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Arg
	}{
		{name: "empty", src: "", want: nil},
		{name: "only comments and blanks", src: "# a\n\n   \n\t# b ${X}\n", want: nil},
		{
			name: "realistic",
			src:  realistic,
			want: []Arg{
				{Flag: "-name", Values: []string{"myapp@${MY_POD_IP}"}, Line: 2},
				{Flag: "-setcookie", Values: []string{"${RELEASE_COOKIE}"}, Line: 5},
				{Flag: "+K", Values: []string{"true"}, Line: 8},
				{Flag: "+A", Values: []string{"5"}, Line: 9},
				{Flag: "-kernel", Values: []string{"inet_dist_listen_min", "9000", "inet_dist_listen_max", "9000"}, Line: 11},
				{Flag: "-config", Values: []string{"/etc/relgen/discovery.config"}, Line: 12},
				{Flag: "-env", Values: []string{"ERL_MAX_PORTS", "4096"}, Line: 13},
				{Flag: "-smp", Values: []string{"auto"}, Line: 13},
				{Flag: "-heart#not-a-comment", Line: 14},
			},
		},
		{
			name: "crlf and tabs",
			src:  "-name\ta@b\r\n+K  true\r\n",
			want: []Arg{
				{Flag: "-name", Values: []string{"a@b"}, Line: 1},
				{Flag: "+K", Values: []string{"true"}, Line: 2},
			},
		},
		{
			name: "placeholder default with space is split",
			src:  "-setcookie ${C:-a b}",
			want: []Arg{{Flag: "-setcookie", Values: []string{"${C:-a", "b}"}, Line: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.src, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{name: "value first", src: "-name a@b\nmyapp", want: `line 2, column 1: value "myapp" comes before any flag on its line`},
		{name: "indented value", src: "\n\n  true -x", want: `line 3, column 3: value "true" comes before any flag on its line`},
		{
			name: "all lines reported",
			src:  "a b\n-ok\n c # d\n",
			want: "line 1, column 1: value \"a\" comes before any flag on its line\n" +
				`line 3, column 2: value "c" comes before any flag on its line`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.src)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %q", tt.src, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error = %q, want %q", tt.src, err, tt.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("Parse(%q) error %v is not a *SyntaxError", tt.src, err)
			}
		})
	}
}

func TestFind(t *testing.T) {
	args, err := Parse(realistic + "-kernel net_ticktime 30\n")
	if err != nil {
		t.Fatalf("Parse error: %v", err)
	}
	tests := []struct {
		name string
		flag string
		want []Arg
	}{
		{name: "one", flag: "-name", want: []Arg{{Flag: "-name", Values: []string{"myapp@${MY_POD_IP}"}, Line: 2}}},
		{name: "none", flag: "-sname", want: nil},
		{name: "plus flag", flag: "+K", want: []Arg{{Flag: "+K", Values: []string{"true"}, Line: 8}}},
		{
			name: "several in order",
			flag: "-kernel",
			want: []Arg{
				{Flag: "-kernel", Values: []string{"inet_dist_listen_min", "9000", "inet_dist_listen_max", "9000"}, Line: 11},
				{Flag: "-kernel", Values: []string{"net_ticktime", "30"}, Line: 15},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Find(args, tt.flag)); diff != "" {
				t.Errorf("Find(args, %q) mismatch (-want +got):\n%s", tt.flag, diff)
			}
		})
	}
}

func TestNodeName(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		wantBase string
		wantHost string
		wantOK   bool
	}{
		{name: "ip", value: "myapp@10.0.0.7", wantBase: "myapp", wantHost: "10.0.0.7", wantOK: true},
		{name: "placeholder host", value: "myapp@${MY_POD_IP}", wantBase: "myapp", wantHost: "${MY_POD_IP}", wantOK: true},
		{name: "fqdn", value: "myapp@myapp-0.myapp.default.svc.cluster.local", wantBase: "myapp", wantHost: "myapp-0.myapp.default.svc.cluster.local", wantOK: true},
		{name: "no at", value: "myapp", wantBase: "myapp", wantOK: false},
		{name: "empty host", value: "myapp@", wantBase: "myapp", wantOK: true},
		{name: "first at splits", value: "a@b@c", wantBase: "a", wantHost: "b@c", wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, host, ok := NodeName(tt.value)
			if base != tt.wantBase || host != tt.wantHost || ok != tt.wantOK {
				t.Errorf("NodeName(%q) = %q, %q, %v, want %q, %q, %v",
					tt.value, base, host, ok, tt.wantBase, tt.wantHost, tt.wantOK)
			}
		})
	}
}
