package load

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/relgen/relgen/release"
)

// durationWithUnit refuses bare numbers for durations: "interval: 5"
// would otherwise mean five nanoseconds.
func durationWithUnit(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(time.Duration(0)) {
		return data, nil
	}
	switch from.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return nil, fmt.Errorf("%v has no unit; write a duration such as 5s or 500ms", data)
	case reflect.String:
		if _, err := time.ParseDuration(data.(string)); err != nil {
			return nil, fmt.Errorf("%q is not a duration; write one such as 5s or 500ms", data)
		}
	}
	return data, nil
}

// shape refuses a value of the wrong kind in words a user reads, where
// mapstructure would say "cannot parse value as 'int32':
// strconv.ParseInt: invalid syntax" or "expected type 'map[string]string',
// got unconvertible type '[]interface {}'". It runs after the hooks that
// turn text into richer values.
func shape(from, to reflect.Type, data any) (any, error) {
	for to.Kind() == reflect.Pointer {
		to = to.Elem()
	}
	if data == nil {
		return data, nil
	}
	var want string
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if to == reflect.TypeOf(time.Duration(0)) {
			return data, nil
		}
		want = "a whole number"
		if s, ok := data.(string); ok {
			if _, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64); err == nil {
				return data, nil
			}
		}
	case reflect.Float32, reflect.Float64:
		want = "a number"
		if s, ok := data.(string); ok {
			if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return data, nil
			}
		}
	case reflect.Bool:
		want = "true or false"
		if s, ok := data.(string); ok {
			if _, err := strconv.ParseBool(s); err == nil {
				return data, nil
			}
		}
	case reflect.Map, reflect.Struct:
		want = "a mapping (key: value)"
	case reflect.Slice:
		want = "a list"
		if from.Kind() == reflect.String {
			return data, nil
		}
	default:
		return data, nil
	}
	if got := kindName(from); got != "" && !sameKind(from.Kind(), to.Kind()) {
		switch from.Kind() {
		case reflect.String:
			got = fmt.Sprintf("%q", data)
		case reflect.Map, reflect.Slice, reflect.Array:
		default:
			got = fmt.Sprint(data)
		}
		return nil, fmt.Errorf("want %s, got %s", want, got)
	}
	return data, nil
}

// kindName names a decoded YAML/JSON/TOML value's kind; "" for kinds
// mapstructure converts on its own.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a value"
	}
	return ""
}

// sameKind reports whether a value of kind from decodes into kind to
// without a loss the other hooks would not catch: numbers into numbers,
// maps into maps and structs, lists into lists.
func sameKind(from, to reflect.Kind) bool {
	num := func(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Float64 }
	switch {
	case num(from) && num(to), from == to:
		return true
	case from == reflect.Map && to == reflect.Struct:
		return true
	case (from == reflect.Slice || from == reflect.Array) && to == reflect.Slice:
		return true
	}
	return false
}

// wholeNumber refuses numbers an integer key cannot hold exactly, which
// mapstructure would otherwise truncate (2.5 → 2) or wrap around
// (4294975296 → 8000 for an int32).
func wholeNumber(from, to reflect.Type, data any) (any, error) {
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
	default:
		return data, nil
	}
	if to == reflect.TypeOf(time.Duration(0)) {
		return data, nil
	}
	v, target := reflect.ValueOf(data), reflect.New(to).Elem()
	switch from.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if target.OverflowInt(v.Int()) {
			return nil, fmt.Errorf("%v is out of range", data)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if v.Uint() > math.MaxInt64 || target.OverflowInt(int64(v.Uint())) {
			return nil, fmt.Errorf("%v is out of range", data)
		}
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f != math.Trunc(f) {
			return nil, fmt.Errorf("%v is not a whole number", data)
		}
		if f < math.MinInt64 || f >= math.MaxInt64 || target.OverflowInt(int64(f)) {
			return nil, fmt.Errorf("%v is out of range", data)
		}
	}
	return data, nil
}

// mapstructure reports "'deployment.replicas' cannot parse ...": turn each
// such line into a located FieldError.
var (
	decodeLine = regexp.MustCompile(`^\s*(?:\* )?'([^']*)' (.*)$`)
	mapIndex   = regexp.MustCompile(`\[([^\]]*)\]`)
)

func decodeError(o release.Origin, err error) error {
	var errs []error
	for _, line := range strings.Split(err.Error(), "\n") {
		m := decodeLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		// Map entries read environments[prod].replicas; make that a key path.
		path := mapIndex.ReplaceAllString(strings.ReplaceAll(m[1], keyDelimiter, "."), ".$1")
		path = strings.ToLower(path)
		msg := m[2]
		if i := strings.LastIndex(msg, "error decoding '"); i >= 0 {
			msg = msg[i:]
		}
		cfg := release.Config{Origin: o}
		errs = append(errs, cfg.Errorf(path, "%s", msg))
	}
	if len(errs) == 0 {
		return fmt.Errorf("%s: %w", o.File, err)
	}
	return errors.Join(errs...)
}
