package manifests

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/vmargs"
)

// secureConfig is config(kind) with the nodes on TLS (a Secret, or a
// cert-manager issuer when issuer is set) and without epmd.
func secureConfig(kind, issuer string) *release.Config {
	c := config(kind)
	c.Cluster.EPMD = ptr(false)
	c.Cluster.TLS = &release.TLSConfig{Secret: "myapp-tls"}
	if issuer != "" {
		c.Cluster.TLS = &release.TLSConfig{Issuer: issuer, Kind: release.ClusterIssuerKind}
	}
	return c
}

func generateSecure(t *testing.T, kind, issuer string) *Bundle {
	t.Helper()
	b, err := Generate(resolve(t, secureConfig(kind, issuer), "staging"), Options{Image: pinned})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return b
}

func TestEPMDLess(t *testing.T) {
	for _, kind := range []string{release.KindMix, release.KindDistillery} {
		t.Run(kind, func(t *testing.T) {
			c := config(kind)
			c.Cluster.EPMD = ptr(false)
			b, err := Generate(resolve(t, c, "staging"), Options{Image: pinned})
			if err != nil {
				t.Fatal(err)
			}
			var y bytes.Buffer
			if err := b.WriteYAML(&y); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(y.String(), "4369") || strings.Contains(y.String(), "name: "+PortEPMD) || strings.Contains(y.String(), "port: "+PortEPMD) {
				t.Errorf("the bundle still names epmd (4369):\n%s", y.String())
			}
			args, err := vmargs.Parse(b.VMArgs)
			if err != nil {
				t.Fatal(err)
			}
			for flag, want := range map[string]string{"-start_epmd": "false", "-erl_epmd_port": "9000"} {
				if got := vmargs.Find(args, flag); len(got) != 1 || !slices.Equal(got[0].Values, []string{want}) {
					t.Errorf("vm.args %s = %v, want one line with %s", flag, got, want)
				}
			}
			if !strings.Contains(b.RemoteVMArgs, "-dist_listen false") || !strings.Contains(b.RemoteVMArgs, "-erl_epmd_port 9000") {
				t.Errorf("remote.vm.args lacks -dist_listen false or the port:\n%s", b.RemoteVMArgs)
			}
			env := deploymentOf(b).Spec.Template.Spec.Containers[0].Env
			name, value := release.RemoteVMArgsEnv, "/etc/relgen/remote.vm.args"
			if kind == release.KindDistillery {
				name, value = release.ElixirERLOptionsEnv, "-args_file /etc/relgen/remote.vm.args"
			}
			if i := slices.IndexFunc(env, func(e corev1.EnvVar) bool { return e.Name == name }); i < 0 || env[i].Value != value {
				t.Errorf("pod env lacks %s=%s: %v", name, value, env)
			}
			if cm := objectOf[*corev1.ConfigMap](b); cm.Data[RemoteVMArgsKey] != b.RemoteVMArgs {
				t.Errorf("ConfigMap %s = %q, want remote.vm.args", RemoteVMArgsKey, cm.Data[RemoteVMArgsKey])
			}
			if got := DistributionMode(b.VMArgs); got != "tcp, no epmd" {
				t.Errorf("DistributionMode = %q", got)
			}
		})
	}
}

func TestDefaultModeUnchanged(t *testing.T) {
	b := generateEnv(t, "staging", pinned)
	if b.RemoteVMArgs != "" || b.SSLDist != "" || DistributionMode(b.VMArgs) != "tcp, epmd" {
		t.Errorf("default mode: remote.vm.args %q, ssl_dist %q, mode %q", b.RemoteVMArgs, b.SSLDist, DistributionMode(b.VMArgs))
	}
	ports := deploymentOf(b).Spec.Template.Spec.Containers[0].Ports
	if !slices.ContainsFunc(ports, func(p corev1.ContainerPort) bool { return p.Name == PortEPMD && p.ContainerPort == 4369 }) {
		t.Errorf("container ports %v lack epmd", ports)
	}
}

