package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The cluster network of the simulation: a "node" network namespace with
// a bridge, one network namespace per pod plugged into it by a veth pair,
// and dnsmasq on the bridge standing in for cluster DNS. Nothing touches
// the machine's own interfaces or routes.

const (
	subnet   = "10.213.0"
	gateway  = subnet + ".1"
	dnsPort  = "53"
	ipBridge = "br0"
)

type network struct {
	t      *testing.T
	tools  *tools
	prefix string // relgen-e2e-<pid>-c<n>
	hostNS string
	dir    string

	created []string // network namespaces to delete, in order

	dnsmasq   *exec.Cmd
	dnsDone   chan struct{}
	dnsLog    *logBuffer
	hostsFile string
	// srvArgs are the SRV records the running dnsmasq serves.
	srvArgs []string
}

// newNetwork creates the node namespace and its bridge. Cleanup deletes
// every namespace it created and stops dnsmasq, also when the test fails.
func newNetwork(t *testing.T, tl *tools, dir string) *network {
	// Each cluster's namespaces are its own (the same subnet in every
	// one never meets another's), so clusters can run side by side.
	n := &network{t: t, tools: tl, prefix: fmt.Sprintf("relgen-e2e-%d-c%d", os.Getpid(), clusterSeq.Add(1)), dir: dir, dnsLog: &logBuffer{}}
	n.hostNS = n.prefix + "-node"
	sweepOnce.Do(n.sweep)
	t.Cleanup(n.close)
	n.addNS(n.hostNS)
	n.ip("-n", n.hostNS, "link", "set", "lo", "up")
	n.ip("-n", n.hostNS, "link", "add", ipBridge, "type", "bridge")
	n.ip("-n", n.hostNS, "addr", "add", gateway+"/24", "dev", ipBridge)
	n.ip("-n", n.hostNS, "link", "set", ipBridge, "up")
	return n
}

var (
	clusterSeq atomic.Int64
	sweepOnce  sync.Once
)

// sweep deletes the network namespaces of an earlier run of this test
// that was killed before its cleanup could run (its process is gone).
func (n *network) sweep() {
	out, err := exec.Command(n.tools.ip, "netns", "list").Output()
	if err != nil {
		n.t.Fatalf("ip netns list: %v", err)
	}
	re := regexp.MustCompile(`^relgen-e2e-(\d+)-\S+`)
	for _, line := range strings.Split(string(out), "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue
		}
		n.t.Logf("deleting network namespace %s left behind by a killed run", m[0])
		n.ip("netns", "delete", m[0])
	}
}

func (n *network) ip(args ...string) {
	n.t.Helper()
	out, err := exec.Command(n.tools.ip, args...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (n *network) addNS(name string) {
	n.t.Helper()
	n.ip("netns", "add", name)
	n.created = append(n.created, name)
}

// addPod creates pod i's network namespace, wired to the bridge, and
// returns its name and IP.
func (n *network) addPod(i int) (netns, ip string) {
	n.t.Helper()
	netns, ip = fmt.Sprintf("%s-pod%d", n.prefix, i), fmt.Sprintf("%s.%d", subnet, 10+i)
	veth := fmt.Sprintf("veth%d", i)
	n.addNS(netns)
	n.ip("-n", n.hostNS, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
	n.ip("-n", n.hostNS, "link", "set", veth, "master", ipBridge, "up")
	n.ip("-n", netns, "link", "set", "lo", "up")
	n.ip("-n", netns, "addr", "add", ip+"/24", "dev", "eth0")
	n.ip("-n", netns, "link", "set", "eth0", "up")
	n.ip("-n", netns, "route", "add", "default", "via", gateway)
	return netns, ip
}

// startDNS runs dnsmasq on the bridge, authoritative for cluster.local:
// a name it has no record for is NXDOMAIN, as with CoreDNS. A records
// come from a hosts file, SRV records from the command line.
func (n *network) startDNS(z dnsZone) {
	n.t.Helper()
	n.hostsFile = filepath.Join(n.dir, "dns-hosts")
	n.writeHosts(z.a)
	n.srvArgs = z.srvArgs()
	args := []string{"netns", "exec", n.hostNS, n.tools.dnsmasq,
		"--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--addn-hosts=" + n.hostsFile, "--local=/cluster.local/",
		"--listen-address=" + gateway, "--bind-interfaces", "--port=" + dnsPort,
		"--pid-file=" + filepath.Join(n.dir, "dnsmasq.pid"),
		// As root, so it can reread the hosts file in the test's private
		// directory, and without a change of group, which would clear the
		// parent-death signal.
		"--user=root", "--group=root",
		"--log-facility=-", "--log-queries"}
	cmd := exec.Command(n.tools.ip, append(args, n.srvArgs...)...)
	cmd.Stdout, cmd.Stderr = n.dnsLog, n.dnsLog
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("starting dnsmasq: %v", err)
	}
	n.dnsmasq, n.dnsDone = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(n.dnsDone) }()
}

func (n *network) writeHosts(records map[string][]string) {
	n.t.Helper()
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(records)) {
		for _, ip := range records[name] {
			fmt.Fprintf(&b, "%s %s\n", ip, name)
		}
	}
	tmp := n.hostsFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		n.t.Fatal(err)
	}
	if err := os.Rename(tmp, n.hostsFile); err != nil {
		n.t.Fatal(err)
	}
}

