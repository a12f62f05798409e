package manifests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/relgen/relgen/internal/testutil"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

// TestCheckBundleFiles runs check --bundle's checks on hand-written and
// overlaid bundles under testdata/check; each case's findings are golden
// (testdata/check/<case>.golden), and the test also asserts what each
// case must find.
func TestCheckBundleFiles(t *testing.T) {
	want := map[string][]string{
		"dns-cluster-good": nil,
		"dnssrv-good":      nil,
		"kustomize-namespace": {
			`ConfigMap myapp-runtime: data[discovery.config]: {peerage, dns_name}: peerage queries "myapp-service-headless.default.svc.cluster.local"`,
			`"myapp-service-headless.team-a.svc.cluster.local"`,
		},
		"libcluster-api-no-rbac": {
			`{libcluster, topologies, k8s, config, kubernetes_namespace}: libcluster-kubernetes lists pods in namespace "default", but the pods run in "chat"`,
			"automountServiceAccountToken: false",
			"ServiceAccount chat, which the bundle lacks",
			"lets it list endpoints in namespace chat",
			`kubernetes_selector}: libcluster-kubernetes lists Endpoints with selector "app=chat"`,
			"containers[0].image: image ghcr.io/acme/chat:1.2.0 is not pinned by digest",
		},
		"names-and-cookies": {
			"env[0] (RELEASE_NODE): RELEASE_DISTRIBUTION is not set, so mix's start script names the node",
			"RELEASE_NODE refers to $(POD_IP), which is not defined before it",
			"Service web: spec.selector: map[app:wbe] matches no pods",
			"RELEASE_NODE refers to $(HOSTNAME)",
			"the cookie comes from Secret worker-cookie key cookie, but Deployment web: spec.template.spec.containers[0].env[1] (RELEASE_COOKIE) takes it from Secret web-cookie",
		},
		"network-policy": {
			"NetworkPolicy default-deny, NetworkPolicy api-http: the ingress rules of the policies that select StatefulSet api's pods do not admit epmd (TCP 4369)",
			"NetworkPolicy default-deny: the egress rules",
			"vm.args fixes no distribution port",
		},
		"dnssrv-deployment": {
			`libcluster-dnssrv connects to the pods' DNS names (SRV targets), but the node's host is "<pod-IP>"`,
		},
		"distillery": {
			"ConfigMap billing-vmargs: data[vm.args]: line 2: ${POD_IP} has no source in the pod env",
			"ConfigMap billing-vmargs: data[vm.args]: line 3: -setcookie: the cookie is written into vm.args",
			"do not admit the distribution port (TCP 9100)",
			`warning: Deployment billing: spec.template.spec.containers[0].env: HOME "" is not on a writable volume`,
			`problem: ConfigMap billing-vmargs: data[discovery.config]: {peerage, dns_name}: peerage: dns_name is not a binary; Peerage.Via.Dns passes it to String.to_charlist`,
			`problem: ConfigMap billing-vmargs: data[discovery.config]: {peerage, interval}: peerage: interval must be a whole number of seconds`,
		},
		"typo": {`document 1: Deployment web: `, `unknown field "spec.template.spec.contianers"`, "document 2: not a Kubernetes object"},
		"crlf-dns-cluster": {
			"warning: Service shop-headless: spec.publishNotReadyAddresses: not true, so cluster DNS leaves out pods that are not ready",
			`warning: Deployment shop: spec.template.spec.containers[0].env: RELEASE_TMP "" is not on a writable volume and the root file system is read-only`,
		},
		"one-cause-once": {
			`problem: Service shop-headless: spec.selector: dns_cluster queries "shop-headless.shop.svc.cluster.local", but this Service selects map[app:shpo]`,
			"problem: Deployment shop: spec.template.spec.containers[0].env[1] (RELEASE_NODE): RELEASE_NODE refers to $(POD_IP), which is not defined before it",
		},
		"distillery-replace-os-vars": {
			"problem: ConfigMap billing-vmargs: data[vm.args]: line 1: ${MY_POD_IP}: Distillery substitutes ${VAR} in vm.args only when REPLACE_OS_VARS is set",
		},
		"distillery-read-only-root": {
			`problem: Deployment billing: spec.template.spec.containers[0].env: RELEASE_MUTABLE_DIR "" is not on a writable volume, but the root file system is read-only`,
		},
		"envfrom-cookie": nil,
		"dns-cluster-hostnames": {
			"problem: StatefulSet shop: spec.template.spec.containers[0].env[3] (RELEASE_NODE): dns_cluster connects to shop@<pod IP> from DNS A records, but the node's host is the pod's DNS name",
		},
		"libcluster-api-endpoints": {
			"warning: ConfigMap chat-config: data[sys.config]: {libcluster, topologies, k8s, config, polling_interval}: libcluster-kubernetes: polling_interval 5 is in milliseconds: the library polls 200 times a second; write 5000 for 5 seconds",
		},
		"port-names": {
			`problem: Service shop: spec.ports[0].targetPort: "http" is not a port name of Deployment shop's containers`,
			`problem: Deployment shop: spec.template.spec.containers[0].readinessProbe: port "htp" is not a port name of the container, so the probe always fails`,
		},
	}
	// Cases whose every finding is listed above: each problem once.
	exact := []string{"one-cause-once", "port-names", "dns-cluster-hostnames", "distillery-replace-os-vars", "distillery-read-only-root", "crlf-dns-cluster"}
	files, err := filepath.Glob("testdata/check/*.yaml")
	if err != nil || len(files) != len(want) {
		t.Fatalf("testdata/check holds %d cases, the test knows %d", len(files), len(want))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			rep, err := CheckBundle(bytes.NewReader(data), CheckOptions{}, nil)
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
			} else {
				for _, p := range rep.Problems {
					fmt.Fprintf(&out, "problem: %v\n", p)
				}
				for _, w := range rep.Warnings {
					fmt.Fprintf(&out, "warning: %v\n", w)
				}
			}
			testutil.Golden(t, strings.TrimSuffix(file, ".yaml")+".golden", out.Bytes())
			problems := slices.ContainsFunc(want[name], func(w string) bool { return !strings.HasPrefix(w, "warning: ") })
			if !problems && (err != nil || len(rep.Problems) > 0) {
				t.Errorf("CheckBundle(%s) found\n%s want no problems", file, out.String())
			}
			if problems && err == nil && len(rep.Problems) == 0 {
				t.Errorf("CheckBundle(%s) found no problems", file)
			}
			if n := strings.Count(out.String(), "\n"); slices.Contains(exact, name) && n != len(want[name]) {
				t.Errorf("CheckBundle(%s) =\n%s%d findings, want %d", file, out.String(), n, len(want[name]))
			}
			for _, w := range want[name] {
				if !strings.Contains(out.String(), w) {
					t.Errorf("CheckBundle(%s) =\n%s want it to contain %q", file, out.String(), w)
				}
			}
		})
	}
}

