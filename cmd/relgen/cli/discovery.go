package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// DiscoveryOptions are the flags of relgen discovery.
type DiscoveryOptions struct {
	Env    string
	Format string
}

func newDiscoveryCommand(g *GlobalOptions) *cobra.Command {
	o := &DiscoveryOptions{Format: "erlang"}
	cmd := &cobra.Command{
		Use:   "discovery --env ENV [--format erlang|elixir]",
		Short: "Print the peer discovery config of one environment",
		Long: `Print what the discovery strategy (cluster.discovery) needs in one
environment. --format erlang (the default) prints the config file relgen
mounts at /etc/relgen/discovery.config; --format elixir prints the
equivalent config/*.exs snippet for users who prefer compile-time config,
and what to add to the application.

Under cluster.discovery_config: env there is no config file: the settings
reach the pods as env vars (listed on stderr), and --format elixir prints
the config/runtime.exs block that reads them.`,
		Example: `  relgen discovery --env prod
  relgen discovery --env prod --format elixir`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Format != "erlang" && o.Format != "elixir" {
				return fmt.Errorf("--format %q: want erlang or elixir", o.Format)
			}
			spec, rt, err := loadRuntime(g, o.Env)
			if err != nil {
				return err
			}
			if p := rt.Plan; p.Config == "" && p.Elixir == "" && len(p.Env) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "relgen: discovery is %s in environment %s (%s): the nodes do not look for each other, so there is nothing to add; set cluster.discovery to cluster them\n",
					spec.Discovery, o.Env, spec.KeyPath("discovery"))
				return nil
			}
			p := rt.Plan
			out := p.Config
			if o.Format == "elixir" {
				out = p.Elixir
				if p.Setup != "" {
					out = "# " + strings.ReplaceAll(p.Setup, "\n", "\n# ") + "\n" + out
				}
			}
			for _, e := range p.Env {
				fmt.Fprintf(cmd.ErrOrStderr(), "relgen: the pods get %s=%s\n", e.Name, e.Value)
			}
			if out == "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "relgen: discovery %s mounts no config file in environment %s; --format elixir shows what the application needs\n",
					spec.Discovery, o.Env)
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), out)
			return err
		},
	}
	envFlag(cmd, g, &o.Env, "environment (a key of environments)")
	cmd.Flags().StringVar(&o.Format, "format", o.Format, "erlang (the mounted config file) or elixir (a config/*.exs snippet)")
	completeValues(cmd, "format", "erlang", "elixir")
	return cmd
}
