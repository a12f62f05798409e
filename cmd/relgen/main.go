// Command relgen ships an Elixir/Erlang release to Kubernetes as one
// consistent bundle: image, vm.args, Deployment, Services and peer
// discovery config derived from one relgen.yaml.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/relgen/relgen/cmd/relgen/cli"
)

func main() {
	os.Exit(run())
}

// run executes the command with a context that the first SIGINT or
// SIGTERM cancels: work stops, temporary files are removed, and nothing
// half-written is left. A second signal ends the process at once. A
// command stopped by a signal exits with 128+signal, as shells report it.
func run() int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	got := make(chan syscall.Signal, 1)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		got <- s.(syscall.Signal)
		cancel(context.Canceled)
	}()
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(sigs)
	select {
	case s := <-got:
		if code != 0 {
			return 128 + int(s)
		}
	default:
	}
	return code
}
