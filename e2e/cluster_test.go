//go:build linux

package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/internal/testutil"
	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/release/image/deb"
)

// The variants TestCluster ships: both release kinds, and both routes of
// the discovery config (docs/runtime.md).
var (
	mixFile = variant{name: "mix-file", kind: release.KindMix, route: release.DiscoveryConfigFile}
	// The env route, for an app with config/runtime.exs whose
	// config/config.exs sets wrong peerage values at build time.
	mixRuntimeEnv = variant{name: "mix-runtime.exs-env", kind: release.KindMix, route: release.DiscoveryConfigEnv, runtimeExs: true}
	// The same app on the file route: config/config.exs wins, the nodes
	// never meet. Only run as a broken case.
	mixRuntimeFile = variant{name: "mix-runtime.exs-file", kind: release.KindMix, route: release.DiscoveryConfigFile, runtimeExs: true}
	distilleryFile = variant{name: "distillery-file", kind: release.KindDistillery, route: release.DiscoveryConfigFile}
	// Distribution security: no epmd, and TLS without epmd (the mode of
	// examples/secure).
	mixEPMDLess   = variant{name: "mix-epmd-less", kind: release.KindMix, route: release.DiscoveryConfigFile, epmdLess: true}
	mixTLS        = variant{name: "mix-tls-epmd-less", kind: release.KindMix, route: release.DiscoveryConfigFile, tls: true, epmdLess: true}
	distilleryTLS = variant{name: "distillery-tls-epmd-less", kind: release.KindDistillery, route: release.DiscoveryConfigFile, tls: true, epmdLess: true}
	// The other DNS strategies, with stand-ins that read the settings and
	// query the names the real libraries do.
	libclusterDNSFile = variant{name: "libcluster-dns-file", kind: release.KindMix, route: release.DiscoveryConfigFile, discovery: discovery.LibclusterDNS}
	dnsClusterEnv     = variant{name: "dns_cluster", kind: release.KindMix, route: release.DiscoveryConfigFile, discovery: discovery.DNSCluster}
	// libcluster's DNSSRV strategy: a StatefulSet, nodes named by their
	// pod's DNS name, SRV records on the headless Service's name.
	libclusterDNSSRV = variant{name: "libcluster-dnssrv", kind: release.KindMix, route: release.DiscoveryConfigFile, discovery: discovery.LibclusterDNSSRV}
	// The mix-file app on a base without libssl3, built with the ABI
	// check off. Only run as a broken case.
	mixNoLibcrypto  = variant{name: "mix-no-libcrypto", kind: release.KindMix, route: release.DiscoveryConfigFile, noLibcrypto: true}
	clusterVariants = []variant{mixFile, mixRuntimeEnv, distilleryFile, mixEPMDLess, mixTLS, distilleryTLS, libclusterDNSFile, dnsClusterEnv, libclusterDNSSRV}
)

