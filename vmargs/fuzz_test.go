package vmargs

import (
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"",
	realistic,
	"-name a@${IP:-127.0.0.1} # ${OLD}\n+K true\n",
	"$${X} $VAR $(VAR) $$$${Y} ${A:-x$$y}",
	"${1abc} ${} ${FOO",
	"value -x\r\n\t-y z#w",
}

// FuzzParse checks that Parse never panics, that what it returns is made of
// whitespace-free tokens, and that rendering the args back parses to the same
// args.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		args, err := Parse(src)
		if err != nil {
			return
		}
		lines := strings.Count(src, "\n") + 1
		var b strings.Builder
		prev := 1 // line the rendering is on
		for _, a := range args {
			if !isFlag(a.Flag) {
				t.Fatalf("Parse(%q): flag %q does not start with - or +", src, a.Flag)
			}
			if a.Line < prev || a.Line > lines {
				t.Fatalf("Parse(%q): line %d out of order or range", src, a.Line)
			}
			for _, tok := range append([]string{a.Flag}, a.Values...) {
				if tok == "" || len(tokens(tok)) != 1 || strings.HasPrefix(tok, "#") {
					t.Fatalf("Parse(%q): bad token %q", src, tok)
				}
			}
			for _, v := range a.Values {
				if isFlag(v) {
					t.Fatalf("Parse(%q): value %q looks like a flag", src, v)
				}
			}
			for ; prev < a.Line; prev++ {
				b.WriteString("\n")
			}
			b.WriteString(strings.Join(append([]string{a.Flag}, a.Values...), " ") + " ")
		}
		back, err := Parse(b.String())
		if err != nil {
			t.Fatalf("Parse(render(Parse(%q))) error: %v", src, err)
		}
		if len(back) != len(args) {
			t.Fatalf("Parse(%q) round trip: %d args, want %d", src, len(back), len(args))
		}
		for i := range args {
			if back[i].Flag != args[i].Flag || back[i].Line != args[i].Line ||
				strings.Join(back[i].Values, " ") != strings.Join(args[i].Values, " ") {
				t.Fatalf("Parse(%q) round trip: arg %d = %+v, want %+v", src, i, back[i], args[i])
			}
		}
	})
}

// FuzzResolve checks that Placeholders and Resolve never panic and agree with
// each other, and that $$ escaping round-trips.
func FuzzResolve(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		phs, perr := Placeholders(src)
		env := map[string]string{}
		for _, p := range phs {
			if p.Line < 1 || p.Column < 1 || !strings.HasPrefix(src[lineOffset(src, p.Line)+p.Column-1:], "${"+p.Name) {
				t.Fatalf("Placeholders(%q): %+v does not point at its text", src, p)
			}
			env[p.Name] = "v"
		}
		got, rerr := Resolve(src, env)
		if (perr == nil) != (rerr == nil) {
			t.Fatalf("Placeholders(%q) error = %v but Resolve error = %v", src, perr, rerr)
		}
		if !strings.Contains(src, "$") && (rerr != nil || got != src) {
			t.Fatalf("Resolve(%q) = %q, %v, want the input unchanged", src, got, rerr)
		}

		escaped := strings.ReplaceAll(src, "$", "$$")
		if phs, err := Placeholders(escaped); err != nil || len(phs) != 0 {
			t.Fatalf("Placeholders(%q) = %v, %v, want none", escaped, phs, err)
		}
		if got, err := Resolve(escaped, nil); err != nil || got != src {
			t.Fatalf("Resolve(%q) = %q, %v, want %q", escaped, got, err, src)
		}
	})
}

// lineOffset returns the byte offset where 1-based line n of s starts.
func lineOffset(s string, n int) int {
	off := 0
	for ; n > 1; n-- {
		off += strings.IndexByte(s[off:], '\n') + 1
	}
	return off
}
