package cli

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const seed = "../../../examples/seed/relgen.yaml"

func TestSecret(t *testing.T) {
	code, out, errOut := run(t, "secret", "-f", seed, "--env", "staging")
	if code != 0 {
		t.Fatalf("relgen secret: exit %d: %s", code, errOut)
	}
	var s corev1.Secret
	if err := yaml.UnmarshalStrict([]byte(out), &s); err != nil {
		t.Fatalf("parsing the Secret: %v\n%s", err, out)
	}
	if s.Name != "myapp-cookie" || s.Namespace != "staging" {
		t.Errorf("Secret %s/%s, want staging/myapp-cookie (release.cookie.secret)", s.Namespace, s.Name)
	}
	cookie := s.StringData["cookie"]
	if len(cookie) != 52 || strings.Trim(cookie, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Errorf("cookie %q, want 52 base32 characters (256 random bits)", cookie)
	}
	_, again, _ := run(t, "secret", "-f", seed, "--env", "staging")
	if again == out {
		t.Errorf("two runs printed the same cookie")
	}
}

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