// TestEveryStrategyReadsBack generates a bundle for every strategy, both
// release kinds and both discovery routes, writes it as YAML, reads it
// back as check --bundle does, and expects CheckObjects to find exactly
// that strategy and no problem; then moves the namespace as an overlay
// would and expects the query (or, for the API strategy, the namespace it
// lists) to be refused.
func TestEveryStrategyReadsBack(t *testing.T) {
	for _, kind := range []string{release.KindMix, release.KindDistillery} {
		for _, route := range []string{release.DiscoveryConfigFile, release.DiscoveryConfigEnv} {
			for _, name := range discovery.Names() {
				t.Run(kind+"/"+route+"/"+name, func(t *testing.T) {
					c := config(kind)
					c.Cluster.Discovery, c.Cluster.DiscoveryConfig = name, route
					objs, err := Read(strings.NewReader(renderYAML(t, c, "prod")))
					if err != nil {
						t.Fatal(err)
					}
					rep := CheckObjects(objs, CheckOptions{})
					if len(rep.Problems) > 0 {
						t.Errorf("CheckObjects = %v", rep.Problems)
					}
					o := objects{all: objs, opts: CheckOptions{Namespace: "default", Domain: "cluster.local"}}
					var found []string
					for _, p := range o.releasePods() {
						for _, u := range discovery.Find(p.discovery) {
							found = append(found, u.Strategy)
						}
					}
					want := []string{name}
					if name == discovery.None {
						want = nil
						if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0].Error(), "no discovery settings found") {
							t.Errorf("warnings = %v, want the one that discovery was not checked", rep.Warnings)
						}
					}
					if !slices.Equal(found, want) {
						t.Errorf("Find = %v, want %v", found, want)
					}
					if name == discovery.None {
						return
					}
					for _, obj := range objs {
						if obj.GetNamespace() != "" {
							obj.SetNamespace("team-a")
						}
					}
					if rep := CheckObjects(objs, CheckOptions{}); len(rep.Problems) == 0 {
						t.Errorf("CheckObjects after moving every object to team-a found nothing")
					}
				})
			}
		}
	}
}

// TestExampleBundlesPass: every golden example bundle (every strategy,
// both kinds, the epmd-less TLS mode) passes check --bundle's checks.
func TestExampleBundlesPass(t *testing.T) {
	files, err := filepath.Glob("../examples/*/expected/*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d example bundles: %v", len(files), err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := CheckBundle(bytes.NewReader(data), CheckOptions{}, nil)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(rep.Problems) > 0 {
			t.Errorf("%s: %v", file, rep.Problems)
		}
	}
}

