package e2e

import (
	"os"
	"testing"
)

// TestMain lets the test binary double as the simulation's container
// runtime.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == podHelperArg {
		os.Exit(podHelper(os.Args[2:]))
	}
	os.Exit(m.Run())
}
