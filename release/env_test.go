package release

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveEnvRefs(t *testing.T) {
	cfg := parse(t, "relgen.yaml", `
release: {name: shop}
image: {repository: ghcr.io/acme/shop}
deployment:
  env:
    PHX_SERVER: "true"
    POOL_SIZE: 10
    DATABASE_URL: "ecto://shop:$(DB_PASSWORD)@db/shop"
    DB_PASSWORD: {secret: shop-db, key: password}
    FEATURES: {config_map: shop-settings, key: features, optional: true}
  env_from:
    - {config_map: shop-settings, prefix: SHOP_}
environments:
  prod:
    env: {FEATURES: {secret: shop-flags, key: all}}
  staging:
    env_from: [{secret: staging-extra, optional: true}]
`)
	prod, err := cfg.Resolve("prod", fakeStrategies{})
	if err != nil {
		t.Fatal(err)
	}
	want := []EnvVar{
		{Name: "DB_PASSWORD", From: &EnvValue{Secret: "shop-db", Key: "password"}},
		// After the variable it refers to, which comes from a Secret.
		{Name: "DATABASE_URL", Value: "ecto://shop:$(DB_PASSWORD)@db/shop"},
		{Name: "FEATURES", From: &EnvValue{Secret: "shop-flags", Key: "all"}},
		{Name: "PHX_SERVER", Value: "true"},
		{Name: "POOL_SIZE", Value: "10"},
	}
	if diff := cmp.Diff(want, prod.Deployment.Env); diff != "" {
		t.Errorf("prod env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]EnvFrom{{ConfigMap: "shop-settings", Prefix: "SHOP_"}}, prod.Deployment.EnvFrom); diff != "" {
		t.Errorf("prod env_from (-want +got):\n%s", diff)
	}
	staging, err := cfg.Resolve("staging", fakeStrategies{})
	if err != nil {
		t.Fatal(err)
	}
	if got := staging.Deployment.Env[2].From; got == nil || *got != (EnvValue{ConfigMap: "shop-settings", Key: "features", Optional: true}) {
		t.Errorf("staging FEATURES = %+v, want the base section's ConfigMap key", got)
	}
	if diff := cmp.Diff([]EnvFrom{{Secret: "staging-extra", Optional: true}}, staging.Deployment.EnvFrom); diff != "" {
		t.Errorf("staging env_from replaces the base list (-want +got):\n%s", diff)
	}
	if got, want := prod.KeyPath("env.FEATURES"), "environments.prod.env.FEATURES"; got != want {
		t.Errorf("KeyPath(env.FEATURES) = %q, want %q", got, want)
	}
}

func TestResolveEnvRefErrors(t *testing.T) {
	cfg := parse(t, "relgen.yaml", `release: {name: shop}
image: {repository: ghcr.io/acme/shop}
deployment:
  env:
    A: {secret: shop-db}
    B: {key: url}
    C: {secret: x, config_map: y, key: k}
    D: {secret: Bad_Name, key: "a/b"}
    E: {value: v, secret: s, key: k}
    RELEASE_NODE: {secret: s, key: k}
  env_from: [{}, {secret: s, prefix: "1X"}]
environments: {prod: {}}
`)
	_, err := cfg.Resolve("prod", fakeStrategies{})
	var got []string
	for _, fe := range fieldErrorsOf(t, err) {
		got = append(got, fe.Error())
	}
	want := []string{
		"relgen.yaml:4: deployment.env: RELEASE_NODE is set by relgen; remove it",
		"relgen.yaml:5: deployment.env.A: Secret shop-db needs a key: {secret: shop-db, key: KEY}",
		`relgen.yaml:6: deployment.env.B: key "url" needs the secret or config_map that holds it: {secret: NAME, key: url}`,
		"relgen.yaml:7: deployment.env.C: set one of secret and config_map, not both",
		`relgen.yaml:8: deployment.env.D: Secret name "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		`relgen.yaml:8: deployment.env.D: key "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
		"relgen.yaml:9: deployment.env.E: a value and a Secret reference exclude each other",
		"relgen.yaml:11: deployment.env_from: entry 1: name a secret or a config_map",
		`relgen.yaml:11: deployment.env_from: entry 2: prefix "1X" must start a variable name ([A-Za-z_][A-Za-z0-9_]*)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestDecodeEnvValueScalars(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{true, "true"}, {10, "10"}, {int64(-3), "-3"}, {1000000.0, "1000000"}, {0.25, "0.25"}, {"x", "x"},
	} {
		got, err := DecodeEnvValue(reflect.TypeOf(tc.in), reflect.TypeOf(EnvValue{}), tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if m := got.(map[string]any); m["value"] != tc.want {
			t.Errorf("DecodeEnvValue(%v) = %v, want value %q", tc.in, m, tc.want)
		}
	}
	if _, err := DecodeEnvValue(reflect.TypeOf([]any{}), reflect.TypeOf(EnvValue{}), []any{1}); err == nil {
		t.Errorf("DecodeEnvValue(a list) = nil error")
	}
}
