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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
