package testutil

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestEveryPackageTakesUpdate: go test ./... -update passes -update to
// every test binary, and one that does not define it fails; so every
// package with tests imports this one.
func TestEveryPackageTakesUpdate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	const self = "github.com/relgen/relgen/internal/testutil"
	out, err := exec.Command(goTool, "list", "-f",
		`{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}{{end}}`,
		"github.com/relgen/relgen/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if f[0] != self && !slices.Contains(f[1:], self) {
			t.Errorf("%s has tests but does not import %s, so go test ./... -update fails there", f[0], self)
		}
	}
}
