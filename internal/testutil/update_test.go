package testutil

import (
	"os"
	"os/exec"
	"regexp"
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

// TestMakeFuzzRunsEveryTarget: make fuzz (and so CI's short pass) runs
// every fuzz target of the repository.
func TestMakeFuzzRunsEveryTarget(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(goTool, "list", "-f", `{{.Dir}}|{{.ImportPath}}|{{join .TestGoFiles " "}}`, "github.com/relgen/relgen/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	fuzz := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 3)
		for _, file := range strings.Fields(f[2]) {
			src, err := os.ReadFile(f[0] + "/" + file)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range fuzz.FindAllStringSubmatch(string(src), -1) {
				target := "./" + strings.TrimPrefix(f[1], "github.com/relgen/relgen/") + ":" + m[1]
				if !strings.Contains(string(makefile), target) {
					t.Errorf("%s is not in the Makefile's FUZZ_TARGETS", target)
				}
			}
		}
	}
}
