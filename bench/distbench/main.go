package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

func main() {
	n := flag.Int("n", 200, "connections per mode")
	port := flag.Int("port", 9123, "distribution port of the target node")
	flag.Parse()
	if err := run(*n, *port); err != nil {
		fmt.Fprintln(os.Stderr, "distbench:", err)
		os.Exit(1)
	}
}

// driver connects to the target n times and prints the setup times in
// microseconds, median and p90.
const driver = `T = list_to_atom(os:getenv("TARGET")), N = list_to_integer(os:getenv("N")),
Once = fun() ->
  T0 = erlang:monotonic_time(microsecond),
  true = net_kernel:connect_node(T),
  T1 = erlang:monotonic_time(microsecond),
  erlang:monitor_node(T, true), erlang:disconnect_node(T),
  receive {nodedown, T} -> ok after 5000 -> exit(no_nodedown) end,
  T1 - T0 end,
_ = [Once() || _ <- lists:seq(1, 5)],
S = lists:sort([Once() || _ <- lists:seq(1, N)]),
io:format("~b ~b~n", [lists:nth((N + 1) div 2, S), lists:nth((N * 9 + 9) div 10, S)]),
halt().`

func run(n, port int) error {
	dir, err := os.MkdirTemp("", "relgen-distbench")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	optfile, err := tlsFiles(dir)
	if err != nil {
		return err
	}
	common := []string{"-setcookie", "bench", "-start_epmd", "false", "-erl_epmd_port", fmt.Sprint(port)}
	tls := []string{"-proto_dist", "inet_tls", "-ssl_dist_optfile", optfile}
	for _, mode := range []struct {
		name  string
		flags []string
	}{{"tcp", nil}, {"tls", tls}} {
		args := append(append([]string{"-noshell", "-name", "target@127.0.0.2",
			"-kernel", "inet_dist_use_interface", "{127,0,0,2}"}, common...), mode.flags...)
		target := exec.Command("erl", args...)
		if err := target.Start(); err != nil {
			return fmt.Errorf("starting the target node: %w", err)
		}
		median, p90, err := measure(n, append(append(common, mode.flags...), "-dist_listen", "false"))
		_ = target.Process.Kill()
		_ = target.Wait()
		if err != nil {
			return fmt.Errorf("%s: %w", mode.name, err)
		}
		fmt.Printf("%s: connection setup median %.2f ms, p90 %.2f ms (%d connections)\n", mode.name, median, p90, n)
	}
	return nil
}

// measure runs the driver until the target answers, then for n
// connections.
func measure(n int, flags []string) (median, p90 float64, err error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		args := append(append([]string{"-noshell", "-hidden", "-name", "driver@127.0.0.1"}, flags...), "-eval", driver)
		cmd := exec.CommandContext(ctx, "erl", args...)
		cmd.Env = append(os.Environ(), "TARGET=target@127.0.0.2", fmt.Sprintf("N=%d", n))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		if err == nil {
			var med, p int
			if _, err := fmt.Sscanf(strings.TrimSpace(out.String()), "%d %d", &med, &p); err != nil {
				return 0, 0, fmt.Errorf("driver printed %q", out.String())
			}
			return float64(med) / 1000, float64(p) / 1000, nil
		}
		if time.Now().After(deadline) {
			return 0, 0, errors.New("driver: " + out.String())
		}
		time.Sleep(200 * time.Millisecond) // the target is still booting
	}
}

// tlsFiles writes a CA, node certificate and key from relgen's generator
// and the ssl_dist_optfile relgen renders, pointed at dir instead of the
// pod's mount; it returns the optfile's path.
func tlsFiles(dir string) (string, error) {
	yes := false
	cfg := &release.Config{
		Release:      release.ReleaseConfig{Name: "bench", Version: "0.1.0", Kind: release.KindMix},
		Image:        release.ImageConfig{Repository: "example.invalid/bench"},
		Cluster:      release.ClusterConfig{EPMD: &yes, TLS: &release.TLSConfig{Secret: "bench-tls"}},
		Environments: map[string]release.Environment{"bench": {Namespace: "bench"}},
	}
	spec, err := cfg.Resolve("bench", discovery.Registry{})
	if err != nil {
		return "", err
	}
	b, err := manifests.Generate(spec, manifests.Options{Image: "example.invalid/bench:0.1.0"})
	if err != nil {
		return "", err
	}
	s, err := manifests.NewTLSSecret(spec, nil, time.Now(), time.Hour)
	if err != nil {
		return "", err
	}
	for k, v := range s.Secret.StringData {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
			return "", err
		}
	}
	optfile := filepath.Join(dir, manifests.SSLDistKey)
	conf := strings.ReplaceAll(b.SSLDist, release.TLSDir, dir)
	return optfile, os.WriteFile(optfile, []byte(conf), 0o600)
}