// TestCluster is relgen's end-to-end proof (e2e/README.md): relgen's
// image and bundle, run on simulated pods, form a BEAM cluster; it grows
// when the Deployment is scaled up, a killed or stopped node rejoins, and
// a node with the wrong cookie is refused. Then bundles broken on purpose
// must fail, with a diagnosis that names what is wrong.
func TestCluster(t *testing.T) {
	tl := requireTools(t)
	work := t.TempDir()
	// relgen build runs as a binary built without the race detector
	// (testutil.Relgen): building a base from Debian packages is xz
	// decoding and gzip compression, which -race makes about ten times
	// slower. relgen's other commands, cheap, run in-process; the image
	// code's concurrency is raced by its own tests.
	tl.relgen = testutil.Relgen(t)
	// relgen build keeps its layer cache in the user cache directory.
	t.Setenv("XDG_CACHE_HOME", filepath.Join(work, "cache"))
	// The base's Debian packages, fetched once a run (testutil.Shared),
	// are where relgen build looks for them in the user cache.
	var debs []string
	testutil.Shared(t, "debs", func(dir string) (err error) {
		debs, err = deb.Fetch(t.Context(), dir, basePackages, "amd64")
		return err
	})
	testutil.LinkInto(t, filepath.Join(work, "cache", "relgen", "debs"), debs)
	// A variant is shipped once, by the first subtest that needs it;
	// broken cases deploy the same image as the variant they break.
	var shipments onceEach[*shipped]
	shipOnce := func(t *testing.T, v variant) *shipped {
		t.Helper()
		s, _, _ := shipments.do(v.name, func() (*shipped, error) {
			return ship(t, tl, work, v), nil
		})
		if s == nil {
			t.Fatalf("%s: shipping the release failed in another subtest", v.name)
		}
		return s
	}
	// Every subtest has its own network namespaces, DNS server and
	// directories, so they run side by side, clusterSlots() at a time,
	// each started in a goroutine of its own (t.Run may be called from
	// several at once); the loops start them in order, variants first.
	slots := make(chan struct{}, clusterSlots())
	var running sync.WaitGroup
	run := func(name string, f func(t *testing.T)) {
		slots <- struct{}{}
		running.Go(func() {
			defer func() { <-slots }()
			t.Run(name, f)
		})
	}
	defer running.Wait()

	for _, v := range clusterVariants {
		run(v.name, func(t *testing.T) {
			sc := newScenario(t, tl, shipOnce(t, v), broken{})
			report, err := sc.lifecycle()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s", v.name, report)
		})
	}

	for _, b := range brokenBundles {
		run("broken/"+b.name, func(t *testing.T) {
			sc := newScenario(t, tl, shipOnce(t, b.variant), b)
			_, err := sc.lifecycle()
			if err == nil {
				t.Fatalf("%s: the cluster formed and survived every step; want a failure", b.what)
			}
			for _, want := range b.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%s: the failure does not name the mismatch (want %q in it):\n%v", b.what, want, err)
				}
			}
			if !t.Failed() {
				t.Logf("%s: failed as it should:\n%v", b.what, err)
			}
		})
	}
}

// clusterSlots is how many simulated clusters run at once: four, or
// fewer when go test's -parallel says so. A cluster spends most of its
// time waiting (discovery intervals, the preStop sleep, the Job's
// sleep); four use about one core of a 2-core machine, which leaves room
// for the other packages' tests that go test runs meanwhile. go test's
// own default, GOMAXPROCS (two there), would double the wall time.
func clusterSlots() int {
	n := 4
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			if p, err := strconv.Atoi(f.Value.String()); err == nil && p > 0 {
				n = min(n, p)
			}
		}
	})
	return n
}

// broken is a bundle broken on purpose, and what its failure must say.
type broken struct {
	name, what string
	variant    variant
	// bundle breaks the decoded bundle (the workload's pod template and
	// the headless Service) before it is deployed.
	bundle func(tmpl *corev1.PodTemplateSpec, headless *corev1.Service)
	// newCookieOnScaleUp gives the pod added by the scale-up a new cookie
	// Secret, as when a Secret is regenerated while pods run.
	newCookieOnScaleUp bool
	// overlay is a kustomization body that kubectl kustomize applies
	// over relgen's output (and the cookie Secret) before deploying;
	// refused is what relgen check --bundle must say about the result.
	overlay string
	refused []string
	want    []string
}

