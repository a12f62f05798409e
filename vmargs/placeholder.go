package vmargs

import (
	"errors"
	"fmt"
	"strings"
)

// Placeholder is one ${VAR} or ${VAR:-default} occurrence.
type Placeholder struct {
	Name       string
	Default    string // with $$ already turned into $
	HasDefault bool
	Line       int  // 1-based
	Column     int  // 1-based, byte column of the '$'
	InComment  bool // inside a # comment
}

// SyntaxError reports malformed input: a bad placeholder, or a token that
// Parse cannot attach to a flag. For placeholders Column is the byte column of
// the '$' that opens it.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// UnsetError reports a placeholder that Resolve could not fill: its variable
// is missing from the environment and it has no default.
type UnsetError struct {
	Name string
	Line int
}

// Error implements error.
func (e *UnsetError) Error() string {
	return fmt.Sprintf("line %d: ${%s} is not set", e.Line, e.Name)
}

// Placeholders lists every placeholder in order of appearance, including
// those in comments, because the runtime substitutes those too. All syntax
// errors are reported at once, joined, each a *SyntaxError.
func Placeholders(src string) ([]Placeholder, error) {
	pieces, err := scan(src)
	if err != nil {
		return nil, err
	}
	var out []Placeholder
	for _, p := range pieces {
		if p.ph != nil {
			out = append(out, *p.ph)
		}
	}
	return out, nil
}

// Resolve substitutes placeholders from env and turns $$ into $. It is strict,
// because the runtime silently turns an unset variable into an empty string
// and the node then fails to boot: a variable missing from env is an error
// unless the placeholder has a default. ${VAR:-default} uses the default when
// VAR is missing or empty. Placeholders in comments are substituted and
// checked like any other, as the runtime does. All missing variables are
// reported at once, joined, each an *UnsetError; malformed placeholders give
// *SyntaxError values instead.
func Resolve(src string, env map[string]string) (string, error) {
	pieces, err := scan(src)
	if err != nil {
		return "", err
	}
	type occurrence struct {
		name string
		line int
	}
	var (
		b    strings.Builder
		errs []error
		seen = map[occurrence]bool{}
	)
	b.Grow(len(src))
	for _, p := range pieces {
		if p.ph == nil {
			b.WriteString(p.text)
			continue
		}
		v, ok := env[p.ph.Name]
		switch {
		case p.ph.HasDefault && v == "":
			v = p.ph.Default
		case !ok:
			o := occurrence{p.ph.Name, p.ph.Line}
			if !seen[o] {
				seen[o] = true
				errs = append(errs, &UnsetError{Name: o.name, Line: o.line})
			}
		}
		b.WriteString(v)
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	return b.String(), nil
}

// piece is a run of literal text (already unescaped) or one placeholder.
type piece struct {
	text string
	ph   *Placeholder
}

// scan splits src into literal text and placeholders. Placeholders never span
// lines, so line and column tracking only has to look at newlines outside them.
func scan(src string) ([]piece, error) {
	var (
		pieces    []piece
		errs      []error
		line      = 1
		lineStart = 0
		comment   = commentIndex(src)
		lit       = 0 // start of the literal text not yet added to pieces
	)
	for i := 0; i < len(src); {
		switch {
		case src[i] == '\n':
			i++
			line, lineStart = line+1, i
			comment = -1
			if c := commentIndex(src[i:]); c >= 0 {
				comment = i + c
			}
			continue
		case src[i] != '$':
			i++
			continue
		case strings.HasPrefix(src[i:], "$$"):
			pieces = append(pieces, piece{text: src[lit : i+1]})
			i += 2
			lit = i
			continue
		case !strings.HasPrefix(src[i:], "${"):
			i++
			continue
		}
		col := i - lineStart + 1
		ph, end, msg := placeholder(src, i)
		if msg != "" {
			errs = append(errs, &SyntaxError{Line: line, Column: col, Msg: msg})
			i += 2
			continue
		}
		ph.Line, ph.Column = line, col
		ph.InComment = comment >= 0 && i >= comment
		pieces = append(pieces, piece{text: src[lit:i]}, piece{ph: &ph})
		i, lit = end, end
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return append(pieces, piece{text: src[lit:]}), nil
}

// placeholder parses the placeholder whose "${" starts at src[i]. It returns
// the placeholder and the offset just past its '}', or a message saying what
// is wrong.
func placeholder(src string, i int) (ph Placeholder, end int, msg string) {
	k := i + 2
	for k < len(src) && isNameByte(src[k]) {
		k++
	}
	name := src[i+2 : k]
	switch {
	case name != "" && isDigit(name[0]):
		return ph, 0, fmt.Sprintf("invalid placeholder name %q: must start with a letter or underscore", name)
	case k == len(src) || src[k] == '\n':
		return ph, 0, fmt.Sprintf(`unterminated placeholder ${%s: no closing "}" on this line`, name)
	case src[k] == '}' && name == "":
		return ph, 0, "empty placeholder name in ${}"
	case src[k] == '}':
		return Placeholder{Name: name}, k + 1, ""
	case name == "":
		return ph, 0, fmt.Sprintf("invalid character %q at start of placeholder name", firstChar(src[k:]))
	case !strings.HasPrefix(src[k:], ":-"):
		return ph, 0, fmt.Sprintf(`unexpected %q after ${%s, want "}" or ":-"`, firstChar(src[k:]), name)
	}
	var def strings.Builder
	for m := k + 2; m < len(src) && src[m] != '\n'; {
		switch {
		case src[m] == '}':
			return Placeholder{Name: name, Default: def.String(), HasDefault: true}, m + 1, ""
		case strings.HasPrefix(src[m:], "$$"):
			def.WriteByte('$')
			m += 2
		case strings.HasPrefix(src[m:], "${"):
			return ph, 0, fmt.Sprintf("nested placeholder in the default of ${%s} is not supported", name)
		default:
			def.WriteByte(src[m])
			m++
		}
	}
	return ph, 0, fmt.Sprintf(`unterminated placeholder ${%s:-...: no closing "}" on this line`, name)
}

// commentIndex returns the offset of the '#' that starts a comment on the
// first line of s, or -1. A '#' only starts a comment at the start of a token.
func commentIndex(s string) int {
	for j := 0; j < len(s) && s[j] != '\n'; j++ {
		if s[j] == '#' && (j == 0 || isSpace(s[j-1])) {
			return j
		}
	}
	return -1
}

// firstChar returns the first UTF-8 sequence of s (or its first byte when that
// is not valid UTF-8), for quoting in messages.
func firstChar(s string) string {
	for i := range s {
		if i > 0 {
			return s[:i]
		}
	}
	return s
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isNameByte(c byte) bool {
	return c == '_' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
