package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/relgen/relgen/internal/testutil"
)

// run executes relgen with args and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// errorCases are the inputs under testdata/errors that have no case
// file, because the missing file is the case.
var errorCases = []string{"missing-file"}

// unlocated cases name the file but cannot name a line: there is no file.
var unlocated = map[string]bool{"missing-file": true}

// TestErrorMessages runs relgen manifests --env prod on each bad config
// under testdata/errors and compares stderr with NAME.golden (rewrite with
// go test ./cmd/relgen/cli -update).
func TestErrorMessages(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("found %d cases under testdata/errors, want at least 15", len(files))
	}
	names := append([]string(nil), errorCases...)
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			// Forward slashes, so the golden files are the same everywhere.
			file := "testdata/errors/" + name + ".yaml"
			if _, err := os.Stat(file); (err == nil) == (name == "missing-file") {
				t.Fatalf("stat %s: %v", file, err)
			}
			code, stdout, stderr := run(t, "manifests", "-f", file, "--env", "prod")
			if code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			testutil.Golden(t, "testdata/errors/"+name+".golden", []byte(stderr))

			located := regexp.MustCompile(`^relgen: ` + regexp.QuoteMeta(file) + `:[1-9][0-9]*(:[1-9][0-9]*)?: \S`)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			for _, l := range lines {
				switch {
				case unlocated[name]:
					if !strings.HasPrefix(l, "relgen: "+file+": ") {
						t.Errorf("stderr line %q does not start with relgen: %s: ", l, file)
					}
				case !located.MatchString(l):
					t.Errorf("stderr line %q does not start with relgen: %s:LINE[:COLUMN]: ", l, file)
				}
			}
			if name == "several" && len(lines) < 7 {
				t.Errorf("several problems: got %d lines, want every problem reported:\n%s", len(lines), stderr)
			}
		})
	}
}
