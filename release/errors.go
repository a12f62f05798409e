package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrUnknownEnvironment is returned by Resolve for an environment the
// config does not define.
var ErrUnknownEnvironment = errors.New("unknown environment")

// FieldError is a problem with one key of the config file. Its message
// reads "relgen.yaml:12: deployment.replicas: must be at least 1".
type FieldError struct {
	File string
	Line int
	// Path is the dotted key path, e.g. environments.prod.replicas.
	Path string
	Msg  string
	// Err is the cause (a sentinel, or an error from I/O such as
	// context.Canceled) that callers match with errors.Is, or nil.
	Err error
}

// Unwrap returns the cause the error carries, if any.
func (e *FieldError) Unwrap() error { return e.Err }

func (e *FieldError) Error() string {
	var loc strings.Builder
	if e.File != "" {
		loc.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&loc, ":%d", e.Line)
		}
		loc.WriteString(": ")
	}
	if e.Path != "" {
		loc.WriteString(e.Path)
		loc.WriteString(": ")
	}
	// A checker may hand over several problems joined by newlines; the
	// CLI prints one line per problem, so every line carries the location.
	var b strings.Builder
	for i, l := range strings.Split(e.Msg, "\n") {
		if i > 0 {
			b.WriteByte('\n')
			if l == "" {
				continue
			}
		}
		b.WriteString(loc.String())
		b.WriteString(l)
	}
	return b.String()
}

// Split returns the problems errors.Join put together in err, joins
// within joins flattened, or err alone. Every place that reports problems
// one per line splits through it.
func Split(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, Split(e)...)
	}
	return out
}

// fieldErrors collects FieldErrors located through an Origin.
type fieldErrors struct {
	origin Origin
	errs   []error
}

func (f *fieldErrors) add(path, format string, args ...any) {
	f.errs = append(f.errs, f.origin.errorf(path, format, args...))
}

func (f *fieldErrors) err() error { return errors.Join(f.errs...) }

// errorf builds a FieldError for path, located at the nearest line the
// origin knows: the key itself, else its closest parent. An error in args
// formatted with %w stays the FieldError's cause, so errors.Is still finds
// it (context.Canceled, a sentinel).
func (o Origin) errorf(path, format string, args ...any) *FieldError {
	e := fmt.Errorf(format, args...)
	fe := &FieldError{File: o.File, Line: o.line(path), Path: path, Msg: e.Error()}
	switch u := e.(type) {
	case interface{ Unwrap() error }:
		fe.Err = u.Unwrap()
	case interface{ Unwrap() []error }:
		fe.Err = errors.Join(u.Unwrap()...)
	}
	if by, ok := o.Overrides[path]; ok {
		fe.File, fe.Line = by, 0
	}
	return fe
}

// wrapf is errorf for an error that is the whole message.
func (o Origin) wrapf(path string, err error) *FieldError { return o.errorf(path, "%w", err) }

func (o Origin) line(path string) int {
	for p := path; p != ""; {
		if l, ok := o.Lines[p]; ok {
			return l
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// Errorf returns a FieldError for path located through the config's origin.
// Packages that check derived artefacts (vm.args, manifests) use it to blame
// the key a user has to change. An argument formatted with %w is kept as
// the FieldError's Err.
func (c *Config) Errorf(path, format string, args ...any) error {
	return c.Origin.errorf(path, format, args...)
}

// JSONValueError words encoding/json's "cannot unmarshal string into Go
// struct field DeploymentSpec.spec.replicas of type int32" as the field
// and the kinds of value wanted and given: "spec.replicas: want a number,
// got text". Other errors are returned as they are.
func JSONValueError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	want := map[reflect.Kind]string{
		reflect.String: "text", reflect.Bool: "true or false", reflect.Slice: "a list",
		reflect.Map: "a mapping", reflect.Struct: "a mapping", reflect.Pointer: "a mapping",
	}[te.Type.Kind()]
	if want == "" {
		want = "a number"
	}
	got := map[string]string{"string": "text", "number": "a number", "bool": "true/false", "array": "a list", "object": "a mapping"}[te.Value]
	if got == "" {
		got = te.Value
	}
	if te.Field == "" {
		return fmt.Errorf("want %s, got %s", want, got)
	}
	return fmt.Errorf("%s: want %s, got %s", te.Field, want, got)
}
