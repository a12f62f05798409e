package e2e

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/release"
)

// tlsIntruders are the API objects of the TLS variant: the certificate
// Secret of the cluster, and two pods' worth of objects for nodes that
// hold the right cookie but must still be refused.
type tlsIntruders struct {
	// good is the Secret relgen secret --tls printed for the cluster.
	good []manifests.Object
	// foreign: the same bundle and cookie, but the certificate Secret of
	// a second relgen secret --tls run, so another CA.
	foreign *apiObjects
	// noCert: the same cookie, a Secret with only the cluster's ca.crt
	// (which is no secret), and an ssl_dist_optfile without certfile and
	// keyfile: a node that trusts the cluster but presents nothing.
	noCert *apiObjects
}

var certOption = regexp.MustCompile(`\{(certfile|keyfile), "[^"]*"\},\s*`)

func newTLSIntruders(t *testing.T, config string, bundle, cookie []manifests.Object) *tlsIntruders {
	t.Helper()
	good := decode(t, "relgen secret --tls", relgen(t, "secret", "-f", config, "--env", "e2e", "--tls"))
	foreign := decode(t, "relgen secret --tls", relgen(t, "secret", "-f", config, "--env", "e2e", "--tls"))
	if len(good) != 1 || len(foreign) != 1 {
		t.Fatalf("relgen secret --tls printed %d and %d objects, want one Secret each", len(good), len(foreign))
	}
	gs, fs := good[0].(*corev1.Secret), foreign[0].(*corev1.Secret)
	if gs.StringData[release.TLSCAKey] == fs.StringData[release.TLSCAKey] {
		t.Fatal("two relgen secret --tls runs made the same CA")
	}
	caOnly := gs.DeepCopy()
	caOnly.StringData = map[string]string{release.TLSCAKey: gs.StringData[release.TLSCAKey]}
	var noCertBundle []manifests.Object
	for _, o := range bundle {
		if cm, ok := o.(*corev1.ConfigMap); ok && cm.Data[manifests.SSLDistKey] != "" {
			cm = cm.DeepCopy()
			stripped := certOption.ReplaceAllString(cm.Data[manifests.SSLDistKey], "")
			if strings.Contains(stripped, "certfile, \"/etc/relgen-tls/tls.crt\"") || stripped == cm.Data[manifests.SSLDistKey] {
				t.Fatalf("could not strip the certificate from the optfile:\n%s", stripped)
			}
			cm.Data[manifests.SSLDistKey] = stripped
			o = cm
		}
		noCertBundle = append(noCertBundle, o)
	}
	in := &tlsIntruders{good: good}
	var err error
	if in.foreign, err = newAPIObjects("e2e", slices.Concat(bundle, cookie, foreign)...); err != nil {
		t.Fatal(err)
	}
	if in.noCert, err = newAPIObjects("e2e", slices.Concat(noCertBundle, cookie, []manifests.Object{caOnly})...); err != nil {
		t.Fatal(err)
	}
	return in
}

// tlsIntruders starts the two intruders; every node must refuse them in
// both directions and stay connected to the others. OTP logs each failed
// TLS handshake: "Unknown CA" on both sides for the foreign CA;
// "Certificate required" on the node that the certificate-less one dials.
func (sc *scenario) tlsIntruders(good []*pod) error {
	c := sc.c
	started, err := sc.startIntruders(sc.tls.foreign, sc.tls.noCert)
	if err != nil {
		return err
	}
	foreign, noCert := started[0], started[1]
	const attempts = 3
	count := func(p *pod, what string) int { return strings.Count(p.log.String(), what) }
	if err := c.await(time.Minute, "the nodes refuse the foreign-CA and the certificate-less node", func(context.Context) error {
		var errs []error
		for _, p := range good {
			if n := count(p, "Fatal - Unknown CA"); n < 2*attempts {
				errs = append(errs, fmt.Errorf("%s logged %d refused handshakes with %s (Unknown CA), want %d", nodeName(p), n, nodeName(foreign), 2*attempts))
			}
			if n := count(p, "Fatal - Certificate required"); n < attempts {
				errs = append(errs, fmt.Errorf("%s refused %s %d times (Certificate required), want %d", nodeName(p), nodeName(noCert), n, attempts))
			}
		}
		if n := count(foreign, "Fatal - Unknown CA"); n < attempts*len(good) {
			errs = append(errs, fmt.Errorf("%s logged %d refused handshakes (Unknown CA), want %d", nodeName(foreign), n, attempts*len(good)))
		}
		return errors.Join(errs...)
	}); err != nil {
		return err
	}
	// The foreign node's own rpc shell holds its certificate, so it can
	// still be asked; the certificate-less node refuses even its own shell
	// (it demands a client certificate too), so only the good nodes'
	// lists tell that it is alone.
	if err := sc.unchanged(good, foreign, "foreign-CA"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(sc.t.Context(), 30*time.Second)
	defer cancel()
	if _, err := noCert.rpc(ctx, viewExpr); err == nil {
		return fmt.Errorf("the certificate-less node %s accepted an rpc shell without a certificate", nodeName(noCert))
	}
	sc.step("foreign-CA node %s and certificate-less node %s refused; the cluster is unchanged", nodeName(foreign), nodeName(noCert))
	return nil
}

// overTLS asks every node over which protocol its connections run: all
// must be tls (net_kernel's net_address record holds it).
func (c *cluster) overTLS(pods []*pod) error {
	const expr = `{:ok, info} = :net_kernel.nodes_info(); ` +
		`IO.puts(Enum.map_join(info, " ", fn {_, i} -> to_string(elem(i[:address], 3)) end) <> "|" <> inspect(:init.get_argument(:proto_dist)))`
	ctx, cancel := context.WithTimeout(c.t.Context(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, p := range pods {
		out, err := p.rpc(ctx, expr)
		if err != nil {
			return err
		}
		protos, arg, _ := strings.Cut(out, "|")
		// The rpc shell is a connection too, so at least one more.
		f := strings.Fields(protos)
		if len(f) < len(pods) || slices.ContainsFunc(f, func(s string) bool { return s != "tls" }) || arg != `{:ok, [[~c"inet_tls"]]}` && arg != `{:ok, [['inet_tls']]}` {
			errs = append(errs, fmt.Errorf("%s: connection protocols %v, -proto_dist %s; want tls for all %d, inet_tls", nodeName(p), f, arg, len(pods)))
		}
	}
	return errors.Join(errs...)
}

// nothingOnEPMD checks in each pod's network namespace that nothing
// listens on epmd's port while the node listens on its distribution
// port.
func (c *cluster) nothingOnEPMD(pods []*pod) error {
	dist := int32(0)
	for _, p := range c.wl.template.Spec.Containers[0].Ports {
		if p.Name == manifests.PortDist {
			dist = p.ContainerPort
		}
	}
	var errs []error
	for _, p := range pods {
		out, err := exec.CommandContext(c.t.Context(), c.tools.ip, "netns", "exec", p.netns, c.tools.ss, "-Hltn").CombinedOutput()
		if err != nil {
			return fmt.Errorf("ss in pod %s: %v: %s", p.name, err, out)
		}
		var ports []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) >= 4 {
				ports = append(ports, f[3][strings.LastIndexByte(f[3], ':')+1:])
			}
		}
		if slices.Contains(ports, strconv.Itoa(release.EPMDPort)) || !slices.Contains(ports, strconv.Itoa(int(dist))) {
			errs = append(errs, fmt.Errorf("pod %s listens on ports %v: want %d (distribution) and not %d (epmd)", p.name, ports, dist, release.EPMDPort))
		}
	}
	return errors.Join(errs...)
}
