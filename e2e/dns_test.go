package e2e

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// What cluster DNS answers for a headless Service, as CoreDNS's
// kubernetes plugin answers it from the Service's endpoints. The
// simulation's dnsmasq serves exactly these records.

// dnsZone is the records cluster DNS serves: names with their A records,
// and names with their SRV records.
type dnsZone struct {
	a   map[string][]string
	srv map[string][]srvRecord
}

// srvRecord is one SRV answer. CoreDNS puts every endpoint at priority 0
// and shares the weight 100 out evenly.
type srvRecord struct {
	target           string
	port             int32
	priority, weight int
}

// dnsmasqArg is the record as dnsmasq's --srv-host takes it.
func (r srvRecord) dnsmasqArg(name string) string {
	return fmt.Sprintf("--srv-host=%s,%s,%d,%d,%d", name, r.target, r.port, r.priority, r.weight)
}

// endpoint is one pod address behind a Service, as the EndpointSlice
// controller lists it.
type endpoint struct {
	ip string
	// hostname is set only for a pod whose spec.hostname is set and
	// whose spec.subdomain names the Service (a StatefulSet's pod and
	// its serviceName).
	hostname string
	// ports are the container's ports, which named targetPorts resolve
	// against.
	ports []corev1.ContainerPort
}

// dnsName is the endpoint's name under the Service's name fqdn:
// <hostname>.<fqdn>, or <IP with dashes>.<fqdn> without a hostname.
func (e endpoint) dnsName(fqdn string) string {
	if e.hostname != "" {
		return e.hostname + "." + fqdn
	}
	return strings.ReplaceAll(e.ip, ".", "-") + "." + fqdn
}

// endpointFor is the endpoint the EndpointSlice controller makes of a
// pod for svc.
func endpointFor(svc *corev1.Service, ip string, spec *corev1.PodSpec) endpoint {
	e := endpoint{ip: ip, ports: spec.Containers[0].Ports}
	if spec.Hostname != "" && spec.Subdomain == svc.Name {
		e.hostname = spec.Hostname
	}
	return e
}

// headlessRecords is what CoreDNS answers for a headless Service svc
// with endpoints eps, in cluster domain domain:
//   - <svc>.<ns>.svc.<domain> A: every endpoint's IP;
//   - <host>.<svc>.<ns>.svc.<domain> A: that endpoint's IP, where host is
//     the endpoint's hostname, else its IP with dashes for dots;
//   - <svc>.<ns>.svc.<domain> SRV (the bare name, without _port._proto):
//     one record per endpoint and port, with target <host>.<svc>.<ns>.svc.<domain>
//     and the endpoint's port number.
func headlessRecords(svc *corev1.Service, eps []endpoint, domain string) (dnsZone, error) {
	fqdn := fmt.Sprintf("%s.%s.svc.%s", svc.Name, svc.Namespace, domain)
	z := dnsZone{a: map[string][]string{}, srv: map[string][]srvRecord{}}
	type key struct {
		target string
		port   int32
	}
	var (
		srv  []key
		seen = map[key]bool{}
	)
	for _, e := range eps {
		z.a[fqdn] = append(z.a[fqdn], e.ip)
		target := e.dnsName(fqdn)
		z.a[target] = append(z.a[target], e.ip)
		for _, sp := range svc.Spec.Ports {
			port, err := targetPort(sp, e.ports)
			if err != nil {
				return dnsZone{}, fmt.Errorf("service %s port %s: %w", svc.Name, sp.Name, err)
			}
			if k := (key{target, port}); !seen[k] {
				seen[k] = true
				srv = append(srv, k)
			}
		}
	}
	for _, k := range srv {
		z.srv[fqdn] = append(z.srv[fqdn], srvRecord{target: k.target, port: k.port, weight: max(1, 100/len(srv))})
	}
	for name := range z.a {
		slices.Sort(z.a[name])
		z.a[name] = slices.Compact(z.a[name])
	}
	return z, nil
}