var brokenBundles = []broken{
	{
		name: "service-name", what: "a headless Service name that disagrees with the discovery config",
		variant: mixFile,
		bundle:  func(_ *corev1.PodTemplateSpec, headless *corev1.Service) { headless.Name = "e2e-app-peer" },
		want: []string{`peerage queries "e2e-app-peers.e2e.svc.cluster.local", but the headless Service e2e-app-peer answers as ` +
			`"e2e-app-peer.e2e.svc.cluster.local", and cluster DNS has no record for it`},
	},
	{
		name: "short-names", what: "nodes booted with short names",
		variant: mixFile,
		bundle: func(tmpl *corev1.PodTemplateSpec, _ *corev1.Service) {
			env := tmpl.Spec.Containers[0].Env
			for i := range env {
				switch env[i].Name {
				case "RELEASE_DISTRIBUTION":
					env[i].Value = "sname"
				case "RELEASE_NODE":
					env[i].Value = releaseName
				}
			}
		},
		want: []string{"a short name (-sname, or RELEASE_DISTRIBUTION=sname): discovery connects to long names like e2e_app@10.213.0."},
	},
	{
		name: "dnssrv-ip-names", what: "nodes named by pod IP under libcluster's DNSSRV, which connects to the SRV targets, the pods' DNS names",
		variant: libclusterDNSSRV,
		bundle: func(tmpl *corev1.PodTemplateSpec, _ *corev1.Service) {
			env := tmpl.Spec.Containers[0].Env
			for i := range env {
				if env[i].Name == "RELEASE_NODE" {
					env[i].Value = releaseName + "@$(POD_IP)"
				}
			}
		},
		want: []string{"pod e2e-app-0 runs node e2e_app@10.213.0.", "but discovery connects to e2e_app@e2e-app-0.e2e-app-peers.e2e.svc.cluster.local"},
	},
	{
		name: "two-cookies", what: "a pod started after the cookie Secret was regenerated",
		variant: mixFile, newCookieOnScaleUp: true,
		want: []string{"refused the handshake of", "their cookies differ"},
	},
	{
		name: "no-mutable-dir", what: "a Distillery pod with a read-only root filesystem and no emptyDir at RELEASE_MUTABLE_DIR",
		variant: distilleryFile,
		bundle: func(tmpl *corev1.PodTemplateSpec, _ *corev1.Service) {
			ctr := &tmpl.Spec.Containers[0]
			ctr.VolumeMounts = slices.DeleteFunc(ctr.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == manifests.MutableDir })
		},
		want: []string{"the container exited", "/app/var", "Read-only file system"},
	},
	{
		name: "namespace-overlay", what: "a kustomize overlay that moves the bundle to namespace team-a",
		variant: mixFile, overlay: "namespace: team-a\n",
		refused: []string{`ConfigMap e2e-app-runtime: data[discovery.config]: {peerage, dns_name}: peerage queries "e2e-app-peers.e2e.svc.cluster.local", ` +
			`but the headless Service that selects the pods answers as "e2e-app-peers.team-a.svc.cluster.local"`},
		want: []string{`peerage queries "e2e-app-peers.e2e.svc.cluster.local", but the headless Service e2e-app-peers answers as ` +
			`"e2e-app-peers.team-a.svc.cluster.local", and cluster DNS has no record for it`},
	},
	{
		name: "read-only-home", what: "a Distillery pod without a writable HOME, as before relgen set one",
		variant: distilleryFile,
		bundle: func(tmpl *corev1.PodTemplateSpec, _ *corev1.Service) {
			ctr := &tmpl.Spec.Containers[0]
			ctr.Env = slices.DeleteFunc(ctr.Env, func(e corev1.EnvVar) bool { return e.Name == "HOME" })
		},
		want: []string{"cannot ask its node", "Could not start distribution", "Failed to create cookie file"},
	},
	{
		name: "no-libcrypto", what: "an image whose base lacks libcrypto.so.3, built with image.abi_check: false",
		variant: mixNoLibcrypto,
		want:    []string{"the container exited", "libcrypto.so.3: cannot open shared object file"},
	},
	{
		name: "build-time-config", what: "the file route for an app whose config/config.exs sets peerage and that has config/runtime.exs",
		variant: mixRuntimeFile,
		want: []string{`peerage runs with dns_name "peers.build-time.invalid" and app_name "build_time", but the bundle delivers ` +
			`"e2e-app-peers.e2e.svc.cluster.local" and "e2e_app"`, "use cluster.discovery_config: env"},
	},
}

