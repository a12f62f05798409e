// Package discovery turns one release.Topology into what a BEAM peer
// discovery library needs to find the other nodes: an Erlang config file
// applied at boot (or env vars for config/runtime.exs), container env,
// and any Kubernetes objects the strategy depends on. Every strategy
// reads the same Topology, so the DNS name it queries and the node
// basename it expects cannot drift from the headless Service and the
// vm.args.
//
// Each strategy is one file holding all of its parts (Strategy): its
// name, the settings its Plan emits, its Check of units and names, whether
// it names nodes by hostname, and Verify, what the example tests check
// about a generated bundle. The registry in discovery.go is the only list
// of valid strategies; Registry hands it to release.Config.Resolve and
// Validate, which also reserve the env vars each plan sets.
package discovery
