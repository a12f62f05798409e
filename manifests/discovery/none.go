package discovery

import (
	"github.com/relgen/relgen/release"
)

// none clusters nothing: the nodes still get long names and the headless
// Service, so a user can connect them by hand or with their own library.
type none struct{}

// None is the name of the strategy that clusters nothing, the default.
const None = "none"

func (none) Name() string { return None }

func (none) NamedByHostname() bool { return false }

func (none) Check(release.Topology, func(string, string, ...any)) {}

func (none) Plan(t release.Topology) (Plan, error) {
	return Plan{Basename: t.Basename}, nil
}

// Verify checks that nothing was added for discovery: no config file, no
// objects beyond the bundle's own.
func (none) Verify(a Applied) error {
	if a.Config != "" {
		return errorf("discovery none mounts a discovery config file")
	}
	return nil
}

// Find: nothing to find; a bundle without discovery settings runs none.
func (none) Find(Delivered) (Use, bool) { return Use{}, false }
