package release

import (
	"fmt"
	"reflect"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation"
)

// EnvValue is one deployment.env entry: a plain value, or a key of a Secret
// or ConfigMap in the environment's namespace. In the file a plain value is
// written as a scalar (HOST: example.com) and a reference as a map
// (DATABASE_URL: {secret: shop-db, key: url}).
type EnvValue struct {
	// Value is the plain value; it may use $(VAR) of other entries.
	Value string `mapstructure:"value"`
	// Secret or ConfigMap names the object holding Key.
	Secret    string `mapstructure:"secret"`
	ConfigMap string `mapstructure:"config_map"`
	Key       string `mapstructure:"key"`
	// Optional lets the pod start without the object or key.
	Optional bool `mapstructure:"optional"`
}

// IsRef reports whether v refers to a Secret or ConfigMap key.
func (v EnvValue) IsRef() bool { return v.Secret != "" || v.ConfigMap != "" || v.Key != "" }

// Plain returns a plain EnvValue, for code and tests building configs.
func Plain(value string) EnvValue { return EnvValue{Value: value} }

// PlainEnv turns a map of plain values into deployment.env entries.
func PlainEnv(m map[string]string) map[string]EnvValue {
	if m == nil {
		return nil
	}
	out := make(map[string]EnvValue, len(m))
	for k, v := range m {
		out[k] = Plain(v)
	}
	return out
}

// EnvFrom is one env_from entry: every key of a Secret or ConfigMap
// becomes an env var (optionally with a prefix).
type EnvFrom struct {
	Secret    string `mapstructure:"secret"`
	ConfigMap string `mapstructure:"config_map"`
	Prefix    string `mapstructure:"prefix"`
	Optional  bool   `mapstructure:"optional"`
}

// DecodeEnvValue is a mapstructure decode hook: it lets a deployment.env
// entry be written as a scalar, which becomes EnvValue.Value as written
// (PHX_SERVER: true is "true", POOL: 10 is "10"), or as a map.
func DecodeEnvValue(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(EnvValue{}) || data == nil {
		return data, nil
	}
	switch from.Kind() {
	case reflect.Map, reflect.Struct:
		return data, nil
	case reflect.Slice, reflect.Array:
		return nil, fmt.Errorf("want a value or {secret|config_map: NAME, key: KEY}, got a list")
	}
	switch v := data.(type) {
	case float64:
		// JSON numbers: 1000000, not 1e+06.
		return map[string]any{"value": strconv.FormatFloat(v, 'f', -1, 64)}, nil
	case float32:
		return map[string]any{"value": strconv.FormatFloat(float64(v), 'f', -1, 32)}, nil
	}
	return map[string]any{"value": fmt.Sprint(data)}, nil
}

// checkEnvRefs validates the Secret and ConfigMap references of env and
// env_from. Problems with one env entry name that entry's key path.
func (s *Spec) checkEnvRefs(add func(name, format string, args ...any)) {
	d := s.Deployment
	for _, e := range d.Env {
		if e.From != nil {
			checkObjectRef(add, "env."+e.Name, *e.From)
		}
	}
	for i, f := range d.EnvFrom {
		what := fmt.Sprintf("entry %d", i+1)
		switch {
		case f.Secret != "" && f.ConfigMap != "":
			add("env_from", "%s: set one of secret and config_map, not both", what)
			continue
		case f.Secret == "" && f.ConfigMap == "":
			add("env_from", "%s: name a secret or a config_map", what)
			continue
		}
		name := f.Secret + f.ConfigMap
		for _, msg := range validation.IsDNS1123Subdomain(name) {
			add("env_from", "%s: %q: %s", what, name, msg)
		}
		if f.Prefix != "" && !envName.MatchString(f.Prefix) {
			add("env_from", "%s: prefix %q must start a variable name ([A-Za-z_][A-Za-z0-9_]*)", what, f.Prefix)
		}
	}
}

// checkObjectRef validates one Secret or ConfigMap key reference, set at
// the key named key.
func checkObjectRef(add func(name, format string, args ...any), key string, r EnvValue) {
	switch {
	case r.Value != "":
		add(key, "a value and a %s reference exclude each other", r.kind())
	case r.Secret != "" && r.ConfigMap != "":
		add(key, "set one of secret and config_map, not both")
	case r.Secret == "" && r.ConfigMap == "":
		add(key, "key %q needs the secret or config_map that holds it: {secret: NAME, key: %s}", r.Key, r.Key)
	case r.Key == "":
		add(key, "%s %s needs a key: {%s: %s, key: KEY}", r.kind(), r.Name(), r.field(), r.Name())
	}
	if n := r.Name(); n != "" {
		for _, msg := range validation.IsDNS1123Subdomain(n) {
			add(key, "%s name %q: %s", r.kind(), n, msg)
		}
	}
	if r.Key != "" {
		for _, msg := range validation.IsConfigMapKey(r.Key) {
			add(key, "key %q: %s", r.Key, msg)
		}
	}
}

// Name is the referenced object's name.
func (v EnvValue) Name() string {
	if v.Secret != "" {
		return v.Secret
	}
	return v.ConfigMap
}

func (v EnvValue) kind() string {
	if v.ConfigMap != "" && v.Secret == "" {
		return "ConfigMap"
	}
	return "Secret"
}

func (v EnvValue) field() string {
	if v.ConfigMap != "" && v.Secret == "" {
		return "config_map"
	}
	return "secret"
}

// envMap merges override over base key by key, like strMap.
func (m *merger) envMap(name, basePath string, base, override map[string]EnvValue) map[string]EnvValue {
	m.paths[name] = basePath
	if len(override) > 0 {
		m.paths[name] = m.envPath(name)
	}
	if len(base) == 0 && len(override) == 0 {
		return nil
	}
	out := map[string]EnvValue{}
	for k, v := range base {
		out[k] = v
		m.paths[name+"."+k] = basePath + "." + k
	}
	for k, v := range override {
		out[k] = v
		m.paths[name+"."+k] = m.envPath(name) + "." + k
	}
	return out
}

// withRefs orders env (plain values first resolved by orderEnv, with
// references as entries that refer to nothing) and attaches each entry's
// source.
func withRefs(env map[string]EnvValue) ([]EnvVar, error) {
	plain := map[string]string{}
	for k, v := range env {
		plain[k] = v.Value
		if v.IsRef() {
			plain[k] = ""
		}
	}
	ordered, err := orderEnv(plain)
	if err != nil {
		ordered = sortedEnv(plain)
	}
	for i, e := range ordered {
		if v := env[e.Name]; v.IsRef() {
			ref := v
			ordered[i].From = &ref
		}
	}
	return ordered, err
}

// nilIfEmpty lets pick treat an empty list as unset.
func nilIfEmpty[T any](s []T) *[]T {
	if len(s) == 0 {
		return nil
	}
	return &s
}
