package cli

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/relgen/relgen/release"
)

// keyDelimiter replaces viper's "." so that label keys such as
// app.kubernetes.io/name stay one key.
const keyDelimiter = "::"

// loadConfig reads the config file with viper, applies RELGEN_* env vars
// and --set overrides, rejects unknown keys and returns the config with
// map keys in their original case.
func loadConfig(g *GlobalOptions) (*release.Config, error) {
	file := g.ConfigFile
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such config file (use -f to point at relgen.yaml, or relgen init to write one)", file)
		}
		return nil, fmt.Errorf("reading config: %w", err)
	}
	src, err := release.ParseSource(file, data)
	if err != nil {
		return nil, err
	}
	if err := src.UnknownKeys(); err != nil {
		return nil, err
	}

	v := viper.NewWithOptions(viper.KeyDelimiter(keyDelimiter))
	v.SetConfigType(configType(file))
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	v.SetEnvPrefix("RELGEN")
	v.SetEnvKeyReplacer(strings.NewReplacer(keyDelimiter, "_", "-", "_"))
	envs := environmentNames(src.Raw)
	known := release.Keys(envs)
	// Unmarshal only sees env vars for keys viper knows (spf13/viper#761),
	// so bind every key the schema has.
	for _, k := range known {
		if err := v.BindEnv(toViperKey(k)); err != nil {
			return nil, err
		}
	}
	for _, kv := range g.Set {
		key, value, ok := strings.Cut(kv, "=")
		if !ok || !slices.Contains(known, key) {
			return nil, fmt.Errorf("--set %s: want key=value with a config key such as deployment.replicas or environments.%s.replicas", kv, firstOr(envs, "prod"))
		}
		v.Set(toViperKey(key), value)
	}
	src.Origin.Overrides = overrides(known, g.Set)

	var cfg release.Config
	if err := v.UnmarshalExact(&cfg, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		durationWithUnit,
		wholeNumber,
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
	))); err != nil {
		return nil, decodeError(src.Origin, err)
	}
	cfg.Origin = src.Origin
	// viper drops a key whose value is empty ("prod:" with no overrides);
	// the environment still exists.
	for _, name := range envs {
		if _, ok := cfg.Environments[name]; !ok {
			if cfg.Environments == nil {
				cfg.Environments = map[string]release.Environment{}
			}
			cfg.Environments[name] = release.Environment{}
		}
	}
	if err := src.RestoreCase(&cfg); err != nil {
		return nil, err
	}
	base := filepath.Dir(file)
	for _, p := range []*string{&cfg.Release.Path, &cfg.Release.VMArgs} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	return &cfg, nil
}

func toViperKey(k string) string { return strings.ReplaceAll(k, ".", keyDelimiter) }

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

func configType(file string) string {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".json":
		return "json"
	case ".toml":
		return "toml"
	}
	return "yaml"
}

func environmentNames(raw map[string]any) []string {
	var out []string
	for k, v := range raw {
		if strings.EqualFold(k, "environments") {
			if m, ok := v.(map[string]any); ok {
				for name := range m {
					out = append(out, strings.ToLower(name))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

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

// overrides maps every key set by --set or a RELGEN_* env var to that
// source, so a bad value there is not blamed on the file.
func overrides(known, set []string) map[string]string {
	out := map[string]string{}
	for _, key := range known {
		name := "RELGEN_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
		if v, ok := os.LookupEnv(name); ok && v != "" {
			out[key] = name
		}
	}
	for _, kv := range set {
		if k, _, _ := strings.Cut(kv, "="); slices.Contains(known, k) {
			out[k] = "--set " + kv
		}
	}
	return out
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