// scenario is one shipped variant deployed from its bundle onto a
// simulated cluster, possibly broken on purpose.
type scenario struct {
	t      *testing.T
	broken broken
	c      *cluster
	// api holds the bundle and the cookie Secret; otherAPI the bundle
	// with a second, different cookie Secret.
	api, otherAPI *apiObjects
	// tls holds the TLS variant's intruders: a certificate from another
	// CA, and no certificate at all.
	tls *tlsIntruders
	// patience is how long the nodes get to connect.
	patience time.Duration
	start    time.Time
	// jobs are the bundle's release command Jobs.
	jobs []*batchv1.Job
}

func newScenario(t *testing.T, tl *tools, s *shipped, b broken) *scenario {
	t.Helper()
	bundleYAML := relgen(t, "manifests", "-f", s.config, "--env", "e2e", "--image", s.ref)
	secretYAML := relgen(t, "secret", "-f", s.config, "--env", "e2e")
	otherSecretYAML := relgen(t, "secret", "-f", s.config, "--env", "e2e")
	if b.overlay != "" {
		bundleYAML = kustomize(t, tl, b.overlay, bundleYAML)
		secretYAML = kustomize(t, tl, b.overlay, secretYAML)
		otherSecretYAML = kustomize(t, tl, b.overlay, otherSecretYAML)
	}
	checkBundle(t, bundleYAML, b.refused)
	bundle := decode(t, "relgen manifests", bundleYAML)
	secret := decode(t, "relgen secret", secretYAML)
	otherSecret := decode(t, "relgen secret", otherSecretYAML)
	var intruders *tlsIntruders
	if s.tls {
		intruders = newTLSIntruders(t, s.config, bundle, secret)
		secret = append(secret, intruders.good...)
		otherSecret = append(otherSecret, intruders.good...)
	}
	wl, headless := workloadOf(t, bundle)
	if img := wl.template.Spec.Containers[0].Image; img != s.ref {
		t.Fatalf("%s image = %s, want the built image %s", wl.kind, img, s.ref)
	}
	delivered := deliveredPeerage(bundle, wl.template)
	if b.bundle != nil {
		b.bundle(wl.template, headless)
	}
	sc := &scenario{t: t, broken: b, patience: time.Minute, start: time.Now(), tls: intruders}
	for _, o := range bundle {
		if j, ok := o.(*batchv1.Job); ok {
			sc.jobs = append(sc.jobs, j)
		}
	}
	if b.name != "" {
		// A broken cluster never forms; a healthy one connects within a
		// second, so 10 discovery intervals are plenty.
		sc.patience = 10 * time.Second
	}
	var err error
	if sc.api, err = newAPIObjects(wl.namespace, append(bundle, secret...)...); err != nil {
		t.Fatal(err)
	}
	if sc.otherAPI, err = newAPIObjects(wl.namespace, append(bundle, otherSecret...)...); err != nil {
		t.Fatal(err)
	}
	sc.c = newCluster(t, tl, t.TempDir(), s.image, wl, headless)
	sc.c.variant = s.variant
	sc.c.delivered = delivered
	return sc
}

func (sc *scenario) step(format string, args ...any) {
	sc.t.Helper()
	sc.t.Logf("%5.1fs  %s", time.Since(sc.start).Seconds(), fmt.Sprintf(format, args...))
}

