//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/manifests/discovery"
)

// TestCluster is the end-to-end proof of DESIGN.md §10: relgen's image
// and bundle, run on simulated pods, form a BEAM cluster; a node stopped
// with SIGTERM leaves and rejoins when restarted; a node with the wrong
// cookie is refused while the others stay connected.
func TestCluster(t *testing.T) {
	tl := requireTools(t)
	start := time.Now()
	step := func(format string, args ...any) {
		t.Helper()
		t.Logf("%5.1fs  %s", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	work := t.TempDir()
	// relgen build keeps its layer cache in the user cache directory.
	t.Setenv("XDG_CACHE_HOME", filepath.Join(work, "cache"))

	// The release, the image and the bundle, as a user makes them.
	app := buildRelease(t, tl, work)
	step("MIX_ENV=prod mix release: done")
	cfg := writeConfig(t, app)
	layoutDir := filepath.Join(work, "oci")
	ref := strings.TrimSpace(string(relgen(t, "build", "-f", cfg, "--push=false", "--oci-layout", layoutDir)))
	step("relgen build: %s", ref)
	bundle := decode(t, "relgen manifests", relgen(t, "manifests", "-f", cfg, "--env", "e2e", "--image", ref))
	secret := decode(t, "relgen secret", relgen(t, "secret", "-f", cfg, "--env", "e2e"))
	wrongSecret := decode(t, "relgen secret", relgen(t, "secret", "-f", cfg, "--env", "e2e"))

	deploy, headless := workload(t, bundle)
	ctr := deploy.Spec.Template.Spec.Containers[0]
	if ctr.Image != ref {
		t.Fatalf("deployment image = %s, want the built image %s", ctr.Image, ref)
	}
	img, err := unpackImage(t.Context(), layoutDir, ctr.Image, filepath.Join(work, "rootfs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(img.dir, img.config.WorkingDir, "releases", "COOKIE")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the image holds releases/COOKIE (stat: %v); the cookie must only come from the Secret", err)
	}
	step("image %s unpacked from the OCI layout", ctr.Image)

	api, err := newAPIObjects(deploy.Namespace, append(bundle, secret...)...)
	if err != nil {
		t.Fatal(err)
	}
	wrongAPI, err := newAPIObjects(deploy.Namespace, append(bundle, wrongSecret...)...)
	if err != nil {
		t.Fatal(err)
	}

	// Three pods, DNS for the headless Service, and the cluster.
	c := newCluster(t, tl, work, img, deploy, headless)
	for range *deploy.Spec.Replicas {
		c.addPod(api)
	}
	good := slices.Clone(c.pods)
	c.net.startDNS(c.dnsRecords())
	c.eventually(10*time.Second, "cluster DNS answers "+c.fqdn(), func(ctx context.Context) error {
		return c.dnsAnswers(ctx, good)
	})
	for _, p := range good {
		p.start()
	}
	for _, p := range good {
		c.waitReady(p, time.Minute)
	}
	step("%d pods started and ready", len(good))
	c.eventually(time.Minute, "every node sees the others", func(ctx context.Context) error {
		return c.meshed(ctx, good)
	})
	step("cluster formed: every node lists the other %d", len(good)-1)
	c.checkSandbox(good[0])

	// Kubelet stops a container with SIGTERM and restarts it in the same
	// pod (same IP).
	victim := good[1]
	grace := 30 * time.Second
	if s := deploy.Spec.Template.Spec.TerminationGracePeriodSeconds; s != nil {
		grace = time.Duration(*s) * time.Second
	}
	graceful, exit := victim.stop(grace)
	switch {
	case !graceful:
		t.Errorf("pod %s: the node ignored SIGTERM for the whole grace period (%s) and was killed", victim.name, grace)
	case exit != nil:
		t.Errorf("pod %s: after SIGTERM the node exited with %v, want a clean stop", victim.name, exit)
	}
	step("node %s stopped on SIGTERM", nodeName(victim))
	rest := []*pod{good[0], good[2]}
	c.eventually(30*time.Second, "the others drop the stopped node", func(ctx context.Context) error {
		return c.meshed(ctx, rest)
	})
	victim.start()
	c.waitReady(victim, time.Minute)
	c.eventually(time.Minute, "the restarted node rejoins", func(ctx context.Context) error {
		return c.meshed(ctx, good)
	})
	step("node %s restarted and rejoined", nodeName(victim))

	// A pod the headless Service selects, but with another cookie.
	intruder := c.addPod(wrongAPI)
	c.net.publish(c.dnsRecords())
	c.eventually(10*time.Second, "cluster DNS lists the new pod", func(ctx context.Context) error {
		return c.dnsAnswers(ctx, c.pods)
	})
	intruder.start()
	c.waitReady(intruder, time.Minute)
	// The node that accepts a connection logs the bad handshake; wait
	// until each side has refused the other several poll intervals long.
	const attempts = 3
	c.eventually(time.Minute, "the nodes refuse the wrong-cookie node, both ways", func(context.Context) error {
		var errs []error
		for _, p := range good {
			if n := refusals(p, intruder); n < attempts {
				errs = append(errs, fmt.Errorf("%s refused %s %d times, want %d", nodeName(p), nodeName(intruder), n, attempts))
			}
			if n := refusals(intruder, p); n < attempts {
				errs = append(errs, fmt.Errorf("%s refused %s %d times, want %d", nodeName(intruder), nodeName(p), n, attempts))
			}
		}
		return errors.Join(errs...)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := c.meshed(ctx, good); err != nil {
		t.Errorf("with the wrong-cookie node around: %v", err)
	}
	views, err := c.views(ctx, []*pod{intruder})
	if err != nil {
		t.Fatal(err)
	}
	if v := views[intruder]; v.self != nodeName(intruder) || len(v.peers) > 0 {
		t.Errorf("wrong-cookie node: node() = %s, Node.list() = %v, want %s and []", v.self, v.peers, nodeName(intruder))
	}
	step("wrong-cookie node %s refused; the cluster is unchanged", nodeName(intruder))
}

// checkSandbox makes sure a simulated pod is as strict as a real one:
// the node runs as the pod's user under the pod's hostname, the root
// filesystem is read-only and /tmp (the emptyDir) is writable.
func (c *cluster) checkSandbox(p *pod) {
	c.t.Helper()
	dir := c.image.config.WorkingDir
	expr := fmt.Sprintf(`IO.puts(Enum.join([String.trim(to_string(:os.cmd('id -u'))), elem(:inet.gethostname(), 1), `+
		`inspect(File.write(%q, "")), inspect(File.write("/tmp/.relgen-e2e", ""))], "|"))`, filepath.Join(dir, ".relgen-e2e"))
	ctx, cancel := context.WithTimeout(c.t.Context(), 30*time.Second)
	defer cancel()
	out, err := p.rpc(ctx, expr)
	if err != nil {
		c.t.Fatal(err)
	}
	want := fmt.Sprintf("%d|%s|{:error, :erofs}|:ok", p.proc.UID, p.name)
	if out != want {
		c.t.Errorf("pod %s: uid|hostname|write to %s|write to /tmp = %s, want %s", p.name, dir, out, want)
	}
}

// refusals counts how often the node of p refused a connection from the
// node of from (OTP's dist_util logs each bad challenge reply).
func refusals(p, from *pod) int {
	re := regexp.MustCompile(`Connection attempt from node :?['"]?` + regexp.QuoteMeta(nodeName(from)) + `['"]? rejected`)
	return len(re.FindAllStringIndex(p.log.String(), -1))
}

// dnsAnswers checks that cluster DNS returns exactly the IPs of pods for
// the headless Service.
func (c *cluster) dnsAnswers(ctx context.Context, pods []*pod) error {
	got, err := c.net.lookup(ctx, c.fqdn())
	if err != nil {
		return err
	}
	var want []string
	for _, p := range pods {
		want = append(want, p.ip)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("%s = %v, want %v", c.fqdn(), got, want)
	}
	return nil
}

// workload picks the Deployment and the headless Service out of the
// bundle.
func workload(t *testing.T, objs []discovery.Object) (*appsv1.Deployment, *corev1.Service) {
	t.Helper()
	var (
		deploys  []*appsv1.Deployment
		headless []*corev1.Service
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			deploys = append(deploys, o)
		case *corev1.Service:
			if o.Spec.ClusterIP == corev1.ClusterIPNone {
				headless = append(headless, o)
			}
		}
	}
	if len(deploys) != 1 || len(headless) != 1 {
		t.Fatalf("bundle has %d Deployments and %d headless Services, want one each", len(deploys), len(headless))
	}
	d := deploys[0]
	if d.Spec.Replicas == nil {
		t.Fatal("deployment has no replicas")
	}
	if !selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) || len(d.Spec.Selector.MatchExpressions) > 0 {
		t.Fatalf("deployment selector %v does not select its pod template labels %v", d.Spec.Selector, d.Spec.Template.Labels)
	}
	return d, headless[0]
}

// requireTools skips the test unless it can run here: root (network
// namespaces, mounts), iproute2, dnsmasq, util-linux's nsenter, Erlang
// and Elixir. With RELGEN_REQUIRE_TOOLS=1 (CI) it fails instead.
func requireTools(t *testing.T) *tools {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces and mounts)")
	}
	look := func(tool, pkg string) string {
		if p, err := exec.LookPath(tool); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			if p := filepath.Join(dir, tool); isExecutable(p) {
				return p
			}
		}
		missing = append(missing, fmt.Sprintf("%s (apt-get install %s)", tool, pkg))
		return ""
	}
	tl := &tools{
		ip:      look("ip", "iproute2"),
		dnsmasq: look("dnsmasq", "dnsmasq-base"),
		nsenter: look("nsenter", "util-linux"),
		erl:     look("erl", "erlang-nox"),
		mix:     look("mix", "elixir"),
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tl.self = self
	if len(missing) > 0 {
		msg := "end-to-end cluster test needs " + strings.Join(missing, ", ")
		if os.Getenv("RELGEN_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s, and RELGEN_REQUIRE_TOOLS=1", msg)
		}
		t.Skipf("%s; set RELGEN_REQUIRE_TOOLS=1 to fail instead of skipping", msg)
	}
	return tl
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
