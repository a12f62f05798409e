package examples_test

import (
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/vmargs"
)

var (
	optfilePath     = regexp.MustCompile(`\{(certfile|keyfile|cacertfile), "([^"]*)"\}`)
	optfileIdentity = regexp.MustCompile(`\{dns_id, "([^"]*)"\}`)
	optfileMatch    = regexp.MustCompile(`\{dNSName, "([^"]*)"\}`)
)

// distFlags reads the distribution flags from vm.args text: flag ->
// its values joined by a space.
func distFlags(t *testing.T, text string) map[string]string {
	t.Helper()
	args, err := vmargs.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range args {
		switch a.Flag {
		case "-proto_dist", "-ssl_dist_optfile", "-start_epmd", "-erl_epmd_port", "-dist_listen":
			out[a.Flag] = strings.Join(a.Values, " ")
		}
	}
	return out
}

// checkDistribution asserts what the bundle's distribution mode means
// once applied, read from the objects alone: without epmd nothing opens
// 4369 and every node dials the one port the pods, the headless Service
// and the NetworkPolicy open; with TLS the optfile reads the mounted
// Secret and checks the identity the certificate carries; remote shells
// boot with the nodes' flags.
func checkDistribution(t *testing.T, objs []manifests.Object, pod *corev1.PodTemplateSpec, cm *corev1.ConfigMap, headless *corev1.Service, fqdn string) {
	t.Helper()
	c := pod.Spec.Containers[0]
	flags := distFlags(t, cm.Data[manifests.VMArgsKey])
	epmdLess, tls := flags["-start_epmd"] == "false", flags["-proto_dist"] == "inet_tls"
	distPort := int32(0)
	for _, p := range c.Ports {
		if p.Name == manifests.PortDist {
			distPort = p.ContainerPort
		}
	}
	opens4369 := slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.ContainerPort == 4369 }) ||
		slices.ContainsFunc(headless.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == 4369 })
	if epmdLess == opens4369 {
		t.Errorf("epmd-less %v, but the pod or headless Service opens 4369: %v", epmdLess, opens4369)
	}
	if epmdLess {
		if flags["-erl_epmd_port"] != strconv.Itoa(int(distPort)) {
			t.Errorf("nodes dial peers on -erl_epmd_port %s, but the pods open dist port %d", flags["-erl_epmd_port"], distPort)
		}
		if !slices.ContainsFunc(headless.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == distPort }) {
			t.Errorf("headless Service %s does not publish dist port %d", headless.Name, distPort)
		}
		for _, o := range objs {
			if np, ok := o.(*networkingv1.NetworkPolicy); ok {
				for _, r := range np.Spec.Ingress {
					for _, p := range r.Ports {
						if p.Port != nil && (p.Port.String() == manifests.PortEPMD || p.Port.IntValue() == 4369) {
							t.Errorf("NetworkPolicy %s opens epmd, which does not run", np.Name)
						}
					}
				}
			}
		}
	}
	if !epmdLess && !tls {
		return
	}
	remote := ""
	for _, e := range c.Env {
		switch e.Name {
		case "RELEASE_REMOTE_VM_ARGS":
			remote = e.Value
		case "ELIXIR_ERL_OPTIONS":
			remote = strings.TrimPrefix(e.Value, "-args_file ")
		}
	}
	if path.Dir(remote) != "/etc/relgen" || cm.Data[path.Base(remote)] == "" {
		t.Fatalf("remote shells read vm.args %q, which the mounted ConfigMap does not hold", remote)
	}
	rflags := distFlags(t, cm.Data[path.Base(remote)])
	for flag, v := range flags {
		if rflags[flag] != v {
			t.Errorf("remote shells boot with %s %q, the nodes with %q", flag, rflags[flag], v)
		}
	}
	if epmdLess && rflags["-dist_listen"] != "false" {
		t.Errorf("a remote shell without epmd must not listen (it would take the nodes' one port): -dist_listen %q", rflags["-dist_listen"])
	}
	if tls {
		checkTLS(t, objs, pod, cm, flags["-ssl_dist_optfile"], fqdn)
	}
}

func checkTLS(t *testing.T, objs []manifests.Object, pod *corev1.PodTemplateSpec, cm *corev1.ConfigMap, optfile, fqdn string) {
	t.Helper()
	if path.Dir(optfile) != "/etc/relgen" {
		t.Fatalf("-ssl_dist_optfile %s is not in the mounted ConfigMap", optfile)
	}
	conf := cm.Data[path.Base(optfile)]
	for _, want := range []string{"{verify, verify_peer}", "{fail_if_no_peer_cert, true}", "{versions, ['tlsv1.3']}"} {
		if !strings.Contains(conf, want) {
			t.Errorf("the optfile lacks %s", want)
		}
	}
	for _, re := range []*regexp.Regexp{optfileIdentity, optfileMatch} {
		if m := re.FindStringSubmatch(conf); m == nil || m[1] != fqdn {
			t.Errorf("the optfile checks peers for %v, want the headless Service's name %s", m, fqdn)
		}
	}
	mounts := map[string]string{} // mount path -> Secret
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		for _, v := range pod.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil && m.ReadOnly {
				mounts[m.MountPath] = v.Secret.SecretName
			}
		}
	}
	secret := ""
	for _, m := range optfilePath.FindAllStringSubmatch(conf, -1) {
		dir, key := path.Split(m[2])
		s, ok := mounts[strings.TrimSuffix(dir, "/")]
		if !ok || (secret != "" && s != secret) || !slices.Contains([]string{"tls.crt", "tls.key", "ca.crt"}, key) {
			t.Errorf("the optfile's %s %s is not a key of the one read-only certificate Secret mount %v", m[1], m[2], mounts)
		}
		secret = s
	}
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok || kind(o) != "Certificate" {
			continue
		}
		name, _, _ := unstructured.NestedString(u.Object, "spec", "secretName")
		dns, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "dnsNames")
		usages, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "usages")
		issuer, _, _ := unstructured.NestedString(u.Object, "spec", "issuerRef", "kind")
		if name != secret || !slices.Contains(dns, fqdn) || !slices.Contains(usages, "server auth") || !slices.Contains(usages, "client auth") ||
			(issuer != "Issuer" && issuer != "ClusterIssuer") {
			t.Errorf("Certificate %s: secretName %s (pods mount %s), dnsNames %v (want %s), usages %v, issuer kind %s",
				u.GetName(), name, secret, dns, fqdn, usages, issuer)
		}
	}
}
