package load

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/relgen/relgen/release"
)

// EnvPrefix starts every environment variable that overrides a key:
// RELGEN_ plus the upper-snake key path, e.g. RELGEN_DEPLOYMENT_REPLICAS.
const EnvPrefix = "RELGEN_"

// keyDelimiter replaces viper's "." so that label keys such as
// app.kubernetes.io/name stay one key.
const keyDelimiter = "::"

// ErrBadOverride is returned for an override that is not key=value with a
// key the config schema has.
var ErrBadOverride = errors.New("want key=value with a config key")

// Option changes how a config is loaded.
type Option func(*options)

type options struct {
	set     []string
	environ []string
}

// WithSet applies key=value overrides (relgen's --set), the highest
// precedence. A bad one is blamed on "--set key=value".
func WithSet(kvs []string) Option {
	return func(o *options) { o.set = append(o.set, kvs...) }
}

// WithEnviron gives the environment ("KEY=value" entries, as os.Environ
// returns) whose RELGEN_* variables override the file. Without it no
// variable is read.
func WithEnviron(env []string) Option {
	return func(o *options) { o.environ = env }
}

// File reads and loads the config at path. A missing file yields an error
// matching fs.ErrNotExist. Relative paths in the config are taken relative
// to the file's directory.
func File(path string, opts ...Option) (*release.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Bytes(path, data, opts...)
}

// Bytes loads a config whose text is data. name is the file name errors
// carry; its extension picks the format (.toml, .json, else YAML) and its
// directory anchors relative paths.
func Bytes(name string, data []byte, opts ...Option) (*release.Config, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// A UTF-8 byte order mark, as Windows editors write, is no content;
	// the JSON and TOML decoders would refuse it.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	src, err := release.ParseSource(name, data)
	if err != nil {
		return nil, err
	}
	if err := src.UnknownKeys(); err != nil {
		return nil, err
	}

	v := viper.NewWithOptions(viper.KeyDelimiter(keyDelimiter))
	v.SetConfigType(configType(name))
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	envs := environmentNames(src.Raw)
	known := release.Keys(envs)
	by, err := o.apply(v, src, known, envs)
	if err != nil {
		return nil, err
	}
	src.Origin.Overrides = by
	if err := keptAsWritten(src, by); err != nil {
		return nil, err
	}

	var cfg release.Config
	if err := v.UnmarshalExact(&cfg, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		release.DecodeEnvValue,
		durationWithUnit,
		wholeNumber,
		release.BaseHook,
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
		shape,
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
	base := filepath.Dir(name)
	for _, p := range []*string{&cfg.Release.Path, &cfg.Release.VMArgs, &cfg.Image.Base.Debs} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	for k, p := range cfg.Release.Paths {
		if p != "" && !filepath.IsAbs(p) {
			cfg.Release.Paths[k] = filepath.Join(base, p)
		}
	}
	return &cfg, nil
}

// apply sets RELGEN_* variables and then overrides on v, so an override
// beats the environment, and returns where each overridden key came from,
// so a bad value there is not blamed on the file. Empty variables count as
// unset.
func (o *options) apply(v *viper.Viper, src *release.Source, known, envs []string) (map[string]string, error) {
	by := map[string]string{}
	vars := map[string]string{}
	for _, kv := range o.environ {
		if k, val, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			vars[k] = val
		}
	}
	names := map[string]string{}
	for _, key := range known {
		name := EnvName(key)
		names[name] = key
		if val := vars[name]; val != "" {
			v.Set(toViperKey(key), val)
			by[key] = name
		}
	}
	mapKeys := release.MapKeys(envs)
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		if _, ok := names[name]; !ok && vars[name] != "" {
			errs = append(errs, unknownVariable(name, names, mapKeys, envs)...)
		}
	}
	for _, kv := range o.set {
		key, val, ok := strings.Cut(kv, "=")
		m, entry := mapEntry(key, mapKeys)
		switch {
		case ok && slices.Contains(known, key):
			v.Set(toViperKey(key), val)
		case ok && entry != "":
			// An entry of env, labels...: its name is the user's (dots
			// included), and keeps its case through RestoreCase.
			v.Set(toViperKey(m)+keyDelimiter+entry, val)
			src.SetEntry(m, entry, val)
		default:
			errs = append(errs, badOverride(kv, key, ok, known, mapKeys, envs))
			continue
		}
		by[key] = "--set " + kv
	}
	return by, errors.Join(errs...)
}

// unknownVariable refuses a RELGEN_* variable that looks meant for a
// config key but names none (a typo, an environment the file lacks, one
// entry of a map), which viper would silently ignore. Variables like
// nothing in the schema are left alone: they may be another tool's.
func unknownVariable(name string, names map[string]string, mapKeys, envs []string) []error {
	for _, m := range mapKeys {
		if strings.HasPrefix(name, EnvName(m)+"_") {
			return []error{fmt.Errorf("%s: a variable cannot set one entry of %s; use --set %s.NAME=value", name, m, m)}
		}
	}
	if strings.HasPrefix(name, EnvName("environments")+"_") {
		return []error{fmt.Errorf("%s: names no key of the environments the file has (%s)", name, strings.Join(envs, ", "))}
	}
	lower := make([]string, 0, len(names))
	for n := range names {
		lower = append(lower, strings.ToLower(n))
	}
	if guess := release.Closest(name, lower); guess != "" {
		return []error{fmt.Errorf("%s: no config key has this variable (did you mean %s?)", name, strings.ToUpper(guess))}
	}
	return nil
}

// mapEntry splits a key naming one entry of a map-valued key, such as
// deployment.env.LOG_LEVEL or deployment.labels.app.kubernetes.io/name,
// into the map's key path and the entry's name; entry is "" for other keys.
func mapEntry(key string, mapKeys []string) (mapPath, entry string) {
	for _, m := range mapKeys {
		if rest, ok := strings.CutPrefix(key, m+"."); ok && rest != "" {
			return m, rest
		}
	}
	return "", ""
}

// badOverride explains a --set that is not key=value with a known key,
// suggesting the closest key.
func badOverride(kv, key string, hasValue bool, known, mapKeys []string, envs []string) error {
	if !hasValue {
		return fmt.Errorf("--set %s: %w (no =)", kv, ErrBadOverride)
	}
	if rest, ok := strings.CutPrefix(key, "environments."); ok {
		env, _, _ := strings.Cut(rest, ".")
		if !slices.Contains(envs, env) {
			return fmt.Errorf("--set %s: the file has no environment %s (it has: %s); add it under environments first: %w",
				kv, env, strings.Join(envs, ", "), ErrBadOverride)
		}
	}
	if guess := release.Closest(key, known); guess != "" {
		return fmt.Errorf("--set %s: unknown key %s (did you mean %s?): %w", kv, key, guess, ErrBadOverride)
	}
	for _, m := range mapKeys {
		if key == m {
			return fmt.Errorf("--set %s: %s is a map; set one entry, e.g. --set %s.NAME=value: %w", kv, key, key, ErrBadOverride)
		}
	}
	return fmt.Errorf("--set %s: unknown key %s: %w such as deployment.replicas, environments.%s.replicas or deployment.env.NAME",
		kv, key, ErrBadOverride, firstOr(envs, "prod"))
}

// EnvName is the environment variable that overrides key:
// environments.prod.replicas → RELGEN_ENVIRONMENTS_PROD_REPLICAS.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
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