func TestTLSFromSecret(t *testing.T) {
	b := generateSecure(t, release.KindMix, "")
	args, _ := vmargs.Parse(b.VMArgs)
	if got := vmargs.Find(args, "-proto_dist"); len(got) != 1 || got[0].Values[0] != "inet_tls" {
		t.Errorf("-proto_dist = %v, want inet_tls", got)
	}
	if got := vmargs.Find(args, "-ssl_dist_optfile"); len(got) != 1 || got[0].Values[0] != "/etc/relgen/ssl_dist.conf" {
		t.Errorf("-ssl_dist_optfile = %v", got)
	}
	for _, want := range []string{"-proto_dist inet_tls", "-ssl_dist_optfile /etc/relgen/ssl_dist.conf", "-dist_listen false"} {
		if !strings.Contains(b.RemoteVMArgs, want) {
			t.Errorf("remote.vm.args lacks %q:\n%s", want, b.RemoteVMArgs)
		}
	}
	pod := deploymentOf(b).Spec.Template.Spec
	i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Secret != nil })
	if i < 0 || pod.Volumes[i].Secret.SecretName != "myapp-tls" || *pod.Volumes[i].Secret.DefaultMode != 0o440 {
		t.Fatalf("volumes %v: want the Secret myapp-tls, mode 0440", pod.Volumes)
	}
	m := pod.Containers[0].VolumeMounts
	if j := slices.IndexFunc(m, func(m corev1.VolumeMount) bool { return m.Name == pod.Volumes[i].Name }); j < 0 || m[j].MountPath != release.TLSDir || !m[j].ReadOnly {
		t.Errorf("mounts %v: want the Secret read-only at %s", m, release.TLSDir)
	}
	if containsKind(b, "Certificate") {
		t.Error("a Secret-based bundle has a Certificate")
	}
	if cm := objectOf[*corev1.ConfigMap](b); cm.Data[SSLDistKey] != b.SSLDist || b.SSLDist == "" {
		t.Error("the ConfigMap does not carry the ssl_dist_optfile")
	}
	consultOptfile(t, b.SSLDist, "myapp-service-headless.staging.svc.cluster.local")
}

// consultOptfile reads the optfile back with Erlang's own parser, when
// erl is installed, and checks the options that make distribution
// mutually verified.
func consultOptfile(t *testing.T, optfile, identity string) {
	t.Helper()
	erl, err := exec.LookPath("erl")
	if err != nil {
		t.Log("erl not installed: the optfile is not parsed back")
		return
	}
	file := filepath.Join(t.TempDir(), "ssl_dist.conf")
	if err := os.WriteFile(file, []byte(optfile), 0o644); err != nil {
		t.Fatal(err)
	}
	// The funs are called as OTP calls them: the server's verify_fun on a
	// peer certificate event, the client's match_fun on SAN entries.
	// OTP evaluates the file as expressions (funs allowed), as
	// file:script does; file:consult would refuse the funs.
	expr := `{ok, L} = file:script("` + file + `"),
S = proplists:get_value(server, L), C = proplists:get_value(client, L),
{VF, St} = proplists:get_value(verify_fun, S),
[{match_fun, MF}] = proplists:get_value(customize_hostname_check, C),
io:format("~p~n", [[
  [{K, proplists:get_value(K, S)} || K <- [cacertfile, certfile, keyfile, verify, fail_if_no_peer_cert, versions]],
  [{K, proplists:get_value(K, C)} || K <- [cacertfile, certfile, keyfile, verify, versions]],
  VF(x, {bad_cert, unknown_ca}, St),
  MF({ip, {10,0,0,1}}, {dNSName, "` + identity + `"}),
  MF({ip, {10,0,0,1}}, {dNSName, "other.example"})]]), halt().`
	cmd := exec.Command(erl, "-noshell", "-eval", expr)
	cmd.Dir = filepath.Dir(file) // a failing VM leaves erl_crash.dump there
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("erl could not read the optfile: %v\n%s\n%s", err, out, optfile)
	}
	want := `[[{cacertfile,"/etc/relgen-tls/ca.crt"},{certfile,"/etc/relgen-tls/tls.crt"},{keyfile,"/etc/relgen-tls/tls.key"},` +
		`{verify,verify_peer},{fail_if_no_peer_cert,true},{versions,['tlsv1.3']}],` +
		`[{cacertfile,"/etc/relgen-tls/ca.crt"},{certfile,"/etc/relgen-tls/tls.crt"},{keyfile,"/etc/relgen-tls/tls.key"},` +
		`{verify,verify_peer},{versions,['tlsv1.3']}],{fail,{bad_cert,unknown_ca}},true,false]`
	if got := strings.Join(strings.Fields(string(out)), ""); got != want {
		t.Errorf("erl reads the optfile as\n%s\nwant\n%s", got, want)
	}
}

