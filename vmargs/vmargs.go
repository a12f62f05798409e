package vmargs

import (
	"errors"
	"fmt"
	"strings"
)

// Arg is one flag with its values, e.g. Flag "-name", Values
// ["myapp@${MY_POD_IP}"]. Line is the 1-based line the flag is on.
type Arg struct {
	Flag   string
	Values []string
	Line   int
}

// Parse splits vm.args into flags, dropping comments and blank lines. A token
// starting with '-' or '+' begins a flag; the tokens after it on the same line
// are its values. Tokens are split on whitespace only: quotes and placeholders
// get no special treatment, so ${VAR:-a b} yields the tokens "${VAR:-a" and
// "b}". A token before any flag on its line is a *SyntaxError; all such lines
// are reported at once.
func Parse(src string) ([]Arg, error) {
	var (
		args []Arg
		errs []error
	)
	for n, line := range strings.Split(src, "\n") {
		if c := commentIndex(line); c >= 0 {
			line = line[:c]
		}
		var cur *Arg
		for _, tok := range tokens(line) {
			if isFlag(tok.text) {
				args = append(args, Arg{Flag: tok.text, Line: n + 1})
				cur = &args[len(args)-1]
				continue
			}
			if cur == nil {
				errs = append(errs, &SyntaxError{
					Line:   n + 1,
					Column: tok.col,
					Msg:    fmt.Sprintf("value %q comes before any flag on its line", tok.text),
				})
				break
			}
			cur.Values = append(cur.Values, tok.text)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return args, nil
}

// Find returns the args with the given flag, in order.
func Find(args []Arg, flag string) []Arg {
	var out []Arg
	for _, a := range args {
		if a.Flag == flag {
			out = append(out, a)
		}
	}
	return out
}

// NodeName splits a -name or -sname value "base@host" at its first '@' into
// base and host; host may be a placeholder such as "${POD_IP}". ok is false
// when there is no '@'. Either part may be empty: judging whether a node name
// is usable is up to the caller.
func NodeName(value string) (base, host string, ok bool) {
	return strings.Cut(value, "@")
}

// token is one whitespace-separated token and its 1-based byte column.
type token struct {
	text string
	col  int
}

func tokens(line string) []token {
	var out []token
	start := -1
	for i := 0; i <= len(line); i++ {
		if i < len(line) && !isSpace(line[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, token{text: line[start:i], col: start + 1})
			start = -1
		}
	}
	return out
}

func isFlag(tok string) bool {
	return strings.HasPrefix(tok, "-") || strings.HasPrefix(tok, "+")
}