// TestLibclusterLookupMode: Cluster.Strategy.Kubernetes lists Endpoints
// unless kubernetes_ip_lookup_mode is :pods, and Endpoints carry their
// Service's labels, not the pods'. relgen's bundle (lookup mode pods)
// passes; without the mode it passes only while a Service that selects
// the pods carries the selector's labels and RBAC lets it list endpoints.
func TestLibclusterLookupMode(t *testing.T) {
	c := config(release.KindMix)
	c.Cluster.Discovery, c.Cluster.DiscoveryConfig = discovery.LibclusterKubernetes, release.DiscoveryConfigFile
	good := renderYAML(t, c, "prod")
	if !strings.Contains(good, "{kubernetes_ip_lookup_mode, pods}") {
		t.Fatalf("the bundle does not set kubernetes_ip_lookup_mode:\n%s", good)
	}
	check := func(yaml string) string {
		t.Helper()
		rep, err := CheckBundle(strings.NewReader(yaml), CheckOptions{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range rep.Problems {
			out = append(out, p.Error())
		}
		return strings.Join(out, "\n")
	}
	if got := check(good); got != "" {
		t.Errorf("relgen's bundle: %s", got)
	}
	endpoints := strings.Replace(good, "{kubernetes_ip_lookup_mode, pods}, ", "", 1)
	if got := check(endpoints); got != "" {
		t.Errorf("endpoints mode with labelled Services and RBAC for endpoints: %s", got)
	}
	// A Service without labels gives Endpoints without labels.
	var unlabelled []string
	for _, doc := range strings.Split(endpoints, "\n---\n") {
		if strings.Contains(doc, "kind: Service\n") {
			doc = regexp.MustCompile(`(?m)^  labels:\n(    .*\n)+`).ReplaceAllString(doc, "")
		}
		unlabelled = append(unlabelled, doc)
	}
	got := check(strings.Join(unlabelled, "\n---\n"))
	if want := `kubernetes_selector}: libcluster-kubernetes lists Endpoints with selector "app=myapp"`; !strings.Contains(got, want) {
		t.Errorf("endpoints mode, Services without labels = %q, want %q", got, want)
	}
	// Without endpoints in the Role.
	got = check(strings.Replace(endpoints, "  - endpoints\n", "", 1))
	if want := "lets it list endpoints in namespace"; !strings.Contains(got, want) {
		t.Errorf("endpoints mode, no RBAC for endpoints = %q, want %q", got, want)
	}
}

// renderYAML is the bundle of env as relgen manifests prints it, with a
// pinned image.
func renderYAML(t *testing.T, c *release.Config, env string) string {
	t.Helper()
	b, err := Generate(resolve(t, c, env), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := b.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestReadErrors: a bundle that is not what it claims is refused naming
// the document and field in words, never in a decoder's.
func TestReadErrors(t *testing.T) {
	for _, tt := range []struct{ name, doc, want string }{
		{name: "wrong type", doc: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: \"3\"}\n",
			want: "document 1: Deployment x: spec.replicas: want a number, got text"},
		{name: "List items not a list", doc: "apiVersion: v1\nkind: List\nitems: 5\n",
			want: "document 1: v1 List: items: want a list, got a number"},
		{name: "List item wrong type", doc: "apiVersion: v1\nkind: List\nmetadata: {resourceVersion: \"\"}\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: x}, spec: {ports: [{port: \"80\"}]}}\n",
			want: "document 1: items[0]: Service x: spec.ports.port: want a number, got text"},
		{name: "not text", doc: "\xff\xfe\x00garbage",
			want: "document 1: not YAML or JSON: "},
		{name: "separators only", doc: "---\n---\n# nothing\n---\n", want: ""},
		{name: "byte order mark", doc: "\xef\xbb\xbf# saved on Windows\napiVersion: v1\nkind: Secret\nmetadata: {name: x}\n", want: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.doc))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Read() = %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Read() = %v, want %q", err, tt.want)
			}
			for _, internal := range []string{"Go struct", "json: cannot", "error converting YAML"} {
				if strings.Contains(err.Error(), internal) {
					t.Errorf("Read() = %v: a decoder's message", err)
				}
			}
		})
	}
}

// TestLibclusterMode: Cluster.Strategy.Kubernetes connects to
// basename@<pod IP> in mode ip (the default), to pod DNS names in mode
// hostname, and to names no pod can boot with in mode dns.
func TestLibclusterMode(t *testing.T) {
	data, err := os.ReadFile("testdata/check/libcluster-api-endpoints.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ mode, want string }{
		{mode: "ip"},
		{mode: "hostname", want: `libcluster-kubernetes (mode hostname) connects to the pods' DNS names, but the node's host is "<pod-IP>"`},
		{mode: "dns", want: "{libcluster, topologies, k8s, config, mode}: libcluster-kubernetes: mode dns connects to <basename>@<a-b-c-d>"},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			doc := strings.Replace(string(data), "{mode, ip}", "{mode, "+tt.mode+"}", 1)
			rep, err := CheckBundle(strings.NewReader(doc), CheckOptions{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && len(rep.Problems) > 0 || tt.want != "" && (len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Error(), tt.want)) {
				t.Errorf("CheckBundle = %v, want %q", rep.Problems, tt.want)
			}
		})
	}
}
