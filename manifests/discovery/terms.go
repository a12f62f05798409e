package discovery

import (
	"fmt"
	"strconv"
	"strings"
)

// Reading a config file back. A bundle relgen did not print (hand-written,
// or patched by an overlay) may carry a discovery config in any spelling
// Erlang accepts: binaries or strings, quoted atoms, comments. The parser
// below reads the subset sys.config files use (lists, tuples, maps, atoms,
// strings, binaries, numbers) into plain Go values, so the checks compare
// values rather than text.

// Parsed Erlang terms.
type (
	// Atom is an atom, unquoted.
	Atom string
	// Str is the text of a binary <<"...">> or a string "..." (a
	// charlist); Binary tells which.
	Str struct {
		Text   string
		Binary bool
	}
	// Tuple and List hold their elements; Map its pairs in order.
	Tuple []any
	List  []any
	Map   [][2]any
	// Number is an integer or float as written.
	Number string
)

// ParseConfig parses a sys.config-format file: one term followed by a
// full stop.
func ParseConfig(text string) (any, error) {
	p := &termParser{s: text}
	t, err := p.term()
	if err != nil {
		return nil, err
	}
	p.space()
	if !p.eat('.') {
		return nil, p.errorf("expected '.' after the term")
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected text after the final '.'")
	}
	return t, nil
}

type termParser struct {
	s     string
	i     int
	depth int
}

func (p *termParser) errorf(format string, args ...any) error {
	line := 1 + strings.Count(p.s[:p.i], "\n")
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

// space skips white space and % comments.
func (p *termParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '%':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *termParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *termParser) term() (any, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end of file")
	}
	// Deeply nested input is not a config file; stop before the stack
	// grows without bound.
	if p.depth > 100 {
		return nil, p.errorf("terms nested too deeply")
	}
	p.depth++
	defer func() { p.depth-- }()
	switch c := p.s[p.i]; {
	case c == '[':
		p.i++
		items, err := p.seq(']')
		return List(items), err
	case c == '{':
		p.i++
		items, err := p.seq('}')
		return Tuple(items), err
	case c == '#':
		return p.mapTerm()
	case c == '<':
		return p.binaryTerm()
	case c == '"':
		s, err := p.quoted('"')
		return Str{Text: s}, err
	case c == '\'':
		s, err := p.quoted('\'')
		return Atom(s), err
	case c >= 'a' && c <= 'z':
		start := p.i
		for p.i < len(p.s) && isAtomChar(p.s[p.i]) {
			p.i++
		}
		return Atom(p.s[start:p.i]), nil
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		p.i++
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || strings.IndexByte("._#eE+abcdefABCDEF", p.s[p.i]) >= 0) {
			p.i++
		}
		return Number(p.s[start:p.i]), nil
	}
	return nil, p.errorf("unexpected %q", p.s[p.i])
}

func isAtomChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '@'
}

// seq reads comma-separated terms up to end.
func (p *termParser) seq(end byte) ([]any, error) {
	var items []any
	p.space()
	if p.eat(end) {
		return items, nil
	}
	for {
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		items = append(items, t)
		p.space()
		if p.eat(end) {
			return items, nil
		}
		if end == ']' && p.eat('|') {
			// An improper list's tail: keep it as the last element.
			continue
		}
		if !p.eat(',') {
			return nil, p.errorf("expected ',' or %q", end)
		}
	}
}

func (p *termParser) mapTerm() (any, error) {
	p.i++
	if !p.eat('{') {
		return nil, p.errorf("expected '{' after '#'")
	}
	var m Map
	p.space()
	if p.eat('}') {
		return m, nil
	}
	for {
		k, err := p.term()
		if err != nil {
			return nil, err
		}
		p.space()
		if !strings.HasPrefix(p.s[p.i:], "=>") {
			return nil, p.errorf("expected '=>' in a map")
		}
		p.i += 2
		v, err := p.term()
		if err != nil {
			return nil, err
		}
		m = append(m, [2]any{k, v})
		p.space()
		if p.eat('}') {
			return m, nil
		}
		if !p.eat(',') {
			return nil, p.errorf("expected ',' or '}' in a map")
		}
	}
}

// binaryTerm reads <<"text">> (one string segment, optionally /utf8) or
// <<>>.
func (p *termParser) binaryTerm() (any, error) {
	if !strings.HasPrefix(p.s[p.i:], "<<") {
		return nil, p.errorf("unexpected '<'")
	}
	p.i += 2
	p.space()
	var text strings.Builder
	for !strings.HasPrefix(p.s[p.i:], ">>") {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.errorf("only string segments are supported in a binary")
		}
		s, err := p.quoted('"')
		if err != nil {
			return nil, err
		}
		text.WriteString(s)
		p.space()
		if strings.HasPrefix(p.s[p.i:], "/utf8") {
			p.i += len("/utf8")
		}
		p.space()
		if !p.eat(',') {
			p.space()
			if !strings.HasPrefix(p.s[p.i:], ">>") {
				return nil, p.errorf("expected '>>'")
			}
		}
		p.space()
	}
	p.i += 2
	return Str{Text: text.String(), Binary: true}, nil
}

// quoted reads a quoted string or atom with Erlang's escapes.
func (p *termParser) quoted(q byte) (string, error) {
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", p.errorf("unterminated %c", q)
		}
		c := p.s[p.i]
		p.i++
		switch {
		case c == q:
			return b.String(), nil
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		if p.i >= len(p.s) {
			return "", p.errorf("unterminated %c", q)
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 's':
			b.WriteByte(' ')
		case 'x':
			if !p.eat('{') {
				return "", p.errorf(`only \x{HH} escapes are supported`)
			}
			end := strings.IndexByte(p.s[p.i:], '}')
			if end < 0 {
				return "", p.errorf(`unterminated \x{`)
			}
			n, err := strconv.ParseUint(p.s[p.i:p.i+end], 16, 8)
			if err != nil {
				return "", p.errorf(`bad \x{} escape: %v`, err)
			}
			b.WriteByte(byte(n))
			p.i += end + 1
		default:
			b.WriteByte(e)
		}
	}
}

// Lookup follows keys through proplists and maps keyed by atoms: for
// [{libcluster, [{topologies, ...}]}] Lookup(t, "libcluster",
// "topologies"). Found reports whether every key was there.
func Lookup(t any, keys ...string) (any, bool) {
	for _, k := range keys {
		v, ok := lookup1(t, k)
		if !ok {
			return nil, false
		}
		t = v
	}
	return t, true
}

func lookup1(t any, key string) (any, bool) {
	switch t := t.(type) {
	case List:
		// The first entry wins, as in proplists:get_value/2 and
		// Keyword.get/2.
		for _, e := range t {
			if tup, ok := e.(Tuple); ok && len(tup) == 2 && tup[0] == Atom(key) {
				return tup[1], true
			}
		}
	case Map:
		for _, kv := range t {
			if kv[0] == Atom(key) {
				return kv[1], true
			}
		}
	}
	return nil, false
}

// Text is the text of a string, binary or atom term.
func Text(t any) (string, bool) {
	switch t := t.(type) {
	case Str:
		return t.Text, true
	case Atom:
		return string(t), true
	}
	return "", false
}