// publish replaces the DNS records, starting cluster DNS the first time.
// dnsmasq rereads its hosts file (the A records) on SIGHUP, but not its
// SRV records: when those change (a pod is added), it is restarted.
func (n *network) publish(z dnsZone) {
	n.t.Helper()
	switch {
	case n.dnsmasq == nil:
		n.startDNS(z)
	case !slices.Equal(z.srvArgs(), n.srvArgs):
		n.stopDNS()
		n.startDNS(z)
	default:
		n.writeHosts(z.a)
		if err := n.dnsmasq.Process.Signal(syscall.SIGHUP); err != nil {
			n.t.Fatalf("reloading dnsmasq: %v", err)
		}
	}
}

// stopDNS stops the dnsmasq this network started, by its PID.
func (n *network) stopDNS() {
	if n.dnsmasq == nil || n.dnsmasq.Process == nil {
		return
	}
	_ = n.dnsmasq.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.dnsDone:
	case <-time.After(5 * time.Second):
		_ = n.dnsmasq.Process.Kill()
		<-n.dnsDone
	}
	n.dnsmasq = nil
}

// lookup asks the cluster DNS server, from the node namespace, for the A
// records of name and the targets of its SRV records, each sorted.
func (n *network) lookup(ctx context.Context, name string) (ips, srvTargets []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return n.dial(ctx, network, gateway+":"+dnsPort)
	}}
	ips, err = r.LookupHost(ctx, name+".")
	if err != nil {
		return nil, nil, fmt.Errorf("dns %s: %w", name, err)
	}
	slices.Sort(ips)
	// The bare name, as libcluster's DNSSRV and dns_cluster ask it.
	_, srvs, err := r.LookupSRV(ctx, "", "", name+".")
	if err != nil {
		return nil, nil, fmt.Errorf("SRV %s: %w", name, err)
	}
	for _, s := range srvs {
		srvTargets = append(srvTargets, strings.TrimSuffix(s.Target, "."))
	}
	slices.Sort(srvTargets)
	return ips, slices.Compact(srvTargets), nil
}

// httpGet runs an HTTP GET from the node namespace, as kubelet's probes
// do (one second timeout), and returns the status code.
func (n *network) httpGet(ctx context.Context, url string) (string, error) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DialContext: n.dial, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("http %s: %w", url, err)
	}
	_ = resp.Body.Close()
	return strconv.Itoa(resp.StatusCode), nil
}

func (n *network) tcpConnect(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := n.dial(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("tcp %s: %w", addr, err)
	}
	return conn.Close()
}

// dial opens a connection from the node namespace, as kubelet's probes
// and a pod's resolver do: the socket is made on a thread that has
// entered the namespace (a socket stays in the namespace it was made in),
// which then returns to the test's own. Go never starts new threads from
// a locked thread, so no other goroutine ever runs in the namespace.
func (n *network) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer func() { _ = self.Close() }()
	ns, err := os.Open(filepath.Join("/run/netns", n.hostNS))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer func() { _ = ns.Close() }()
	if err := setns(ns); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("entering network namespace %s: %w", n.hostNS, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if rerr := setns(self); rerr != nil {
		// The thread stays in the pod network: keep it locked, so that
		// it ends with this goroutine.
		if conn != nil {
			_ = conn.Close()
		}
		return nil, fmt.Errorf("returning from network namespace %s: %w", n.hostNS, rerr)
	}
	runtime.UnlockOSThread()
	return conn, err
}

func setns(f *os.File) error { return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET) }

func (n *network) close() {
	n.stopDNS()
	if n.t.Failed() {
		lines := strings.SplitAfter(n.dnsLog.String(), "\n")
		n.t.Logf("dnsmasq log (last 40 lines):\n%s", strings.Join(lines[max(0, len(lines)-40):], ""))
	}
	for _, ns := range slices.Backward(n.created) {
		if out, err := exec.Command(n.tools.ip, "netns", "delete", ns).CombinedOutput(); err != nil {
			n.t.Errorf("deleting network namespace %s: %v\n%s", ns, err, out)
		}
	}
}
