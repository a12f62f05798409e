package discovery

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

func TestLibclusterDNS(t *testing.T) {
	top := topology()
	top.Interval = 2500 * time.Millisecond
	p, err := libclusterDNS{}.Plan(top)
	if err != nil {
		t.Fatal(err)
	}
	want := `[
 {libcluster,
  [{topologies, [{relgen, [{strategy, 'Elixir.Cluster.Strategy.Kubernetes.DNS'}, {config, [{service, <<"myapp-service-headless.default.svc.cluster.local">>}, {application_name, <<"myapp">>}, {polling_interval, 2500}]}]}]}]}
].
`
	if diff := cmp.Diff(want, p.Config[strings.Index(p.Config, "[\n"):]); diff != "" {
		t.Errorf("libcluster DNS config (-want +got):\n%s", diff)
	}
	if !strings.Contains(p.Elixir, "polling_interval: 2500") || !strings.Contains(p.Elixir, "strategy: Cluster.Strategy.Kubernetes.DNS") {
		t.Errorf("Elixir snippet:\n%s", p.Elixir)
	}
	if p.DNSName != top.FQDN() || p.Basename != "myapp" || len(p.Objects) != 0 {
		t.Errorf("Plan = %+v", p)
	}
}

func TestLibclusterKubernetes(t *testing.T) {
	top := topology()
	top.Selector = map[string]string{"app": "myapp", "tier": "web"}
	p, err := libclusterKubernetes{}.Plan(top)
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range []string{
		"{mode, ip}",
		// The selector selects pods, not Endpoints (the library's default).
		"{kubernetes_ip_lookup_mode, pods}",
		`{kubernetes_node_basename, <<"myapp">>}`,
		`{kubernetes_selector, <<"app=myapp,tier=web">>}`,
		`{kubernetes_namespace, <<"default">>}`,
		"{polling_interval, 5000}",
		"'Elixir.Cluster.Strategy.Kubernetes'}",
	} {
		if !strings.Contains(p.Config, term) {
			t.Errorf("config lacks %s:\n%s", term, p.Config)
		}
	}
	if p.ServiceAccount != "myapp-discovery" || p.Selector != "app=myapp,tier=web" {
		t.Errorf("ServiceAccount, Selector = %q, %q", p.ServiceAccount, p.Selector)
	}
	if len(p.Objects) != 3 {
		t.Fatalf("%d objects, want ServiceAccount, Role, RoleBinding", len(p.Objects))
	}
	role := p.Objects[1].(*rbacv1.Role)
	var pods, slices bool
	for _, r := range role.Rules {
		for _, res := range r.Resources {
			pods = pods || res == "pods" && cmp.Equal(r.Verbs, []string{"get", "list", "watch"})
			slices = slices || res == "endpointslices" && r.APIGroups[0] == "discovery.k8s.io"
		}
	}
	if !pods || !slices {
		t.Errorf("Role rules %+v, want read access to pods and endpointslices", role.Rules)
	}
	binding := p.Objects[2].(*rbacv1.RoleBinding)
	if binding.RoleRef.Name != role.Name || binding.Subjects[0].Name != p.Objects[0].(*corev1.ServiceAccount).Name {
		t.Errorf("RoleBinding %+v does not bind the Role to the ServiceAccount", binding)
	}
}

func TestDNSCluster(t *testing.T) {
	p, err := dnsCluster{}.Plan(topology())
	if err != nil {
		t.Fatal(err)
	}
	want := []corev1.EnvVar{{Name: "DNS_CLUSTER_QUERY", Value: "myapp-service-headless.default.svc.cluster.local"}}
	if diff := cmp.Diff(want, p.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if p.Config != "" || p.DNSName != want[0].Value {
		t.Errorf("Plan = %+v", p)
	}
	// The snippets name the release's application, ready to paste.
	if !strings.Contains(p.Elixir, "config :myapp, dns_cluster_query:") || !strings.Contains(p.Setup, "Application.get_env(:myapp, :dns_cluster_query)") {
		t.Errorf("Elixir = %q, Setup = %q, want them to configure :myapp", p.Elixir, p.Setup)
	}
	if got := elixirAtom("my-app"); got != `:"my-app"` {
		t.Errorf(`elixirAtom("my-app") = %s, want :"my-app"`, got)
	}
}

func TestLibclusterDNSSRV(t *testing.T) {
	top := topology()
	top.Interval = 10 * time.Second
	top.Domain = "corp.internal"
	top.PodNameEnv = "POD_NAME"
	p, err := libclusterDNSSRV{}.Plan(top)
	if err != nil {
		t.Fatal(err)
	}
	// libcluster queries <service>.<namespace>.svc.<CLUSTER_DOMAIN>, so
	// service is the bare name and the domain travels in the env.
	want := `[
 {libcluster,
  [{topologies, [{relgen, [{strategy, 'Elixir.Cluster.Strategy.Kubernetes.DNSSRV'}, {config, [{service, <<"myapp-service-headless">>}, {application_name, <<"myapp">>}, {namespace, <<"default">>}, {polling_interval, 10000}]}]}]}]}
].
`
	if diff := cmp.Diff(want, p.Config[strings.Index(p.Config, "[\n"):]); diff != "" {
		t.Errorf("libcluster DNSSRV config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]corev1.EnvVar{{Name: "CLUSTER_DOMAIN", Value: "corp.internal."}}, p.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if p.DNSName != "myapp-service-headless.default.svc.corp.internal" || p.DNSName != top.FQDN() || p.Basename != "myapp" || len(p.Objects) != 0 {
		t.Errorf("Plan = %+v", p)
	}
	for _, s := range []string{`service: "myapp-service-headless"`, `namespace: "default"`, "polling_interval: 10000", "strategy: Cluster.Strategy.Kubernetes.DNSSRV"} {
		if !strings.Contains(p.Elixir, s) {
			t.Errorf("Elixir snippet lacks %s:\n%s", s, p.Elixir)
		}
	}

	top.PodNameEnv = ""
	if _, err := (libclusterDNSSRV{}).Plan(top); err == nil {
		t.Errorf("Plan with nodes named by pod IP succeeded, want an error")
	}
}