// targetPort resolves a Service port's targetPort against a container's
// ports, as the EndpointSlice controller does; an unset one is the port.
func targetPort(sp corev1.ServicePort, ports []corev1.ContainerPort) (int32, error) {
	switch {
	case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "":
		for _, p := range ports {
			if p.Name == sp.TargetPort.StrVal {
				return p.ContainerPort, nil
			}
		}
		return 0, fmt.Errorf("targetPort %q is no container port", sp.TargetPort.StrVal)
	case sp.TargetPort.IntVal != 0:
		return sp.TargetPort.IntVal, nil
	}
	return sp.Port, nil
}

// srvTargets lists the distinct targets of a name's SRV records, sorted.
func (z dnsZone) srvTargets(name string) []string {
	var out []string
	for _, r := range z.srv[name] {
		out = append(out, r.target)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// srvArgs are the zone's SRV records as dnsmasq arguments, in a stable
// order.
func (z dnsZone) srvArgs() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(z.srv)) {
		for _, r := range z.srv[name] {
			out = append(out, r.dnsmasqArg(name))
		}
	}
	return out
}

func TestHeadlessRecords(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: objMeta("peers", "ns"), Spec: corev1.ServiceSpec{
		ClusterIP: corev1.ClusterIPNone,
		Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
			{Name: "dist", Port: 9000, TargetPort: intstr.FromInt32(9000)},
		},
	}}
	ports := []corev1.ContainerPort{{Name: "http", ContainerPort: 4000}, {Name: "dist", ContainerPort: 9000}}
	sts := func(name string) *corev1.PodSpec {
		return &corev1.PodSpec{Hostname: name, Subdomain: "peers", Containers: []corev1.Container{{Ports: ports}}}
	}
	otherSubdomain := sts("app-2")
	otherSubdomain.Subdomain = "other"
	got, err := headlessRecords(svc, []endpoint{
		endpointFor(svc, "10.0.0.11", sts("app-0")),
		endpointFor(svc, "10.0.0.12", sts("app-1")),
		endpointFor(svc, "10.0.0.13", otherSubdomain),
		endpointFor(svc, "10.0.0.14", &corev1.PodSpec{Containers: []corev1.Container{{Ports: ports}}}),
	}, "cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	const fqdn = "peers.ns.svc.cluster.local"
	wantA := map[string][]string{
		fqdn:                {"10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14"},
		"app-0." + fqdn:     {"10.0.0.11"},
		"app-1." + fqdn:     {"10.0.0.12"},
		"10-0-0-13." + fqdn: {"10.0.0.13"},
		"10-0-0-14." + fqdn: {"10.0.0.14"},
	}
	if diff := cmp.Diff(wantA, got.a); diff != "" {
		t.Errorf("A records (-want +got):\n%s", diff)
	}
	// Eight records, one per endpoint and port: weight 100/8.
	var wantSRV []srvRecord
	for _, host := range []string{"app-0", "app-1", "10-0-0-13", "10-0-0-14"} {
		for _, port := range []int32{4000, 9000} {
			wantSRV = append(wantSRV, srvRecord{target: host + "." + fqdn, port: port, weight: 12})
		}
	}
	if diff := cmp.Diff(map[string][]srvRecord{fqdn: wantSRV}, got.srv, cmp.AllowUnexported(srvRecord{})); diff != "" {
		t.Errorf("SRV records (-want +got):\n%s", diff)
	}
	if want := []string{"10-0-0-13." + fqdn, "10-0-0-14." + fqdn, "app-0." + fqdn, "app-1." + fqdn}; !slices.Equal(got.srvTargets(fqdn), want) {
		t.Errorf("SRV targets = %v, want %v", got.srvTargets(fqdn), want)
	}
	if arg := got.srvArgs()[0]; arg != "--srv-host="+fqdn+",app-0."+fqdn+",4000,0,12" {
		t.Errorf("first dnsmasq argument = %q", arg)
	}

	bad := svc.DeepCopy()
	bad.Spec.Ports[0].TargetPort = intstr.FromString("web")
	if _, err := headlessRecords(bad, []endpoint{endpointFor(bad, "10.0.0.11", sts("app-0"))}, "cluster.local"); err == nil {
		t.Error("a named targetPort no container has: no error")
	}
}
