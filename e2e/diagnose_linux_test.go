package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/manifests/discovery"
)

// peerageConfig is the part of peerage's config that decides whom a node
// connects to.
type peerageConfig struct {
	dnsName, appName string
}

// deliveredPeerage reads the peerage config the bundle gives the pods:
// from the ConfigMap's discovery.config (cluster.discovery_config: file)
// or from the container env (env).
func deliveredPeerage(objs []manifests.Object, tmpl *corev1.PodTemplateSpec) peerageConfig {
	var pc peerageConfig
	for _, e := range tmpl.Spec.Containers[0].Env {
		switch e.Name {
		case "PEERAGE_DNS_NAME":
			pc.dnsName = e.Value
		case "PEERAGE_APP_NAME":
			pc.appName = e.Value
		}
	}
	for _, o := range objs {
		cm, ok := o.(*corev1.ConfigMap)
		if !ok {
			continue
		}
		if cfg, ok := cm.Data[manifests.DiscoveryKey]; ok {
			if m := regexp.MustCompile(`\{dns_name, <<"([^"]*)">>\}`).FindStringSubmatch(cfg); m != nil {
				pc.dnsName = m[1]
			}
			if m := regexp.MustCompile(`\{app_name, <<"([^"]*)">>\}`).FindStringSubmatch(cfg); m != nil {
				pc.appName = m[1]
			}
		}
	}
	return pc
}

// diagExpr asks a node for its name, its live peerage dns_name and
// app_name, and what cluster DNS answers it for that dns_name.
const diagExpr = `env = Application.get_all_env(:peerage)
name = Keyword.get(env, :dns_name)
ips = if is_binary(name), do: :inet_res.lookup(String.to_charlist(name), :in, :a), else: []
IO.puts(Enum.join([node(), inspect(name), inspect(Keyword.get(env, :app_name)), Enum.map_join(ips, ",", &:inet.ntoa/1)], "|"))`

// diagnose says why nodes do not see each other, in the bundle's terms:
// a node's name against the name discovery connects to, the name it
// queries against the headless Service, its live config against what
// the bundle delivers, and which nodes refused whose handshake.
func (c *cluster) diagnose() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var found []string
	add := func(format string, args ...any) { found = append(found, fmt.Sprintf(format, args...)) }
	var running []*pod
	for _, p := range c.pods {
		if p.running() {
			running = append(running, p)
		} else if p.cur != nil {
			add("pod %s: the container exited (%v); its log ends:\n%s", p.name, p.cur.err, indent(lastLines(p.log.String(), 5), "      "))
		}
	}
	for _, p := range running {
		out, err := p.rpc(ctx, diagExpr)
		if err != nil {
			add("pod %s: cannot ask its node: %v", p.name, err)
			continue
		}
		lines := strings.Split(out, "\n")
		f := strings.Split(lines[len(lines)-1], "|")
		if len(f) != 4 {
			add("pod %s: unexpected answer %q", p.name, out)
			continue
		}
		self, dnsName, appName, ips := f[0], unquote(f[1]), unquote(f[2]), f[3]
		_, host, _ := strings.Cut(self, "@")
		switch {
		case !strings.Contains(host, ".") && net.ParseIP(host) == nil:
			add("pod %s runs node %s, a short name (-sname, or RELEASE_DISTRIBUTION=sname): discovery connects to long names "+
				"like %s, and nodes with short and long names never connect", p.name, self, nodeName(p))
		case self != nodeName(p):
			add("pod %s runs node %s, but discovery connects to %s", p.name, self, nodeName(p))
		}
		if c.variant.strategy() != discovery.Peerage {
			// The live-config checks below read peerage's.
			continue
		}
		if dnsName != c.fqdn() {
			why := ""
			if ips == "" {
				why = ", and cluster DNS has no record for it"
			}
			add("pod %s: peerage queries %q, but the headless Service %s answers as %q%s", p.name, dnsName, c.headless.Name, c.fqdn(), why)
		}
		if d := c.delivered; d.dnsName != "" && (dnsName != d.dnsName || appName != d.appName) {
			add("pod %s: peerage runs with dns_name %q and app_name %q, but the bundle delivers %q and %q: a config/*.exs value won "+
				"(with config/runtime.exs, keys config/*.exs also sets are put back to their build-time values after boot); "+
				"use cluster.discovery_config: env, or remove them from config/*.exs", p.name, dnsName, appName, d.dnsName, d.appName)
		}
	}
	for _, p := range running {
		for _, q := range c.pods {
			if p != q && refusals(p, q) > 0 {
				add("node %s refused the handshake of %s: their cookies differ (RELEASE_COOKIE sha256 %s… vs %s…)",
					nodeName(p), nodeName(q), cookieHash(p), cookieHash(q))
			}
		}
	}
	return found
}

func unquote(s string) string {
	if u, ok := strings.CutPrefix(s, `"`); ok {
		return strings.TrimSuffix(u, `"`)
	}
	return s
}

// cookieHash names a pod's cookie without showing it.
func cookieHash(p *pod) string {
	for _, kv := range p.proc.Env {
		if v, ok := strings.CutPrefix(kv, "RELEASE_COOKIE="); ok {
			sum := sha256.Sum256([]byte(v))
			return hex.EncodeToString(sum[:4])
		}
	}
	return "(none)"
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
