package cli

import (
	"github.com/spf13/cobra"
)

// envFlag registers --env; shell completion offers the environments of
// the config file that -f names (relgen.yaml by default).
func envFlag(cmd *cobra.Command, g *GlobalOptions, p *string, usage string) {
	cmd.Flags().StringVar(p, "env", "", usage)
	_ = cmd.RegisterFlagCompletionFunc("env", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return environmentNames(g), cobra.ShellCompDirectiveNoFileComp
	})
}

// environmentNames lists the config's environments for completion, or
// none when the config does not load.
func environmentNames(g *GlobalOptions) []cobra.Completion {
	cfg, err := loadConfig(g)
	if err != nil {
		return nil
	}
	return cfg.EnvironmentNames()
}

// completeValues makes shell completion offer values for flag.
func completeValues(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}
