package scaffold

import (
	"regexp"
	"slices"
	"strings"
)

// Mix is what ParseMix reads from a mix.exs.
type Mix struct {
	// App is the OTP application (app: :name); empty in an umbrella root.
	App string
	// Version is the project version (version: "1.2.3"), also when given
	// through a module attribute (version: @version).
	Version string
	// HasReleases says the project keyword list has a releases: key.
	HasReleases bool
	// Releases are the names of a literal releases: [name: ...] list, in
	// order; empty when a function builds the list.
	Releases []string
	// Umbrella is set by apps_path:.
	Umbrella bool
	// Deps are the atoms that open a tuple ({:name, ...}) anywhere in the
	// file: the dependencies, give or take an odd {:ok, ...}.
	Deps []string
}

var (
	appKey      = regexp.MustCompile(`\bapp:\s*(?::([a-z_][A-Za-z0-9_]*)|@([a-z_][A-Za-z0-9_]*))`)
	versionKey  = regexp.MustCompile(`\bversion:\s*(?:"([^"\n]*)"|@([a-z_][A-Za-z0-9_]*))`)
	releasesKey = regexp.MustCompile(`\breleases:\s*(\[)?`)
	appsPathKey = regexp.MustCompile(`\bapps_path:`)
	depTuple    = regexp.MustCompile(`\{\s*:([a-z_][A-Za-z0-9_]*)\s*,`)
	// projectDef starts the project keyword list; the next def ends it.
	projectDef = regexp.MustCompile(`\bdef\s+project\b`)
	nextDef    = regexp.MustCompile(`\n\s*defp?\s`)
	// distilleryRelease is `release :name do` in rel/config.exs.
	distilleryRelease = regexp.MustCompile(`(?m)^\s*release\s+:([a-z_][A-Za-z0-9_]*)`)
	// version strings relgen can put in a YAML string and an image tag
	// as they are.
	plainVersion = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+_-]*$`)
)

// ParseMix reads the project keyword list of a mix.exs with a handful of
// regular expressions over the source without comments. It never fails:
// what it cannot find stays empty.
func ParseMix(src string) Mix {
	src = stripComments(src)
	project := src
	if loc := projectDef.FindStringIndex(src); loc != nil {
		project = src[loc[1]:]
		if end := nextDef.FindStringIndex(project); end != nil {
			project = project[:end[0]]
		}
	}
	var m Mix
	if g := appKey.FindStringSubmatch(project); g != nil {
		m.App = attributeOr(src, g[1], g[2])
	}
	if g := versionKey.FindStringSubmatch(project); g != nil {
		m.Version = attributeOr(src, g[1], g[2])
	}
	if loc := releasesKey.FindStringSubmatchIndex(project); loc != nil {
		m.HasReleases = true
		if loc[2] >= 0 {
			m.Releases = keywordKeys(project[loc[3]:])
		}
	}
	m.Umbrella = appsPathKey.MatchString(project)
	for _, g := range depTuple.FindAllStringSubmatch(src, -1) {
		if !slices.Contains(m.Deps, g[1]) {
			m.Deps = append(m.Deps, g[1])
		}
	}
	return m
}

// attributeOr returns literal, or the value of the module attribute
// @attr (`@version "1.2.3"`, `@app :my_app`) when literal is empty.
func attributeOr(src, literal, attr string) string {
	if attr == "" {
		return literal
	}
	re := regexp.MustCompile(`(?m)^\s*@` + regexp.QuoteMeta(attr) + `\s+(?::([a-z_][A-Za-z0-9_]*)|"([^"\n]*)")`)
	if g := re.FindStringSubmatch(src); g != nil {
		return g[1] + g[2]
	}
	return ""
}

// keywordKeys returns the keys of the keyword list whose body starts at
// s (just after its '['), skipping nested lists, tuples and strings.
func keywordKeys(s string) []string {
	var keys []string
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			i = stringEnd(s, i)
		case c == '[' || c == '(' || c == '{':
			depth++
		case c == ']' || c == ')' || c == '}':
			if depth == 0 {
				return keys
			}
			depth--
		case depth == 0 && (c == '_' || c >= 'a' && c <= 'z') && (i == 0 || !identByte(s[i-1]) && s[i-1] != ':'):
			j := i
			for j < len(s) && identByte(s[j]) {
				j++
			}
			if j < len(s) && s[j] == ':' && (j+1 == len(s) || s[j+1] != ':') {
				keys = append(keys, s[i:j])
			}
			i = j - 1
		}
	}
	return keys
}

func identByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// stringEnd returns the index of the quote closing the string that opens
// at s[i], or the last index when it is not closed.
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(s) - 1
}

// stripComments removes # comments, leaving strings ("#{x}" included)
// and character literals (?#) alone.
func stripComments(src string) string {
	var b strings.Builder
	b.Grow(len(src))
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '"':
			end := stringEnd(src, i)
			b.WriteString(src[i : end+1])
			i = end
			continue
		case c == '?' && i+1 < len(src):
			b.WriteString(src[i : i+2])
			i++
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				b.WriteByte('\n')
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