// lifecycle runs the workload through what a cluster does to it, and
// stops at the first step that fails. It returns the report line of
// the issue that asked for it.
func (sc *scenario) lifecycle() (string, error) {
	c := sc.c
	// kubectl apply: the workload's replicas, DNS for the headless
	// Service, the containers; a StatefulSet with podManagementPolicy
	// OrderedReady makes pod N+1 only once pod N is ready.
	var batch []*pod
	for i := range c.wl.replicas {
		batch = append(batch, c.addPod(sc.api))
		if c.wl.ordered() || i == c.wl.replicas-1 {
			if err := c.launch(batch); err != nil {
				return "", err
			}
			batch = nil
		}
	}
	first := slices.Clone(c.pods)
	sc.step("%d pods started and ready", len(first))
	if err := c.awaitEvery(sc.patience, discoveryInterval, fmt.Sprintf("the %d nodes connect", len(first)), func(ctx context.Context) error {
		return c.meshed(ctx, first)
	}); err != nil {
		return "", err
	}
	sc.step("%d/%d nodes connected", len(first), len(first))
	if err := c.checkSandbox(first[0]); err != nil {
		return "", err
	}
	if sc.broken.name == "" {
		if err := sc.runJobs(first); err != nil {
			return "", err
		}
	}

	// kubectl scale --replicas=3: a new pod with a new IP (and for a
	// StatefulSet the next ordinal and DNS name), which cluster DNS adds
	// to the headless Service's answers.
	api := sc.api
	if sc.broken.newCookieOnScaleUp {
		api = sc.otherAPI
	}
	c.addPod(api)
	good := slices.Clone(c.pods)
	if err := c.launch(good[len(good)-1:]); err != nil {
		return "", err
	}
	if err := c.awaitEvery(sc.patience, discoveryInterval, "after scaling up, every node sees the others", func(ctx context.Context) error {
		return c.meshed(ctx, good)
	}); err != nil {
		return "", err
	}
	sc.step("scaled up: %d/%d nodes connected", len(good), len(good))
	var security []string
	if sc.tls != nil {
		if err := c.overTLS(good); err != nil {
			return "", err
		}
		sc.step("every connection is TLS")
	}
	if v := c.variant; v.epmdLess {
		if err := c.nothingOnEPMD(good); err != nil {
			return "", err
		}
		sc.step("nothing listens on 4369 in any pod")
		security = append(security, fmt.Sprintf("epmd-less: %d/%d nodes, nothing on %d", len(good), len(good), release.EPMDPort))
	}

	// A node dies (SIGKILL: no goodbye); kubelet restarts the container in
	// the same pod.
	if err := sc.bounce(good, good[1], "killed with SIGKILL", func(p *pod) error { p.kill(); return nil }); err != nil {
		return "", err
	}
	// Kubelet stops a container with SIGTERM (a rollout, a drain): the VM
	// must exit cleanly within the grace period.
	if err := sc.bounce(good, good[0], "stopped cleanly on SIGTERM", sc.terminate); err != nil {
		return "", err
	}

	if sc.tls != nil {
		// Pods the headless Service also selects, with the right cookie
		// but a certificate from another CA, or none.
		if err := sc.tlsIntruders(good); err != nil {
			return "", err
		}
		return strings.Join(append([]string{fmt.Sprintf("%d/%d nodes connected over TLS, rejoin ok, scale-up ok, foreign CA refused, no cert refused", len(good), len(good))}, append(security, fmt.Sprintf("%d job(s) ran outside the cluster", len(sc.jobs)))...), "; "), nil
	}
	// A pod the headless Service also selects, with another cookie.
	if err := sc.intruder(good); err != nil {
		return "", err
	}
	return strings.Join(append([]string{fmt.Sprintf("%d/%d nodes connected, rejoin ok, scale-up ok, wrong cookie refused", len(good), len(good))}, append(security, fmt.Sprintf("%d job(s) ran outside the cluster", len(sc.jobs)))...), "; "), nil
}

// bounce ends victim's container with stop, waits until the other nodes
// drop it, restarts the container in the same pod and waits until the
// node rejoins.
func (sc *scenario) bounce(good []*pod, victim *pod, how string, stop func(*pod) error) error {
	c := sc.c
	if err := stop(victim); err != nil {
		return err
	}
	rest := slices.DeleteFunc(slices.Clone(good), func(p *pod) bool { return p == victim })
	if err := c.awaitEvery(30*time.Second, discoveryInterval, fmt.Sprintf("the others drop the node %s", how), func(ctx context.Context) error {
		return c.meshed(ctx, rest)
	}); err != nil {
		return err
	}
	victim.start()
	if err := c.waitReady(victim, time.Minute); err != nil {
		return err
	}
	if err := c.awaitEvery(sc.patience, discoveryInterval, fmt.Sprintf("the node %s rejoins", how), func(ctx context.Context) error {
		return c.meshed(ctx, good)
	}); err != nil {
		return err
	}
	sc.step("node %s %s, restarted and rejoined", nodeName(victim), how)
	return nil
}

