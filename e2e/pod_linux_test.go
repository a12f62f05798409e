package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// tools are the programs the simulation runs, resolved once.
type tools struct {
	ip, dnsmasq, nsenter, ss, mix, erl, kubectl, tar string
	// self is this test binary, re-executed as the container runtime.
	self string
	// relgen is the relgen command, built for the test (testutil.Relgen).
	relgen string
}

// pod is one simulated pod: a network namespace that outlives its
// container, files kubelet would write (hosts, resolv.conf, volumes), and
// the container, which can be stopped and started again as kubelet
// restarts it.
type pod struct {
	t     *testing.T
	tools *tools
	name  string
	// hostname is the pod's hostname (spec.hostname, else its name);
	// host is what discovery names its node by: its IP, or its FQDN
	// <hostname>.<subdomain>.<namespace>.svc.<domain> (nodeName).
	hostname, host string
	// spec is the pod's spec: its template, with the hostname and
	// subdomain its controller set.
	spec   corev1.PodSpec
	netns  string
	ip     string
	dir    string
	labels map[string]string
	image  []string // the image's layer directories, top first
	mounts []mountSpec
	proc   *process
	log    *logBuffer
	runs   int
	cur    *run
}

// run is one start of the container.
type run struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (r *run) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// start starts the container: the test binary as container runtime in a
// new PID, UTS, IPC and mount namespace inside the pod's network
// namespace. Cleanup kills it if it is still running.
func (p *pod) start() {
	p.t.Helper()
	if p.cur != nil && !p.cur.exited() {
		p.t.Fatalf("pod %s: container already running", p.name)
	}
	p.runs++
	scratch := filepath.Join(p.dir, fmt.Sprintf("run%d", p.runs))
	if err := os.Mkdir(scratch, 0o700); err != nil {
		p.t.Fatal(err)
	}
	proc := *p.proc
	proc.Env = harnessEnv(proc.Env)
	spec, err := json.Marshal(runtimeSpec{Layers: p.image, Scratch: scratch, Hostname: p.hostname, Mounts: p.mounts, Process: proc})
	if err != nil {
		p.t.Fatal(err)
	}
	specFile := scratch + ".json"
	if err := os.WriteFile(specFile, spec, 0o600); err != nil {
		p.t.Fatal(err)
	}
	fmt.Fprintf(p.log, "=== %s container start %d of pod %s (%s) ===\n", time.Now().Format("15:04:05.000"), p.runs, p.name, p.ip)
	cmd := exec.Command(p.tools.ip, "netns", "exec", p.netns, p.tools.self, podHelperArg, specFile)
	cmd.Env = helperEnv
	cmd.Stdout, cmd.Stderr = p.log, p.log
	// Pdeathsig: should the test binary die without cleaning up, the
	// container (PID 1 of its PID namespace, so with its epmd) dies too.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		Pdeathsig:  syscall.SIGKILL,
	}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("pod %s: starting the container: %v", p.name, err)
	}
	r := &run{cmd: cmd, done: make(chan struct{})}
	go func() { r.err = cmd.Wait(); close(r.done) }()
	p.cur = r
	p.t.Cleanup(func() {
		if !r.exited() {
			_ = cmd.Process.Kill() // PID 1 of the pod: the kernel kills the rest (epmd)
			<-r.done
		}
	})
}

// stop ends the container as kubelet does: SIGTERM to its PID 1, SIGKILL
// once the grace period is over. It reports whether the container exited
// within the grace period, and how.
func (p *pod) stop(grace time.Duration) (graceful bool, exit error) {
	r := p.cur
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("pod %s: SIGTERM: %v", p.name, err)
	}
	select {
	case <-r.done:
		return true, r.err
	case <-time.After(grace):
		_ = r.cmd.Process.Kill()
		<-r.done
		return false, r.err
	}
}

// kill ends the container at once with SIGKILL to its PID 1, as an OOM
// kill or a node failure would; the kernel ends the rest of its PID
// namespace (epmd).
func (p *pod) kill() {
	r := p.cur
	if err := r.cmd.Process.Kill(); err != nil {
		p.t.Fatalf("pod %s: SIGKILL: %v", p.name, err)
	}
	<-r.done
}

// running reports whether the container is up (it may still be booting).
func (p *pod) running() bool { return p.cur != nil && !p.cur.exited() }

// rpc evaluates expr on the pod's node the way `kubectl exec POD --
// bin/<name> rpc EXPR` does: a process joining the container's
// namespaces and root, as its user, with its environment.
func (p *pod) rpc(ctx context.Context, expr string) (string, error) {
	return p.exec(ctx, p.proc.Args[0], "rpc", expr)
}

// exec runs argv in the running container the way `kubectl exec` (and a
// preStop exec hook) does: a process joining the container's namespaces
// and root, as its user, with its environment.
func (p *pod) exec(ctx context.Context, argv ...string) (string, error) {
	r := p.cur
	if r == nil || r.exited() {
		return "", errors.New("container is not running")
	}
	args := []string{
		"--target", strconv.Itoa(r.cmd.Process.Pid),
		"--mount", "--uts", "--ipc", "--net", "--pid", "--root", "--wd",
		"--setgid", strconv.Itoa(int(p.proc.GID)), "--setuid", strconv.Itoa(int(p.proc.UID)),
		"--", "/usr/bin/env", "-i",
	}
	args = append(args, harnessEnv(p.proc.Env)...)
	args = append(args, argv...)
	cmd := exec.CommandContext(ctx, p.tools.nsenter, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stdout.String() + " " + stderr.String())
		return "", fmt.Errorf("%s on %s: %v: %s", argv[0], p.name, err, msg)
	}
	// Distillery's rpc prints the expression's value after its output
	// (mix's prints nothing); the callers read the output.
	return strings.TrimSuffix(strings.TrimSpace(stdout.String()), "\n:ok"), nil
}

// beamFlags are emulator flags the simulated runtime adds to every VM in
// a pod (the node, and the VMs of rpc and preStop commands) through
// ERL_ZFLAGS, which relgen's bundle never sets: a scheduler with no work
// sleeps at once instead of busy-waiting. On a small shared machine,
// with a dozen VMs up at once and more booting, the spinning of idle
// schedulers takes CPU from the VMs that have work, slowing every boot
// and poll of the test; in a real pod with its own cores it would cost
// nothing. Nothing the test checks depends on it.
const beamFlags = "+sbwt none +sbwtdcpu none +sbwtdio none"

// harnessEnv is env with beamFlags added to ERL_ZFLAGS.
func harnessEnv(env []string) []string {
	out := slices.Clone(env)
	for i, kv := range out {
		if v, ok := strings.CutPrefix(kv, "ERL_ZFLAGS="); ok {
			out[i] = "ERL_ZFLAGS=" + strings.TrimSpace(v+" "+beamFlags)
			return out
		}
	}
	return append(out, "ERL_ZFLAGS="+beamFlags)
}

// helperEnv is the environment of the test binary re-executed as a
// helper. Under the race detector a Go program sleeps a second before it
// exits unless told not to.
var helperEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GORACE=atexit_sleep_ms=0"}

// logBuffer collects a process's output; safe for concurrent writers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}
