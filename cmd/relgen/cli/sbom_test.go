package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relgen/relgen/internal/testutil"
)

// TestSBOMCommand: relgen sbom on a release directory writes an SPDX 2.3
// document that validates, names the release's applications and gives the
// Hex ones their package URL from mix.lock.
func TestSBOMCommand(t *testing.T) {
	dir := t.TempDir()
	rel := filepath.Join(dir, "rel")
	for name, content := range map[string]string{
		"releases/start_erl.data":        "13.1.5 0.2.0\n",
		"releases/0.2.0/myapp.rel":       `{release,{"myapp","0.2.0"},{erts,"13.1.5"},[{kernel,"8.5.3"},{stdlib,"4.2"},{jason,"1.4.0"},{myapp,"0.2.0"}]}.`,
		"lib/myapp-0.2.0/ebin/myapp.app": `{application,myapp,[{description,"my app"},{vsn,"0.2.0"}]}.`,
	} {
		mustWrite(t, filepath.Join(rel, name), []byte(content), 0o644)
	}
	lock := filepath.Join(dir, "mix.lock")
	mustWrite(t, lock, []byte(`%{"jason": {:hex, :jason, "1.4.0", "abc", [:mix], [], "hexpm", "def"}}`), 0o644)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")

	code, stdout, stderr := run(t, "sbom", rel, "--mix-lock", lock)
	if code != 0 {
		t.Fatalf("relgen sbom: exit %d: %s", code, stderr)
	}
	testutil.ValidateJSON(t, "../../../release/image/sbom/testdata/spdx-schema-2.3.json", []byte(stdout))
	var doc struct {
		Name         string `json:"name"`
		CreationInfo struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
		Packages []struct {
			Name    string              `json:"name"`
			Version string              `json:"versionInfo"`
			Refs    []map[string]string `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Name != "myapp-0.2.0" || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" {
		t.Errorf("document %q created %s, want myapp-0.2.0 at SOURCE_DATE_EPOCH", doc.Name, doc.CreationInfo.Created)
	}
	var got []string
	for _, p := range doc.Packages {
		s := p.Name + "@" + p.Version
		for _, r := range p.Refs {
			s += " " + r["referenceLocator"]
		}
		got = append(got, s)
	}
	want := "myapp@0.2.0 erts@13.1.5 jason@1.4.0 pkg:hex/jason@1.4.0 kernel@8.5.3 myapp@0.2.0 stdlib@4.2"
	if strings.Join(got, " ") != want {
		t.Errorf("packages = %s, want %s", strings.Join(got, " "), want)
	}

	out := filepath.Join(dir, "out", "sbom.json")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "sbom", rel, "--mix-lock", lock, "-o", out); code != 0 {
		t.Fatalf("relgen sbom -o: exit %d: %s", code, stderr)
	}
	if data, err := os.ReadFile(out); err != nil || string(data) != stdout {
		t.Errorf("relgen sbom -o wrote %d bytes (%v), want what stdout had", len(data), err)
	}

	if code, stdout, stderr := run(t, "sbom", dir); code == 0 || stdout != "" || !strings.Contains(stderr, "releases/start_erl.data") {
		t.Errorf("relgen sbom on a directory that is no release: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