func TestTLSFromIssuer(t *testing.T) {
	b := generateSecure(t, release.KindDistillery, "cluster-ca")
	var cert *unstructured.Unstructured
	for _, o := range b.Objects {
		if u, ok := o.(*unstructured.Unstructured); ok {
			cert = u
		}
	}
	if cert == nil {
		t.Fatal("no Certificate in the bundle")
	}
	var y bytes.Buffer
	if err := b.WriteYAML(&y); err != nil {
		t.Fatal(err)
	}
	objs, err := Decode(y.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		secret, names := certificateFields(u)
		issuer, _, _ := unstructured.NestedStringMap(u.Object, "spec", "issuerRef")
		want := []string{"myapp-service-headless.staging.svc.cluster.local", "*.myapp-service-headless.staging.svc.cluster.local"}
		if secret != "myapp-dist-tls" || !slices.Equal(names, want) || issuer["name"] != "cluster-ca" || issuer["kind"] != "ClusterIssuer" {
			t.Errorf("decoded Certificate: secret %s, dnsNames %v, issuerRef %v", secret, names, issuer)
		}
		if u.GetAPIVersion() != CertificateAPIVersion || u.GetNamespace() != "staging" {
			t.Errorf("Certificate %s in %s", u.GetAPIVersion(), u.GetNamespace())
		}
		return
	}
	t.Error("the Certificate did not survive Decode")
}

func TestDistributionChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		issuer string
		breaks func(b *Bundle)
		want   string
	}{
		{name: "certificates not mounted", breaks: func(b *Bundle) {
			c := &deploymentOf(b).Spec.Template.Spec.Containers[0]
			c.VolumeMounts = slices.DeleteFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == release.TLSDir })
		}, want: "cluster.tls: the pods do not mount the certificate Secret myapp-tls"},
		{name: "optfile trusts another CA", breaks: func(b *Bundle) {
			b.SSLDist = strings.ReplaceAll(b.SSLDist, `"/etc/relgen-tls/ca.crt"`, `"/etc/ssl/certs/ca-certificates.crt"`)
		}, want: `ssl_dist.conf's cacertfile is "/etc/ssl/certs/ca-certificates.crt", but the Secret myapp-tls puts its ca.crt at "/etc/relgen-tls/ca.crt"`},
		{name: "epmd still in the Service", breaks: func(b *Bundle) {
			for _, o := range b.Objects {
				if s, ok := o.(*corev1.Service); ok && s.Spec.ClusterIP == corev1.ClusterIPNone {
					s.Spec.Ports = append(s.Spec.Ports, servicePort(PortEPMD, 4369))
				}
			}
		}, want: "cluster.epmd: is false, but Service myapp-service-headless (port epmd) still opens epmd's port 4369"},
		{name: "epmd still in the NetworkPolicy", breaks: func(b *Bundle) {
			np := objectOf[*networkingv1.NetworkPolicy](b)
			p := intstr.FromInt32(4369)
			np.Spec.Ingress[0].Ports = append(np.Spec.Ingress[0].Ports, networkingv1.NetworkPolicyPort{Port: &p})
		}, want: "but NetworkPolicy myapp-distribution still opens epmd's port 4369"},
		{name: "remote shells in another mode", breaks: func(b *Bundle) {
			c := &deploymentOf(b).Spec.Template.Spec.Containers[0]
			c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == release.RemoteVMArgsEnv })
		}, want: "remote shells (bin/myapp remote, rpc) would not boot in distribution mode"},
		{name: "vm.args in another mode", breaks: func(b *Bundle) {
			b.VMArgs = strings.ReplaceAll(b.VMArgs, "-proto_dist inet_tls", "")
		}, want: `the nodes boot in distribution mode "tcp, no epmd", but cluster.epmd and cluster.tls ask for "tls, no epmd"`},
		{name: "Certificate fills another Secret", issuer: "ca", breaks: func(b *Bundle) {
			_ = unstructured.SetNestedField(b.certificate().Object, "elsewhere", "spec", "secretName")
		}, want: `the Certificate myapp-dist-tls writes Secret "elsewhere", but the pods mount "myapp-dist-tls"`},
		{name: "Certificate without the identity", issuer: "ca", breaks: func(b *Bundle) {
			_ = unstructured.SetNestedStringSlice(b.certificate().Object, []string{"myapp.example.com"}, "spec", "dnsNames")
		}, want: "but the nodes accept only peers that carry myapp-service-headless.staging.svc.cluster.local"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := generateSecure(t, release.KindMix, tc.issuer)
			tc.breaks(b)
			err := b.Check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestNewTLSSecret(t *testing.T) {
	spec := resolve(t, secureConfig(release.KindMix, ""), "staging")
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s, err := NewTLSSecret(spec, nil, now, 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sec := s.Secret
	if sec.Type != corev1.SecretTypeTLS || sec.Name != "myapp-tls" || sec.Namespace != "staging" {
		t.Errorf("Secret %s/%s of type %s", sec.Namespace, sec.Name, sec.Type)
	}
	if want := now.Add(90 * 24 * time.Hour); !s.NotAfter.Equal(want) {
		t.Errorf("NotAfter = %s, want %s", s.NotAfter, want)
	}
	if _, err := tls.X509KeyPair([]byte(sec.StringData["tls.crt"]), []byte(sec.StringData["tls.key"])); err != nil {
		t.Errorf("tls.crt and tls.key are no pair: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(sec.StringData["ca.crt"])) {
		t.Fatal("ca.crt holds no certificate")
	}
	block, _ := pem.Decode([]byte(sec.StringData["tls.crt"]))
	node, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	identity := "myapp-service-headless.staging.svc.cluster.local"
	// Every node is server and client of its peers, at the cluster
	// identity, and at a pod DNS name under it.
	for _, name := range []string{identity, "myapp-0." + identity} {
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if _, err := node.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("node certificate for %s, usage %v: %v", name, usage, err)
			}
		}
	}
	if _, err := node.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now.Add(91 * 24 * time.Hour)}); err == nil {
		t.Error("the node certificate is valid after its validity")
	}
	again, err := NewTLSSecret(spec, nil, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if again.Secret.StringData["ca.crt"] == sec.StringData["ca.crt"] {
		t.Error("two runs made the same CA")
	}

	for _, tc := range []struct {
		name string
		cfg  *release.Config
		want string
	}{
		{"no tls", config(release.KindMix), "cluster.tls: is not set"},
		{"issuer", secureConfig(release.KindMix, "ca"), "cluster.tls: issuer ca: cert-manager writes the Secret myapp-dist-tls"},
	} {
		if _, err := NewTLSSecret(resolve(t, tc.cfg, "staging"), nil, now, time.Hour); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCompareDistributionModes(t *testing.T) {
	plain := generateEnv(t, "staging", pinned)
	secure := generateSecure(t, release.KindDistillery, "")
	d, err := Compare(plain, secure)
	if err != nil {
		t.Fatal(err)
	}
	if !d.DistributionChanged || d.From.Distribution != "tcp, epmd" || d.To.Distribution != "tls, no epmd" {
		t.Errorf("Compare: changed %v, %q -> %q", d.DistributionChanged, d.From.Distribution, d.To.Distribution)
	}
	d, err = compareObjects(secure.Objects, secure.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([2]string{"tls, no epmd", "tls, no epmd"}, [2]string{d.From.Distribution, d.To.Distribution}); diff != "" || d.DistributionChanged {
		t.Errorf("compareObjects of one bundle: changed %v (-want +got)\n%s", d.DistributionChanged, diff)
	}
}

func containsKind(b *Bundle, kind string) bool {
	return slices.ContainsFunc(b.Objects, func(o Object) bool { return kindOf(o) == kind })
}
