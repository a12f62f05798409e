package release

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	yaml "go.yaml.in/yaml/v3"
)

// Source is a config file parsed as written: keys keep their case and, for
// YAML, their line numbers. Viper lower-cases every key, so loaders use a
// Source to reject unknown keys with a line number and to give map keys
// (env var names, label keys) back their case.
type Source struct {
	Origin Origin
	// Raw is the file's content as nested maps, keys as written. JSON
	// numbers are json.Number, so their text is kept.
	Raw map[string]any
	// Written maps the dotted key path (keys as written) of a YAML scalar
	// that is not a string to its text as written (010, true, ~), so a
	// loader can show what YAML made of it.
	Written map[string]string
}

// ParseSource parses data as YAML, JSON or TOML, chosen by file's
// extension (YAML when there is none).
func ParseSource(file string, data []byte) (*Source, error) {
	src := &Source{Origin: Origin{File: file, Lines: map[string]int{}}, Written: map[string]string{}}
	var err error
	switch strings.ToLower(filepath.Ext(file)) {
	case ".json":
		var top any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err = dec.Decode(&top); err != nil {
			return nil, jsonError(file, data, err)
		}
		if src.Raw, err = topLevel(file, top); err != nil {
			return nil, err
		}
		// JSON is YAML: read it once more for the keys' lines and to
		// refuse a key given twice, which encoding/json lets win silently.
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) == nil && len(doc.Content) > 0 {
			var dup map[string]any
			if err := doc.Decode(&dup); err != nil {
				return nil, yamlError(file, data, err)
			}
			recordLines(doc.Content[0], "", src)
		}
		return src, nil
	case ".toml":
		if err = toml.Unmarshal(data, &src.Raw); err != nil {
			var de *toml.DecodeError
			if errors.As(err, &de) {
				line, col := de.Position()
				return nil, &SyntaxError{File: file, Line: line, Column: col, Msg: de.Error(), Text: sourceLine(data, line)}
			}
		}
	default:
		var doc yaml.Node
		if err = yaml.Unmarshal(data, &doc); err == nil {
			if len(doc.Content) > 0 {
				if n := doc.Content[0]; n.Kind != yaml.MappingNode && (n.Kind != yaml.ScalarNode || n.ShortTag() != "!!null") {
					return nil, &FieldError{File: file, Line: n.Line, Msg: notSections}
				}
				recordLines(doc.Content[0], "", src)
			}
			err = doc.Decode(&src.Raw)
		}
		if err != nil {
			return nil, yamlError(file, data, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return src, nil
}

// notSections is the problem of a config file that is not a mapping.
const notSections = "the config must be a mapping of sections (release:, image:, cluster:, deployment:, environments:)"

// topLevel is the JSON document's object, refused when it is an array
// or a plain value.
func topLevel(file string, top any) (map[string]any, error) {
	switch t := top.(type) {
	case map[string]any:
		return t, nil
	case nil:
		return nil, nil
	}
	return nil, &FieldError{File: file, Line: 1, Msg: notSections}
}

// jsonError locates a JSON syntax error at its line and column.
func jsonError(file string, data []byte, err error) error {
	var se *json.SyntaxError
	offset := len(data)
	switch {
	case errors.As(err, &se):
		offset = int(se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = errors.New("the file ends inside an object or array")
	default:
		return fmt.Errorf("%s: %w", file, err)
	}
	before := data[:min(offset, len(data))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n') - 1
	return &SyntaxError{File: file, Line: line, Column: col, Msg: err.Error(), Text: sourceLine(data, line)}
}

// sourceLine is line n (from 1) of data, without its line break.
func sourceLine(data []byte, n int) string {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimRight(lines[n-1], "\r")
}

// yamlLine matches the location yaml puts in front of a decode problem.
var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlError names the file in yaml's errors. yaml joins the problems of
// one decode ("mapping key already defined") into a multi-line message;
// each becomes a FieldError at its line, so each prints as one line naming
// file and line. Syntax errors keep yaml's own wording: their line number
// is yaml's context mark, which can be a line early.
func yamlError(file string, data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		if se := locateSyntax(file, data); se != nil {
			return se
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		fe := &FieldError{File: file, Msg: msg}
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			if line, err := strconv.Atoi(m[1]); err == nil {
				fe.Line, fe.Msg = line, m[2]
			}
		}
		errs = append(errs, fe)
	}
	return errors.Join(errs...)
}

func recordLines(n *yaml.Node, prefix string, src *Source) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		path := joinPath(prefix, n.Content[i].Value)
		src.Origin.Lines[path] = n.Content[i].Line
		if v := n.Content[i+1]; v.Kind == yaml.ScalarNode && v.ShortTag() != "!!str" {
			src.Written[path] = v.Value
		}
		recordLines(n.Content[i+1], path, src)
	}
}

// EachText calls fn for every value the schema holds as text, in a map
// (env, labels, field_env, resources) or as a key of its own
// (release.version, unless null): its key path as written and its value
// as parsed, which may be a bool, a number or nil when the file did not
// quote it.
func (s *Source) EachText(fn func(path string, value any)) {
	var walk func(t reflect.Type, raw any, prefix string)
	walk = func(t reflect.Type, raw any, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		m, ok := raw.(map[string]any)
		if t == reflect.TypeOf(EnvValue{}) && !ok {
			fn(prefix, raw) // an env entry written as a plain value
			return
		}
		// A text key (release.version) written as something else; an
		// empty one (null) stays unset.
		if t.Kind() == reflect.String && raw != nil {
			fn(prefix, raw)
			return
		}
		if !ok {
			return
		}
		switch {
		case t.Kind() == reflect.Struct:
			fs := fields(t)
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if ft, ok := fs[strings.ToLower(k)]; ok {
					walk(ft, m[k], joinPath(prefix, k))
				}
			}
		case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.String:
			for _, k := range slices.Sorted(maps.Keys(m)) {
				fn(joinPath(prefix, k), m[k])
			}
		case t.Kind() == reflect.Map:
			for _, k := range slices.Sorted(maps.Keys(m)) {
				walk(t.Elem(), m[k], joinPath(prefix, k))
			}
		}
	}
	walk(reflect.TypeOf(Config{}), s.Raw, "")
}

