// Package discovery turns one release.Topology into what a BEAM peer
// discovery library needs to find the other nodes: an Erlang config file
// applied at boot, container env, and any Kubernetes objects the strategy
// depends on. Every strategy reads the same Topology, so the DNS name it
// queries and the node basename it expects cannot drift from the headless
// Service and the vm.args.
package discovery