// terminate stops p's container as kubelet does, with SIGTERM and
// SIGKILL after the grace period; the VM must exit cleanly before that.
func (sc *scenario) terminate(p *pod) error {
	grace := 30 * time.Second
	if s := sc.c.wl.template.Spec.TerminationGracePeriodSeconds; s != nil {
		grace = time.Duration(*s) * time.Second
	}
	// Kubelet runs the preStop hook first; its time counts against the
	// grace period.
	if h := sc.c.wl.template.Spec.Containers[0].Lifecycle; h != nil && h.PreStop != nil {
		if h.PreStop.Exec == nil {
			return fmt.Errorf("pod %s: only exec preStop hooks are simulated", p.name)
		}
		begin := time.Now()
		ctx, cancel := context.WithTimeout(sc.t.Context(), grace)
		_, err := p.exec(ctx, h.PreStop.Exec.Command...)
		cancel()
		if err != nil {
			return fmt.Errorf("pod %s: preStop hook: %w", p.name, err)
		}
		if !p.running() {
			return fmt.Errorf("pod %s: the container exited during the preStop hook", p.name)
		}
		grace -= time.Since(begin)
		sc.step("preStop hook %v ran for %.1fs", h.PreStop.Exec.Command, time.Since(begin).Seconds())
	}
	graceful, exit := p.stop(grace)
	switch {
	case !graceful:
		return fmt.Errorf("pod %s: the node ignored SIGTERM for the whole grace period (%s) and was killed", p.name, grace)
	case exit != nil:
		return fmt.Errorf("pod %s: after SIGTERM the node exited with %v, want a clean stop", p.name, exit)
	}
	return nil
}

// intruder starts a pod that the headless Service selects but that has
// another cookie: every node must refuse it, both ways, and stay
// connected to the others.
func (sc *scenario) intruder(good []*pod) error {
	c := sc.c
	started, err := sc.startIntruders(sc.otherAPI)
	if err != nil {
		return err
	}
	intruder := started[0]
	// The node that accepts a connection logs the bad handshake; wait
	// until each side has refused the other several poll intervals long.
	const attempts = 3
	if err := c.await(time.Minute, "the nodes refuse the wrong-cookie node, both ways", func(context.Context) error {
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
	}); err != nil {
		return err
	}
	if err := sc.unchanged(good, intruder, "wrong-cookie"); err != nil {
		return err
	}
	sc.step("wrong-cookie node %s refused; the cluster is unchanged", nodeName(intruder))
	return nil
}

// startIntruders adds and starts one pod per set of API objects; the
// headless Service selects them too, so discovery tells every node about
// them.
func (sc *scenario) startIntruders(apis ...*apiObjects) ([]*pod, error) {
	c := sc.c
	var pods []*pod
	for _, api := range apis {
		pods = append(pods, c.addPod(api))
	}
	return pods, c.launch(pods)
}

// unchanged checks that the good nodes still see exactly each other with
// the intruder (what kind of node it is) around, and that the intruder
// sees no one.
func (sc *scenario) unchanged(good []*pod, intruder *pod, what string) error {
	c := sc.c
	ctx, cancel := context.WithTimeout(sc.t.Context(), 30*time.Second)
	defer cancel()
	if err := c.meshed(ctx, good); err != nil {
		return fmt.Errorf("with the %s node around: %w", what, err)
	}
	views, err := c.views(ctx, []*pod{intruder})
	if err != nil {
		return err
	}
	if v := views[intruder]; v.self != nodeName(intruder) || len(v.peers) > 0 {
		return fmt.Errorf("%s node: node() = %s, Node.list() = %v, want %s and []", what, v.self, v.peers, nodeName(intruder))
	}
	return nil
}