// UnknownKeys reports every key the schema does not know, with a
// suggestion when a known key is close.
func (s *Source) UnknownKeys() error {
	var errs []error
	walkUnknown(reflect.TypeOf(Config{}), s.Raw, "", func(path, key string, known []string) {
		msg := "unknown key"
		if elsewhere := misplaced(key); elsewhere != "" {
			msg += fmt.Sprintf(" here (did you mean %s?)", elsewhere)
		} else if guess := closest(key, known); guess != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", guess)
		}
		errs = append(errs, s.Origin.errorf(path, "%s", msg))
	})
	return errors.Join(errs...)
}

// misplaced returns where in the schema a key named key lives, for a key
// written in the wrong section (env: at the top instead of under
// deployment:): a base section's path first, else an environment's.
func misplaced(key string) string {
	keys, mapKeys := schemaKeys([]string{"<env>"})
	for _, base := range []bool{true, false} {
		for _, p := range append(keys, mapKeys...) {
			if strings.HasPrefix(p, "environments.") != base && (p == key || strings.HasSuffix(p, "."+strings.ToLower(key))) {
				return p
			}
		}
	}
	return ""
}

// fields lists a struct type's keys, squashed embedded structs included.
func fields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		switch tag, kind := fieldKey(f); kind {
		case squashed:
			maps.Copy(out, fields(f.Type))
		case keyed:
			out[tag] = f.Type
		}
	}
	return out
}

// How a struct field appears in the file.
const (
	skipped  = iota // "-" or unexported: not in the file
	squashed        // ",squash": its keys are its parent's
	keyed           // under its tag
)

// fieldKey reads a field's key from its mapstructure tag.
func fieldKey(f reflect.StructField) (string, int) {
	tag := f.Tag.Get("mapstructure")
	switch {
	case tag == "-" || !f.IsExported():
		return "", skipped
	case strings.HasSuffix(tag, ",squash"):
		return "", squashed
	}
	return tag, keyed
}

func walkUnknown(t reflect.Type, raw any, prefix string, report func(path, key string, known []string)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return
	}
	join := func(k string) string { return joinPath(prefix, k) }
	switch t.Kind() {
	case reflect.Struct:
		fs := fields(t)
		known := slices.Sorted(maps.Keys(fs))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ft, ok := fs[strings.ToLower(k)]
			if !ok {
				report(join(k), k, known)
				continue
			}
			walkUnknown(ft, m[k], join(k), report)
		}
	case reflect.Map:
		for _, k := range slices.Sorted(maps.Keys(m)) {
			walkUnknown(t.Elem(), m[k], join(k), report)
		}
	}
}

