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
	// Immutable: applying a second, different cookie over it is refused
	// by the API server instead of rotating the cookie under running pods.
	if s.Immutable == nil || !*s.Immutable {
		t.Errorf("Secret immutable = %v, want true", s.Immutable)
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

// TestSecretTLSValidity: --validity below an hour would print
// certificates that expire before a rollout ends; refused, naming it.
func TestSecretTLSValidity(t *testing.T) {
	const secure = "../../../examples/secure/relgen.yaml"
	for _, v := range []string{"-5h", "0s", "1ns", "59m"} {
		code, out, errOut := run(t, "secret", "-f", secure, "--env", "staging", "--tls", "--validity", v)
		if code != 1 || out != "" || !strings.Contains(errOut, "want at least 1h0m0s") {
			t.Errorf("secret --tls --validity %s: exit %d, stdout %d bytes, stderr %q; want 1, nothing and the minimum", v, code, len(out), errOut)
		}
	}
}
