package cli

import (
	"encoding/json"
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

func TestCheckEveryEnvironmentJSON(t *testing.T) {
	code, out, errOut := run(t, "check", "-f", "../../../examples/mix/relgen.yaml", "--output", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1: prod is protected and the image is not pinned\n%s", code, errOut)
	}
	var results []checkResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if len(results) != 2 || results[0].Environment != "prod" || results[1].Environment != "staging" {
		t.Fatalf("results = %+v, want prod and staging", results)
	}
	if results[0].OK || len(results[0].Errors) != 1 || !strings.Contains(results[0].Errors[0], "environments.prod.protected") {
		t.Errorf("prod = %+v, want one error about the unpinned image", results[0])
	}
	if !results[1].OK || results[1].Pinned || results[1].Objects != 9 || len(results[1].Warnings) != 1 {
		t.Errorf("staging = %+v, want ok, 9 objects, unpinned with a warning", results[1])
	}

	code, out, errOut = run(t, "check", "-f", "../../../examples/mix/relgen.yaml", "--output", "json",
		"--image", "registry.example.com/acme/my_app@sha256:"+strings.Repeat("cd", 32))
	if code != 0 {
		t.Fatalf("with a pinned image: exit %d\n%s", code, errOut)
	}
	results = nil
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.OK || !r.Pinned {
			t.Errorf("%s = %+v, want ok and pinned", r.Environment, r)
		}
	}
}

func TestSecretTLS(t *testing.T) {
	const secure = "../../../examples/secure/relgen.yaml"
	code, out, errOut := run(t, "secret", "-f", secure, "--env", "staging", "--tls", "--validity", "720h")
	if code != 0 {
		t.Fatalf("relgen secret --tls: exit %d: %s", code, errOut)
	}
	var s corev1.Secret
	if err := yaml.UnmarshalStrict([]byte(out), &s); err != nil {
		t.Fatalf("parsing the Secret: %v\n%s", err, out)
	}
	if s.Type != corev1.SecretTypeTLS || s.Name != "vault-dist-tls" || s.Namespace != "vault-staging" {
		t.Errorf("Secret %s/%s of type %s, want vault-staging/vault-dist-tls of type kubernetes.io/tls", s.Namespace, s.Name, s.Type)
	}
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if !strings.HasPrefix(s.StringData[k], "-----BEGIN ") {
			t.Errorf("%s is not PEM: %q", k, s.StringData[k])
		}
	}
	if !strings.Contains(errOut, "staging: CA and node certificate of Secret vault-dist-tls expire ") || strings.Contains(errOut, "BEGIN") {
		t.Errorf("stderr = %q, want the expiry and no key material", errOut)
	}
	if strings.Contains(out, "cookie") {
		t.Error("--tls printed the cookie too")
	}
	code, _, errOut = run(t, "secret", "-f", secure, "--env", "prod", "--tls")
	if code != 1 || !strings.Contains(errOut, "environments.prod.tls: issuer vault-ca: cert-manager writes the Secret vault-dist-tls") {
		t.Errorf("relgen secret --tls with an issuer: exit %d, stderr %s", code, errOut)
	}
}

// TestDistributionEnvOverride sets the nested distribution keys through
// RELGEN_* env vars, which viper only sees for keys it knows.
func TestDistributionEnvOverride(t *testing.T) {
	t.Setenv("RELGEN_CLUSTER_EPMD", "false")
	t.Setenv("RELGEN_ENVIRONMENTS_PROD_TLS_SECRET", "myapp-tls")
	code, out, errOut := run(t, "vmargs", "-f", seed, "--env", "prod")
	if code != 0 {
		t.Fatalf("relgen vmargs: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"-start_epmd false\n", "-erl_epmd_port 9000\n", "-proto_dist inet_tls\n", "-ssl_dist_optfile /etc/relgen/ssl_dist.conf\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("vm.args lacks %q:\n%s", want, out)
		}
	}
}