// joinPath appends key k to a dotted key path.
func joinPath(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// RestoreCase gives the map keys of cfg (decoded by viper, lower-cased)
// the case they have in the file. Keys that differ only in case cannot
// both survive viper, so they are an error.
func (s *Source) RestoreCase(cfg *Config) error {
	var errs []error
	restore(reflect.ValueOf(cfg).Elem(), s.Raw, "", func(path, a, b string) {
		errs = append(errs, s.Origin.errorf(path, "keys %q and %q differ only in case; keep one", a, b))
	})
	return errors.Join(errs...)
}

func restore(v reflect.Value, raw any, prefix string, clash func(path, a, b string)) {
	if v.Kind() == reflect.Interface {
		// Free-form values (affinity, tolerations) keep every key as
		// written, at any depth.
		if raw != nil && v.CanSet() {
			v.Set(reflect.ValueOf(raw))
		}
		return
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	join := func(k string) string { return joinPath(prefix, k) }
	switch v.Kind() {
	case reflect.Struct:
		byTag := map[string]any{}
		for k, val := range m {
			byTag[strings.ToLower(k)] = val
		}
		t := v.Type()
		for i := range t.NumField() {
			switch tag, kind := fieldKey(t.Field(i)); kind {
			case squashed:
				restore(v.Field(i), raw, prefix, clash)
			case keyed:
				restore(v.Field(i), byTag[tag], join(tag), clash)
			}
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		original := map[string]string{} // lower-case key -> key as written
		for _, k := range slices.Sorted(maps.Keys(m)) {
			lk := strings.ToLower(k)
			if prev, dup := original[lk]; dup {
				clash(join(k), prev, k)
				continue
			}
			original[lk] = k
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			key := iter.Key().String()
			name := key
			if o, ok := original[key]; ok {
				name = o
			}
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(iter.Value())
			restore(val, m[name], join(name), clash)
			out.SetMapIndex(reflect.ValueOf(name).Convert(v.Type().Key()), val)
		}
		v.Set(out)
	}
}

// Closest returns the known key nearest to key, if it is close enough to
// be a likely typo, else "". The file's unknown keys and --set's share it.
func Closest(key string, known []string) string { return closest(key, known) }

// closest returns the known key nearest to key, if it is close enough to
// be a likely typo.
func closest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Keys lists the dotted paths of every scalar or list key the schema
// knows, with the environment sections expanded for envs. Map-valued keys
// (labels, env) are not listed: their keys are the user's (see MapKeys).
func Keys(envs []string) []string {
	keys, _ := schemaKeys(envs)
	return keys
}

// MapKeys lists the dotted paths of the map-valued keys whose entries are
// the user's own (deployment.env, environments.prod.labels, ...), with the
// environment sections expanded for envs.
func MapKeys(envs []string) []string {
	_, maps := schemaKeys(envs)
	return maps
}

// SetEntry sets the entry named entry (as given, dots and case kept) of
// the map-valued key mapPath (a MapKeys path) to value in s.Raw, so the
// entry keeps its case when RestoreCase runs. An entry that differs only
// in case is replaced.
func (s *Source) SetEntry(mapPath, entry, value string) {
	if s.Raw == nil {
		s.Raw = map[string]any{}
	}
	m := s.Raw
	for _, p := range strings.Split(mapPath, ".") {
		next, key := map[string]any(nil), p
		for k, v := range m {
			if strings.EqualFold(k, p) {
				key = k
				next, _ = v.(map[string]any)
			}
		}
		if next == nil {
			next = map[string]any{}
			m[key] = next
		}
		m = next
	}
	for k := range m {
		if strings.EqualFold(k, entry) {
			delete(m, k)
		}
	}
	m[entry] = value
}

func schemaKeys(envs []string) (keys, mapKeys []string) {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		fs := fields(t)
		for _, name := range slices.Sorted(maps.Keys(fs)) {
			ft := fs[name]
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			switch {
			case ft == reflect.TypeOf(Base{}):
				out = append(out, path) // a string, or a map of its own
			case ft.Kind() == reflect.Struct:
				walk(ft, path)
			case ft.Kind() == reflect.Map && ft.Elem() == reflect.TypeOf(Environment{}):
				for _, env := range envs {
					walk(ft.Elem(), path+"."+env)
				}
			case ft.Kind() == reflect.Map && (ft.Elem().Kind() == reflect.String || ft.Elem() == reflect.TypeOf(EnvValue{})):
				mapKeys = append(mapKeys, path)
			case ft.Kind() == reflect.Map, ft.Kind() == reflect.Interface:
				// Sections by name (jobs) and free-form values (affinity)
				// can only be set in the file.
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				// A list of sections (env_from) can only be set in the file.
			default:
				out = append(out, path)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	return out, mapKeys
}
