package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const needsConfig = `release: {name: shop, version: 1.0.0}
image: {repository: ghcr.io/acme/shop}
deployment:
  env:
    DB_PASSWORD: {secret: shop-db, key: password}
    DATABASE_URL: "ecto://shop:$(DB_PASSWORD)@db/shop"
  env_from: [{config_map: shop-settings, optional: true}]
environments:
  prod: {namespace: shop}
`

func TestCheckListsNeeds(t *testing.T) {
	file := filepath.Join(t.TempDir(), "relgen.yaml")
	if err := os.WriteFile(file, []byte(needsConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "check", "-f", file, "-o", "checklist")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `## prod

- [ ] ConfigMap shop/shop-settings (env_from; optional)
- [ ] Secret shop/shop-cookie key cookie (env RELEASE_COOKIE)
- [ ] Secret shop/shop-db key password (env DB_PASSWORD)
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("checklist (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "relgen: prod: needs Secret shop/shop-db key password (env DB_PASSWORD)\n") {
		t.Errorf("stderr does not list the Secret key:\n%s", errOut)
	}

	code, out, errOut = run(t, "check", "-f", file, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var results []checkResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || len(results[0].Needs) != 3 || results[0].Needs[2].Key != "password" {
		t.Errorf("json needs = %+v", results)
	}
}
