package load

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
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
	}
	return data, nil
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
