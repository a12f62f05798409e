// Package examples holds relgen's example projects. Each directory has a
// relgen.yaml and the expected bundle of every environment, which the
// tests regenerate, compare, parse back, cross-check and validate against
// the Kubernetes schemas.
package examples
