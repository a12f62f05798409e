package release

// Strategies is the list of peer discovery strategies an environment can
// choose with cluster.discovery. The strategies live in
// manifests/discovery, which this package may not import; its Registry
// implements Strategies, and callers hand it to Resolve and Validate. So
// release keeps no list of names, units or env vars of its own.
type Strategies interface {
	// Names lists every valid strategy name, in the order errors show
	// them.
	Names() []string
	// Lookup returns the strategy named name, or false when there is none.
	Lookup(name string) (Strategy, bool)
}

// Strategy is what Resolve and Validate need to know about one discovery
// strategy.
type Strategy interface {
	// NamedByHostname reports whether the strategy connects to nodes by
	// their pod's stable DNS name; Resolve then sets Topology.PodNameEnv,
	// which names nodes by hostname and makes the workload a StatefulSet.
	NamedByHostname() bool
	// Check adds the strategy's own problems with the resolved topology
	// (a unit the library counts in, a name it cannot use) through add,
	// by key name: "interval", not "cluster.interval".
	Check(t Topology, add func(key, format string, args ...any))
	// Env lists the container env vars the strategy sets in the pods for
	// topology t on route (DiscoveryConfigFile or DiscoveryConfigEnv);
	// user env may not set them.
	Env(t Topology, route string) []string
}
