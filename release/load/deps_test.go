package load

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestOnlyImporter: viper stays behind this package, so the rest of relgen
// sees a plain *release.Config (docs/architecture.md).
func TestOnlyImporter(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	const self = "github.com/relgen/relgen/release/load"
	out, err := exec.Command(goTool, "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/relgen/relgen/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var importers []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == "github.com/spf13/viper" || strings.HasPrefix(imp, "github.com/spf13/viper/") {
				importers = append(importers, f[0])
			}
		}
	}
	if !slices.Equal(importers, []string{self}) {
		t.Errorf("viper is imported by %v, want only %s", importers, self)
	}
}
