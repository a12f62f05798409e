package e2e

import (
	"os"
	"testing"
)

// TestMain lets the test binary double as the simulation's container
// runtime and as a probe/DNS client inside the node's network namespace.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case podHelperArg:
			os.Exit(podHelper(os.Args[2:]))
		case netHelp:
			os.Exit(netHelper(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}
