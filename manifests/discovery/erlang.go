package discovery

import (
	"fmt"
	"strconv"
	"strings"
)

// term is one Erlang term in a config file.
type term interface{ erlang() string }

type (
	atom   string
	binary string
	intval int64
	// proplist is a list of {Key, Value} tuples, in order.
	proplist []pair
)

type pair struct {
	key   atom
	value term
}

func (a atom) erlang() string {
	s := string(a)
	if s != "" && s[0] >= 'a' && s[0] <= 'z' && strings.IndexFunc(s, notPlainAtom) < 0 {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func notPlainAtom(r rune) bool {
	plain := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '@'
	return !plain
}

// Binaries, not Erlang strings: Elixir libraries such as peerage call
// String functions on these values and crash on charlists.
// Bytes outside printable ASCII are written as \x{HH} escapes, so the
// binary holds exactly the string's UTF-8 bytes.
func (b binary) erlang() string {
	var sb strings.Builder
	sb.WriteString(`<<"`)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, `\x{%02X}`, c)
		}
	}
	sb.WriteString(`">>`)
	return sb.String()
}

func (i intval) erlang() string { return strconv.FormatInt(int64(i), 10) }

func (p proplist) erlang() string {
	parts := make([]string, len(p))
	for i, kv := range p {
		parts[i] = fmt.Sprintf("{%s, %s}", kv.key.erlang(), kv.value.erlang())
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// elixirAtom writes name as an Elixir atom literal: :my_app, or
// :"my-app" when it needs quotes.
func elixirAtom(name string) string {
	if name != "" && (name[0] >= 'a' && name[0] <= 'z' || name[0] == '_') && strings.IndexFunc(name, notPlainAtom) < 0 && !strings.Contains(name, "@") {
		return ":" + name
	}
	return ":" + strconv.Quote(name)
}

// elixirModule is the atom Elixir uses for module name mod.
func elixirModule(mod string) atom { return atom("Elixir." + mod) }

// configFile renders a sys.config-format file setting each application's
// keys, with a comment header.
func configFile(header string, apps ...pair) string {
	var b strings.Builder
	for _, line := range strings.Split(header, "\n") {
		b.WriteString("%% " + line + "\n")
	}
	b.WriteString("[\n")
	for i, app := range apps {
		b.WriteString(" {" + app.key.erlang() + ",\n  [")
		for j, kv := range app.value.(proplist) {
			if j > 0 {
				b.WriteString(",\n   ")
			}
			fmt.Fprintf(&b, "{%s, %s}", kv.key.erlang(), kv.value.erlang())
		}
		b.WriteString("]}")
		if i < len(apps)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("].\n")
	return b.String()
}
