package manifests

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/vmargs"
)

// distPorts are the ports nodes connect to: epmd's (0 when vm.args turns
// epmd off with -start_epmd false), and the distribution port range
// vm.args fixes with -kernel inet_dist_listen_min/max, else the
// -erl_epmd_port an epmd-less node listens on (0, 0 when neither: any
// port).
func (p *releasePod) distPorts() (epmd, distMin, distMax int32) {
	epmd = release.EPMDPort
	if v, err := strconv.ParseInt(p.env["ERL_EPMD_PORT"], 10, 32); err == nil {
		epmd = int32(v)
	}
	var erlEPMDPort int32
	args, _ := vmargs.Parse(p.vmArgs)
	for _, a := range args {
		switch {
		case a.Flag == "-start_epmd" && slices.Contains(a.Values, "false"):
			epmd = 0
		case a.Flag == "-erl_epmd_port" && len(a.Values) == 1:
			if v, err := strconv.ParseInt(a.Values[0], 10, 32); err == nil {
				erlEPMDPort = int32(v)
			}
		case a.Flag == "-kernel":
			for i := 0; i+1 < len(a.Values); i += 2 {
				v, err := strconv.ParseInt(a.Values[i+1], 10, 32)
				if err != nil {
					continue
				}
				switch a.Values[i] {
				case "inet_dist_listen_min":
					distMin = int32(v)
				case "inet_dist_listen_max":
					distMax = int32(v)
				}
			}
		}
	}
	if distMin == 0 && epmd == 0 {
		distMin = erlEPMDPort
	}
	if distMax < distMin {
		distMax = distMin
	}
	return epmd, distMin, distMax
}

// checkNetwork: once a NetworkPolicy selects the pods for a direction,
// only what some policy allows passes; nodes must reach each other's epmd
// and distribution ports, in both directions, and a DNS strategy must
// reach cluster DNS.
func (o objects) checkNetwork(r *Report, p *releasePod) {
	epmd, distMin, distMax := p.distPorts()
	queriesDNS := slices.ContainsFunc(discovery.Find(p.discovery), func(u discovery.Use) bool { return u.Query.Text != "" })
	for _, dir := range []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress} {
		var policies []*networkingv1.NetworkPolicy
		var names []string
		for _, obj := range o.all {
			np, ok := obj.(*networkingv1.NetworkPolicy)
			if !ok || o.namespace(np) != p.namespace || !o.policySelects(np, p) || !hasType(np, dir) {
				continue
			}
			policies = append(policies, np)
			names = append(names, np.Name)
		}
		if len(policies) == 0 {
			continue
		}
		where := "NetworkPolicy " + strings.Join(names, ", NetworkPolicy ")
		rules := fmt.Sprintf("the %s rules of the policies that select %s's pods", strings.ToLower(string(dir)), p.at)
		if epmd != 0 && !o.admits(policies, p, dir, epmd, epmd, corev1.ProtocolTCP, true) {
			r.fail(where, "network_policy", "%s do not admit epmd (TCP %d) between the pods; nodes cannot look up each other's distribution port", rules, epmd)
		}
		switch {
		case distMin == 0 && !o.admits(policies, p, dir, 0, 0, corev1.ProtocolTCP, true):
			r.fail(where, "network_policy", "%s limit ports, but vm.args fixes no distribution port (-kernel inet_dist_listen_min/max), so distribution connections on a random port are dropped", rules)
		case distMin != 0 && !o.admits(policies, p, dir, distMin, distMax, corev1.ProtocolTCP, true):
			r.fail(where, "network_policy", "%s do not admit the distribution port (TCP %d) between the pods", rules, distMin)
		}
		if dir == networkingv1.PolicyTypeEgress && queriesDNS && !o.admits(policies, p, dir, 53, 53, corev1.ProtocolUDP, false) {
			r.fail(where, "network_policy", "%s do not admit DNS (UDP 53), which discovery queries to find the pods", rules)
		}
	}
}

func (o objects) policySelects(np *networkingv1.NetworkPolicy, p *releasePod) bool {
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	return err == nil && sel.Matches(labels.Set(p.pod.Labels))
}

// hasType reports whether the policy governs dir; without policyTypes,
// Ingress always and Egress when it has egress rules.
func hasType(np *networkingv1.NetworkPolicy, dir networkingv1.PolicyType) bool {
	if len(np.Spec.PolicyTypes) == 0 {
		return dir == networkingv1.PolicyTypeIngress || len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		if t == dir {
			return true
		}
	}
	return false
}

// admits reports whether a rule of the policies lets the pods reach each
// other (or, unless toPods, anything: cluster DNS, whose labels the bundle
// does not know) on ports lo..hi of proto (0 = every port) in direction
// dir.
func (o objects) admits(policies []*networkingv1.NetworkPolicy, p *releasePod, dir networkingv1.PolicyType, lo, hi int32, proto corev1.Protocol, toPods bool) bool {
	for _, np := range policies {
		if dir == networkingv1.PolicyTypeIngress {
			for _, rule := range np.Spec.Ingress {
				if o.peersMatch(rule.From, p, toPods) && o.portsMatch(rule.Ports, p, lo, hi, proto) {
					return true
				}
			}
			continue
		}
		for _, rule := range np.Spec.Egress {
			if o.peersMatch(rule.To, p, toPods) && o.portsMatch(rule.Ports, p, lo, hi, proto) {
				return true
			}
		}
	}
	return false
}

// peersMatch: an empty list admits everyone; a pod selector without a
// namespace selector means the policy's own namespace. IP blocks cannot be
// matched against pod IPs unknown until the pods run.
func (o objects) peersMatch(peers []networkingv1.NetworkPolicyPeer, p *releasePod, toPods bool) bool {
	if len(peers) == 0 || !toPods {
		return true
	}
	for _, peer := range peers {
		if peer.IPBlock != nil {
			continue
		}
		if ns := peer.NamespaceSelector; ns != nil {
			sel, err := metav1.LabelSelectorAsSelector(ns)
			if err != nil || !sel.Matches(labels.Set{"kubernetes.io/metadata.name": p.namespace}) {
				continue
			}
		}
		if ps := peer.PodSelector; ps != nil {
			sel, err := metav1.LabelSelectorAsSelector(ps)
			if err != nil || !sel.Matches(labels.Set(p.pod.Labels)) {
				continue
			}
		}
		return true
	}
	return false
}

// portsMatch: no ports means every port; a named port is the container's.
func (o objects) portsMatch(ports []networkingv1.NetworkPolicyPort, p *releasePod, lo, hi int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	if lo == 0 {
		return false
	}
	for _, port := range ports {
		if port.Protocol != nil && *port.Protocol != proto || port.Protocol == nil && proto != corev1.ProtocolTCP {
			continue
		}
		if port.Port == nil {
			return true
		}
		var from int32
		if port.Port.Type == intstr.String {
			for _, c := range p.pod.Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Name == port.Port.StrVal && (cp.Protocol == proto || cp.Protocol == "" && proto == corev1.ProtocolTCP) {
						from = cp.ContainerPort
					}
				}
			}
		} else {
			from = port.Port.IntVal
		}
		to := from
		if port.EndPort != nil {
			to = *port.EndPort
		}
		if from != 0 && from <= lo && hi <= to {
			return true
		}
	}
	return false
}
