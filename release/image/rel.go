package image

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// relApp matches one application entry of a .rel file's list,
// {Name, "Vsn"} or {Name, "Vsn", Type}; the {erts, "Vsn"} tuple before
// the list matches too and is dropped by the caller.
var relApp = regexp.MustCompile(`\{\s*'?([a-z][A-Za-z0-9_@]*)'?\s*,\s*"[^"]*"`)

// Applications lists the OTP applications the release boots, read from
// releases/<version>/<name>.rel in the release directory dir, in the
// file's order.
func Applications(dir, name, version string) ([]string, error) {
	file := filepath.Join(dir, "releases", version, name+".rel")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the release's application list: %w", err)
	}
	var apps []string
	for _, m := range relApp.FindAllSubmatch(data, -1) {
		if n := string(m[1]); n != "erts" {
			apps = append(apps, n)
		}
	}
	if len(apps) == 0 {
		return nil, fmt.Errorf("%s lists no applications", file)
	}
	return apps, nil
}