// checkSandbox makes sure a simulated pod is as strict as a real one:
// the node runs as the pod's user under the pod's hostname, the root
// filesystem is read-only, and every emptyDir the container mounts (where
// the release writes: RELEASE_TMP, Distillery's RELEASE_MUTABLE_DIR) is
// writable.
func (c *cluster) checkSandbox(p *pod) error {
	spec := &c.wl.template.Spec
	paths := []string{filepath.Join(c.image.config.WorkingDir, ".relgen-e2e")}
	want := []string{strconv.Itoa(int(p.proc.UID)), p.hostname, "{:error, :erofs}"}
	for _, vm := range spec.Containers[0].VolumeMounts {
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name })
		if i >= 0 && spec.Volumes[i].EmptyDir != nil {
			paths = append(paths, filepath.Join(vm.MountPath, ".relgen-e2e"))
			want = append(want, ":ok")
		}
	}
	var writes []string
	for _, path := range paths {
		writes = append(writes, fmt.Sprintf("inspect(File.write(%q, \"\"))", path))
	}
	expr := `IO.puts(Enum.join([String.trim(to_string(:os.cmd('id -u'))), elem(:inet.gethostname(), 1), ` +
		strings.Join(writes, ", ") + `], "|"))`
	ctx, cancel := context.WithTimeout(c.t.Context(), 30*time.Second)
	defer cancel()
	out, err := p.rpc(ctx, expr)
	if err != nil {
		return err
	}
	if out != strings.Join(want, "|") {
		return fmt.Errorf("pod %s: uid|hostname|write to %s = %s, want %s", p.name, strings.Join(paths, "|write to "), out, strings.Join(want, "|"))
	}
	return nil
}

// refusals counts how often the node of p refused a connection from the
// node of from (OTP's dist_util logs each bad challenge reply).
func refusals(p, from *pod) int {
	re := regexp.MustCompile(`Connection attempt from node :?['"]?` + regexp.QuoteMeta(nodeName(from)) + `['"]? rejected`)
	return len(re.FindAllStringIndex(p.log.String(), -1))
}

// launch publishes the DNS records of the pods added so far, waits until
// cluster DNS answers for them, then starts pods and waits until each is
// ready.
func (c *cluster) launch(pods []*pod) error {
	c.net.publish(c.dnsRecords())
	if err := c.await(10*time.Second, "cluster DNS answers "+c.fqdn()+" for the new pods", func(ctx context.Context) error {
		return c.dnsAnswers(ctx, c.pods)
	}); err != nil {
		return err
	}
	for _, p := range pods {
		p.start()
	}
	for _, p := range pods {
		if err := c.waitReady(p, time.Minute); err != nil {
			return err
		}
	}
	return nil
}

