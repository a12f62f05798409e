package discovery

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// setting is one discovery value derived from the topology. The same
// list renders the mounted config file, the compile-time snippet and the
// env-var route (cluster.discovery_config: env), so the three cannot
// drift apart.
type setting struct {
	// key is the library's config key; env the variable that carries the
	// value on the env route, empty for a fixed atom.
	key, env string
	text     string
	number   int64
	isNumber bool
	atom     string
}

func textSetting(key, env, v string) setting { return setting{key: key, env: env, text: v} }

func numberSetting(key, env string, v int64) setting {
	return setting{key: key, env: env, number: v, isNumber: true}
}

// atomSetting is a fixed option, the same in every environment, so it
// travels in the code on every route.
func atomSetting(key, v string) setting { return setting{key: key, atom: v} }

// term is the value in the Erlang config file: strings as binaries,
// because peerage calls String functions on them.
func (s setting) term() term {
	switch {
	case s.atom != "":
		return atom(s.atom)
	case s.isNumber:
		return intval(s.number)
	}
	return binary(s.text)
}

func (s setting) value() string {
	if s.isNumber {
		return strconv.FormatInt(s.number, 10)
	}
	return s.text
}

// literal is the value as an Elixir literal, for config/*.exs.
func (s setting) literal() string {
	if s.atom != "" {
		return ":" + s.atom
	}
	if s.isNumber {
		return s.value()
	}
	return strconv.Quote(s.text)
}

// read is the Elixir expression config/runtime.exs reads the value with.
func (s setting) read() string {
	if s.env == "" {
		return s.literal()
	}
	if s.isNumber {
		return fmt.Sprintf("String.to_integer(System.fetch_env!(%q))", s.env)
	}
	return fmt.Sprintf("System.fetch_env!(%q)", s.env)
}

// entries pairs each setting's key with its value for the config file.
func entries(settings []setting) proplist {
	out := make(proplist, len(settings))
	for i, s := range settings {
		out[i] = pair{atom(s.key), s.term()}
	}
	return out
}

// elixirLines renders "key: value" lines with value from render.
func elixirLines(settings []setting, render func(setting) string) []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.key + ": " + render(s)
	}
	return out
}

// envVars are the settings that vary as container env, in order.
func envVars(settings []setting) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, s := range settings {
		if s.env != "" {
			out = append(out, corev1.EnvVar{Name: s.env, Value: s.value()})
		}
	}
	return out
}

// runtimeExs wraps config (the body of config/runtime.exs) in a check of
// the first variable, so the release still boots where relgen did not
// set them (a laptop, CI).
func runtimeExs(settings []setting, config string) string {
	var names []string
	for _, e := range envVars(settings) {
		names = append(names, e.Name)
	}
	return fmt.Sprintf("# config/runtime.exs: relgen sets %s in the pods of every environment.\nif System.get_env(%q) do\n%s\nend\n",
		strings.Join(names, ", "), names[0], indent(strings.TrimRight(config, "\n"), "  "))
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// ViaEnv returns the plan for cluster.discovery_config: env: no config
// file; instead the settings travel as env vars, and Elixir is the
// config/runtime.exs code that reads them. Env vars read in runtime.exs
// win over every config/*.exs value, whereas keys of a -config file that
// config/*.exs also sets are put back to their build-time values by the
// runtime.exs config provider. A plan without a config file is returned
// as is.
func (p Plan) ViaEnv() Plan {
	if p.Config == "" || len(p.envRoute) == 0 {
		return p
	}
	p.Config, p.App = "", ""
	p.Env = append(envVars(p.envRoute), p.Env...)
	p.Elixir = p.runtimeExs
	p.envRoute, p.runtimeExs = nil, ""
	return p
}
