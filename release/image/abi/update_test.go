package abi

// testutil defines -update; importing it lets go test ./... -update run
// this package too.
import _ "github.com/relgen/relgen/internal/testutil"