// dnsAnswers checks that cluster DNS returns exactly the IPs of pods for
// the headless Service's A records, and their DNS names as the targets
// of its SRV records.
func (c *cluster) dnsAnswers(ctx context.Context, pods []*pod) error {
	ips, targets, err := c.net.lookup(ctx, c.fqdn())
	if err != nil {
		return err
	}
	var wantIPs []string
	var eps []endpoint
	for _, p := range pods {
		wantIPs = append(wantIPs, p.ip)
		eps = append(eps, endpointFor(c.headless, p.ip, &p.spec))
	}
	slices.Sort(wantIPs)
	z, err := headlessRecords(c.headless, eps, c.domain)
	if err != nil {
		return err
	}
	wantTargets := z.srvTargets(c.fqdn())
	if !slices.Equal(ips, wantIPs) || !slices.Equal(targets, wantTargets) {
		return fmt.Errorf("%s = %v, SRV %v; want %v, SRV %v", c.fqdn(), ips, targets, wantIPs, wantTargets)
	}
	return nil
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
		ss:      look("ss", "iproute2"),
		erl:     look("erl", "erlang-nox"),
		mix:     look("mix", "elixir"),
		kubectl: look("kubectl", "kubectl"),
		tar:     look("tar", "tar"),
	}
	look("apt-get", "apt") // relgen build fetches the base's packages with it
	if len(missing) == 0 {
		// Root is not always enough: a container without CAP_SYS_ADMIN,
		// or with a seccomp profile, may not create network namespaces.
		probe := fmt.Sprintf("relgen-e2e-%d-probe", os.Getpid())
		if out, err := exec.Command(tl.ip, "netns", "add", probe).CombinedOutput(); err != nil {
			missing = append(missing, fmt.Sprintf("permission to create network namespaces (ip netns add: %v: %s)", err, strings.TrimSpace(string(out))))
		} else if out, err := exec.Command(tl.ip, "netns", "delete", probe).CombinedOutput(); err != nil {
			t.Fatalf("ip netns delete %s: %v: %s", probe, err, out)
		}
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

// runJobs runs each release command Job in a pod of its own while the
// cluster is up, as CI would before a rollout: the Job runs to
// completion, its VM is not distributed, cluster DNS never lists its pod,
// no node logs a nodeup or nodedown while it runs (E2eApp.NodeLog) and
// every Node.list() is unchanged afterwards.
func (sc *scenario) runJobs(good []*pod) error {
	c := sc.c
	if len(sc.jobs) == 0 {
		return errors.New("the bundle has no Job; the e2e config asks for migrate")
	}
	for _, j := range sc.jobs {
		if img := j.Spec.Template.Spec.Containers[0].Image; img != c.wl.template.Spec.Containers[0].Image {
			return fmt.Errorf("job %s runs image %s, not the %s's", j.Name, img, c.wl.kind)
		}
		p := c.addJobPod(sc.api, j)
		c.net.publish(c.dnsRecords())
		if err := c.await(10*time.Second, "cluster DNS leaves the Job's pod out of "+c.fqdn(), func(ctx context.Context) error {
			return c.dnsAnswers(ctx, good)
		}); err != nil {
			return err
		}
		// The fixture prints every nodeup and nodedown (E2eApp.NodeLog):
		// each node has logged the others joining, and logs nothing
		// while the Job runs, so not even a moment's connection escapes.
		if err := c.await(10*time.Second, "every node logs the others' nodeup", func(context.Context) error {
			var errs []error
			for _, q := range good {
				for _, o := range good {
					if o != q && !strings.Contains(q.log.String(), "\nnodeup "+nodeName(o)+"\n") {
						errs = append(errs, fmt.Errorf("the log of %s has no nodeup %s", q.name, nodeName(o)))
					}
				}
			}
			return errors.Join(errs...)
		}); err != nil {
			return err
		}
		seen := map[*pod]int{}
		for _, q := range good {
			seen[q] = q.log.Len()
		}
		p.start()
		if err := c.await(time.Minute, "job "+j.Name+" completes", func(context.Context) error {
			for _, q := range good {
				for _, l := range strings.Split(q.log.String()[seen[q]:], "\n") {
					if strings.HasPrefix(l, "nodeup ") || strings.HasPrefix(l, "nodedown ") {
						return permanent(fmt.Errorf("while job %s runs, node %s logged %q; want no change in the cluster", j.Name, nodeName(q), l))
					}
				}
			}
			if p.running() {
				return fmt.Errorf("job %s is still running", j.Name)
			}
			return nil
		}); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(sc.t.Context(), 30*time.Second)
		err := c.meshed(ctx, good)
		cancel()
		if err != nil {
			return fmt.Errorf("after job %s: %w", j.Name, err)
		}
		if err := p.cur.err; err != nil {
			return fmt.Errorf("job %s failed: %v\n%s", j.Name, err, p.log.String())
		}
		line := ""
		for _, l := range strings.Split(p.log.String(), "\n") {
			if strings.HasPrefix(l, jobReport) {
				line = l
			}
		}
		if want := jobReport + "nonode@nohost alive=false http_port=8000"; line != want {
			return fmt.Errorf("job %s printed %q, want %q:\n%s", j.Name, line, want, p.log.String())
		}
		sc.step("job %s completed outside the cluster (%s; no node logged a nodeup or nodedown while it ran)", j.Name, strings.TrimPrefix(line, jobReport))
	}
	return nil
}
