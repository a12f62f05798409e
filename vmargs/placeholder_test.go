package vmargs

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Placeholder
	}{
		{name: "empty", src: "", want: nil},
		{name: "no dollar", src: "-name myapp@127.0.0.1\n+K true\n", want: nil},
		{
			name: "plain",
			src:  "-name myapp@${MY_POD_IP}\n",
			want: []Placeholder{{Name: "MY_POD_IP", Line: 1, Column: 13}},
		},
		{
			name: "default",
			src:  "\n  -setcookie ${COOKIE:-dev cookie}",
			want: []Placeholder{{Name: "COOKIE", Default: "dev cookie", HasDefault: true, Line: 2, Column: 14}},
		},
		{
			name: "empty default",
			src:  "${A:-}",
			want: []Placeholder{{Name: "A", HasDefault: true, Line: 1, Column: 1}},
		},
		{
			name: "escaped dollar in default",
			src:  "${A:-x$$y}",
			want: []Placeholder{{Name: "A", Default: "x$y", HasDefault: true, Line: 1, Column: 1}},
		},
		{
			name: "several on a line",
			src:  "-kernel a ${LO} b ${_HI2}",
			want: []Placeholder{
				{Name: "LO", Line: 1, Column: 11},
				{Name: "_HI2", Line: 1, Column: 19},
			},
		},
		{
			name: "comments",
			src:  "# -name ${OLD}\n-name a@${IP} # was ${PREV}\n-x a#${NOT_COMMENT}\n\t#${TAB}",
			want: []Placeholder{
				{Name: "OLD", Line: 1, Column: 9, InComment: true},
				{Name: "IP", Line: 2, Column: 9},
				{Name: "PREV", Line: 2, Column: 21, InComment: true},
				{Name: "NOT_COMMENT", Line: 3, Column: 6},
				{Name: "TAB", Line: 4, Column: 3, InComment: true},
			},
		},
		{
			name: "hash inside a default starts a comment after whitespace",
			src:  "${A:-x #y} ${B}",
			want: []Placeholder{
				{Name: "A", Default: "x #y", HasDefault: true, Line: 1, Column: 1},
				{Name: "B", Line: 1, Column: 12, InComment: true},
			},
		},
		{
			name: "escapes and other dollar forms are not placeholders",
			src:  "$${X} $VAR $(VAR) $ $$ $$$${Y} a$",
			want: nil,
		},
		{
			name: "escape then placeholder",
			src:  "$$${X}",
			want: []Placeholder{{Name: "X", Line: 1, Column: 3}},
		},
		{
			name: "crlf",
			src:  "-a ${A}\r\n-b ${B}\r\n",
			want: []Placeholder{{Name: "A", Line: 1, Column: 4}, {Name: "B", Line: 2, Column: 4}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Placeholders(tt.src)
			if err != nil {
				t.Fatalf("Placeholders(%q) error: %v", tt.src, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Placeholders(%q) mismatch (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestPlaceholdersSyntaxError(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{name: "digit first", src: "-name a@${1abc}", want: `line 1, column 9: invalid placeholder name "1abc": must start with a letter or underscore`},
		{name: "empty name", src: "\n-x ${}", want: "line 2, column 4: empty placeholder name in ${}"},
		{name: "unterminated at end", src: "-x y\n-name a@${FOO", want: `line 2, column 9: unterminated placeholder ${FOO: no closing "}" on this line`},
		{name: "unterminated at newline", src: "${FOO\n}", want: `line 1, column 1: unterminated placeholder ${FOO: no closing "}" on this line`},
		{name: "unterminated default", src: "${FOO:-bar\n}", want: `line 1, column 1: unterminated placeholder ${FOO:-...: no closing "}" on this line`},
		{name: "lone ${", src: "a ${", want: `line 1, column 3: unterminated placeholder ${: no closing "}" on this line`},
		{name: "space in name", src: "${ FOO}", want: `line 1, column 1: invalid character " " at start of placeholder name`},
		{name: "shell operator", src: "${FOO:=x}", want: `line 1, column 1: unexpected ":" after ${FOO, want "}" or ":-"`},
		{name: "non-ascii", src: "${FÖÖ}", want: `line 1, column 1: unexpected "Ö" after ${F, want "}" or ":-"`},
		{name: "nested", src: "${A:-${B}}", want: "line 1, column 1: nested placeholder in the default of ${A} is not supported"},
		{name: "in comment", src: "-a b\n# ${9}", want: `line 2, column 3: invalid placeholder name "9": must start with a letter or underscore`},
		{
			name: "all reported",
			src:  "${OK}\n-x ${} ${1}\n",
			want: "line 2, column 4: empty placeholder name in ${}\n" +
				`line 2, column 8: invalid placeholder name "1": must start with a letter or underscore`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Placeholders(tt.src)
			if err == nil {
				t.Fatalf("Placeholders(%q) = %v, want error %q", tt.src, got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Placeholders(%q) error = %q, want %q", tt.src, err, tt.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("Placeholders(%q) error %v is not a *SyntaxError", tt.src, err)
			}
			if _, rerr := Resolve(tt.src, nil); rerr == nil || rerr.Error() != tt.want {
				t.Errorf("Resolve(%q) error = %v, want %q", tt.src, rerr, tt.want)
			}
		})
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	_, err := Placeholders("-name a\n\t-setcookie ${1x}\n")
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("Placeholders error = %v, want a *SyntaxError", err)
	}
	if se.Line != 2 || se.Column != 13 {
		t.Errorf("SyntaxError at line %d, column %d, want line 2, column 13", se.Line, se.Column)
	}
}

func TestResolve(t *testing.T) {
	env := map[string]string{"IP": "10.0.0.7", "COOKIE": "s3cr3t", "EMPTY": "", "DOLLAR": "a$b"}
	tests := []struct {
		name string
		src  string
		want string
	}{
		{name: "empty", src: "", want: ""},
		{name: "no placeholders", src: "-name myapp@host\n# comment\n", want: "-name myapp@host\n# comment\n"},
		{name: "plain", src: "-name myapp@${IP}\n-setcookie ${COOKIE}\n", want: "-name myapp@10.0.0.7\n-setcookie s3cr3t\n"},
		{name: "in comment", src: "# node ${IP}", want: "# node 10.0.0.7"},
		{name: "default unused", src: "${IP:-127.0.0.1}", want: "10.0.0.7"},
		{name: "default when unset", src: "${MISSING:-127.0.0.1}", want: "127.0.0.1"},
		{name: "default when empty", src: "${EMPTY:-fallback}", want: "fallback"},
		{name: "set but empty", src: "a${EMPTY}b", want: "ab"},
		{name: "escapes", src: "$${IP} $$ $$$${X} $${IP:-x}", want: "${IP} $ $${X} ${IP:-x}"},
		{name: "escape then placeholder", src: "$$${IP}", want: "$10.0.0.7"},
		{name: "other dollar forms kept", src: "$IP $(IP) $ a$", want: "$IP $(IP) $ a$"},
		{name: "value not rescanned", src: "${DOLLAR}", want: "a$b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.src, env)
			if err != nil {
				t.Fatalf("Resolve(%q) error: %v", tt.src, err)
			}
			if got != tt.want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestResolveUnset(t *testing.T) {
	src := "-name myapp@${POD_IP}\n" +
		"-setcookie ${COOKIE}\n" +
		"-kernel a ${PORT} b ${PORT}\n" +
		"# ${OLD} ${HOST:-x}\n" +
		"-x ${POD_IP}\n"
	got, err := Resolve(src, map[string]string{"COOKIE": "c"})
	if err == nil {
		t.Fatalf("Resolve(%q) = %q, want error", src, got)
	}
	wantMsg := "line 1: ${POD_IP} is not set\n" +
		"line 3: ${PORT} is not set\n" +
		"line 4: ${OLD} is not set\n" +
		"line 5: ${POD_IP} is not set"
	if err.Error() != wantMsg {
		t.Errorf("Resolve error = %q, want %q", err, wantMsg)
	}

	var ue *UnsetError
	if !errors.As(err, &ue) {
		t.Fatalf("Resolve error %v is not an *UnsetError", err)
	}
	if diff := cmp.Diff(&UnsetError{Name: "POD_IP", Line: 1}, ue); diff != "" {
		t.Errorf("first UnsetError mismatch (-want +got):\n%s", diff)
	}

	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Resolve error %T does not wrap several errors", err)
	}
	var all []UnsetError
	for _, e := range joined.Unwrap() {
		var u *UnsetError
		if !errors.As(e, &u) {
			t.Fatalf("wrapped error %v is not an *UnsetError", e)
		}
		all = append(all, *u)
	}
	want := []UnsetError{{"POD_IP", 1}, {"PORT", 3}, {"OLD", 4}, {"POD_IP", 5}}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("UnsetErrors mismatch (-want +got):\n%s", diff)
	}
}
