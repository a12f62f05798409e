// Package cli holds relgen's cobra commands: flags, printing, exit codes
// and the wording of errors for the command line. Configs load through
// release/load; everything else lives in the libraries.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relgen/relgen/release"
)

// GlobalOptions are the flags every command shares.
type GlobalOptions struct {
	// ConfigFile is relgen.yaml's path (-f/--config).
	ConfigFile string
	// Set holds key=value overrides (--set), the highest precedence.
	Set []string
	// Environ lists the process environment (os.Environ); tests replace it.
	Environ func() []string
}

// NewRootCommand builds the relgen command tree, reading the process
// environment.
func NewRootCommand() *cobra.Command {
	return newRootCommand(&GlobalOptions{Environ: os.Environ})
}

// newRootCommand builds the command tree around g; tests give it their
// own Environ.
func newRootCommand(g *GlobalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "relgen",
		Short: "Ship an Elixir/Erlang release to Kubernetes as one consistent bundle",
		Long: `relgen turns a built Elixir/Erlang release and one relgen.yaml into an OCI
image and, per environment, a Kubernetes bundle (Deployment, headless Service,
peer discovery config, vm.args) whose shared names are derived once and
cross-checked, so nodes find each other.

Config precedence: --set > RELGEN_* env vars (e.g. RELGEN_DEPLOYMENT_REPLICAS,
RELGEN_ENVIRONMENTS_PROD_REPLICAS) > the config file > defaults.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.ConfigFile, "config", "f", "relgen.yaml", "config file (YAML, TOML or JSON)")
	root.PersistentFlags().StringArrayVar(&g.Set, "set", nil, "override a config key, e.g. --set environments.prod.replicas=4 (repeatable)")
	root.AddCommand(
		newInitCommand(g),
		newBuildCommand(g),
		newSBOMCommand(g),
		newManifestsCommand(g),
		newCheckCommand(g),
		newDiffCommand(g),
		newSecretCommand(g),
		newDiscoveryCommand(g),
		newVMArgsCommand(g),
		newVersionCommand(),
	)
	return root
}

// Execute runs relgen with args and returns the exit code. Errors are
// printed once, one "relgen: " line per problem.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

func printError(w io.Writer, err error) {
	for _, line := range errorLines(err) {
		fmt.Fprintf(w, "relgen: %s\n", line)
	}
}

// errorLines flattens joined errors into one line each.
func errorLines(err error) []string {
	var lines []string
	for _, e := range release.Split(err) {
		for _, l := range strings.Split(e.Error(), "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// eachWrapped prefixes every joined error with context, so each printed
// line says what it is about.
func eachWrapped(err error, context string) error {
	errs := release.Split(err)
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s: %w", context, e)
	}
	return errors.Join(out...)
}

// warn prints a warning that does not stop the command.
func warn(cmd *cobra.Command, msg string) {
	fmt.Fprintf(cmd.ErrOrStderr(), "relgen: warning: %s\n", msg)
}

var errNoEnv = errors.New("--env is required")
