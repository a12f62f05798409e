// Package release holds relgen's config schema (relgen.yaml as written),
// its defaults and checks, and the per-environment Spec that every
// generator works from.
//
// A Config is what the user wrote; Source keeps the file as parsed, with
// key case and YAML line numbers, so loaders can reject unknown keys and
// errors can name file, line and key path (FieldError). Resolve merges one
// environment over the base sections, applies defaults and derives the
// Topology: the node basename, headless Service, namespace, DNS name and
// ports that vm.args, discovery config and manifests must agree on. They
// are derived here once and passed down, never rebuilt. Validate checks
// every environment and reports all problems at once.
//
// Values with a format are parsed once, into the Spec, and every consumer
// reads the result: image.user becomes a User (uid:gid, never root), so the
// image's file owner and the pod's securityContext cannot disagree.
// Loading (viper, RELGEN_*, --set) lives in release/load, which keeps this
// package a plain schema.
//
// Besides the topology a Spec carries what the pods need in production,
// each resolved once here: env from Secret and ConfigMap keys (EnvValue),
// the Ingress and the host variable derived from it, release command Jobs
// with their env, pull/identity/placement settings, and shutdown timing
// with the scheduler count a CPU limit implies.
//
// The package imports no other relgen package, so that every part of
// relgen can depend on it; a test enforces this.
package release
