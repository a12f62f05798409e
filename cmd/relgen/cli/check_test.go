package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

const examples = "../../../examples"

func TestCheck(t *testing.T) {
	code, out, errOut := run(t, "check", "-f", seed, "--env", "prod",
		"--image", "registry.example.com/acme/myapp@sha256:"+strings.Repeat("ab", 32))
	if code != 0 || out != "" {
		t.Fatalf("relgen check: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "prod: bundle of 6 objects is consistent") {
		t.Errorf("stderr = %q", errOut)
	}
	code, out, errOut = run(t, "check", "-f", seed, "--env", "prod", "--set", "environments.prod.dns_name=myapp.default.svc.cluster.local")
	if code != 1 || out != "" || !strings.Contains(errOut, "environments.prod.dns_name") {
		t.Errorf("relgen check with a wrong dns_name: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
}

// TestCheckExamples: every example's bundles are consistent, so check
// exits 0 without a build record; the image warnings come once each on
// stderr. --strict makes them errors.
func TestCheckExamples(t *testing.T) {
	dirs, err := filepath.Glob(examples + "/*/relgen.yaml")
	if err != nil || len(dirs) < 5 {
		t.Fatalf("found %d examples: %v", len(dirs), err)
	}
	for _, cfg := range dirs {
		name := filepath.Base(filepath.Dir(cfg))
		t.Run(name, func(t *testing.T) {
			code, out, errOut := run(t, "check", "-f", cfg)
			if code != 0 || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			seen := map[string]bool{}
			var warnings, consistent int
			for _, l := range lines {
				if seen[l] {
					t.Errorf("printed twice: %s", l)
				}
				seen[l] = true
				switch {
				case strings.HasPrefix(l, "relgen: warning: "):
					warnings++
				case strings.Contains(l, " is consistent "):
					consistent++
				case strings.Contains(l, ": needs Secret ") || strings.Contains(l, ": needs ConfigMap "):
					// what must exist before the bundle is applied
				default:
					t.Errorf("unexpected line: %s", l)
				}
			}
			if consistent != 2 || warnings == 0 {
				t.Errorf("%d consistent environments and %d warnings, want 2 and some (no image is pinned):\n%s", consistent, warnings, errOut)
			}

			code, _, strictErr := run(t, "check", "-f", cfg, "--strict")
			if code != 1 || strings.Contains(strictErr, "warning:") {
				t.Errorf("--strict: exit %d, stderr:\n%s\nwant 1 with the warnings as errors", code, strictErr)
			}
			for l := range seen {
				if msg, ok := strings.CutPrefix(l, "relgen: warning: "); ok && !strings.Contains(strictErr, "relgen: "+msg+"\n") {
					t.Errorf("--strict does not report %q as an error:\n%s", msg, strictErr)
				}
			}
		})
	}
}

// TestCheckReportsOnce: a mistake in a base section is one problem, not
// one per environment.
func TestCheckReportsOnce(t *testing.T) {
	code, _, errOut := run(t, "check", "-f", seed, "--set", "deployment.port=80")
	if code != 1 || strings.Count(errOut, "deployment.port: 80: the container runs as non-root") != 1 {
		t.Errorf("exit %d, stderr:\n%s\nwant 1 and the problem once", code, errOut)
	}
}

func TestCheckEveryEnvironmentJSON(t *testing.T) {
	code, out, errOut := run(t, "check", "-f", examples+"/mix/relgen.yaml", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d, want 0: an unpinned image is a warning\n%s", code, errOut)
	}
	var results []checkResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if len(results) != 2 || results[0].Environment != "prod" || results[1].Environment != "staging" {
		t.Fatalf("results = %+v, want prod and staging", results)
	}
	if !results[0].OK || len(results[0].Warnings) != 1 || !strings.Contains(results[0].Warnings[0], "environments.prod.protected") {
		t.Errorf("prod = %+v, want ok with one warning about the unpinned image in a protected environment", results[0])
	}
	if !results[1].OK || results[1].Pinned || results[1].Objects != 9 || len(results[1].Warnings) != 1 {
		t.Errorf("staging = %+v, want ok, 9 objects, unpinned with a warning", results[1])
	}

	code, out, _ = run(t, "check", "-f", examples+"/mix/relgen.yaml", "-o", "json", "--strict")
	results = nil
	if err := json.Unmarshal([]byte(out), &results); err != nil || code != 1 {
		t.Fatalf("--strict: exit %d, %v", code, err)
	}
	if results[0].OK || len(results[0].Errors) != 1 || !strings.Contains(results[0].Errors[0], "environments.prod.protected") {
		t.Errorf("--strict prod = %+v, want one error about the unpinned image", results[0])
	}

	code, out, errOut = run(t, "check", "-f", examples+"/mix/relgen.yaml", "--output", "json", "--strict",
		"--image", "registry.example.com/acme/my_app@sha256:"+strings.Repeat("cd", 32))
	if code != 0 {
		t.Fatalf("with a pinned image: exit %d\n%s", code, errOut)
	}
	results = nil
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.OK || !r.Pinned || len(r.Warnings) != 0 {
			t.Errorf("%s = %+v, want ok and pinned", r.Environment, r)
		}
	}
}
