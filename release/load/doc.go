// Package load turns a relgen config file into a *release.Config: it reads
// YAML, TOML or JSON with viper, applies RELGEN_* environment variables and
// key=value overrides (precedence: override > environment > file >
// default), refuses unknown keys, bare-number durations and numbers an
// integer key cannot hold, and reports every problem as a located
// release.FieldError.
//
// It is the only package that imports viper, so release stays a plain
// schema. The command line and every test load configs through it. The
// process environment is a parameter (WithEnviron), never read here.
package load
