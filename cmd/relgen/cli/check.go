package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCheckCommand(g *GlobalOptions) *cobra.Command {
	o := &ManifestsOptions{}
	cmd := &cobra.Command{
		Use:   "check --env ENV",
		Short: "Run every cross-check of an environment's bundle without printing it",
		Long: `Generate the environment's bundle and run every cross-check (names agree,
every ${VAR} and $(VAR) has a source, Services select the pods, discovery
queries the headless Service, cookie from a Secret, image pinned by digest
in protected environments) without writing anything. Exit status 0 means
the bundle is consistent; warnings go to stderr.`,
		Example: `  relgen check --env prod --record build.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := o.generate(cmd, g)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "relgen: %s: bundle of %d objects is consistent (image %s)\n", b.Spec.Environment, len(b.Objects), b.Image)
			return nil
		},
	}
	o.addFlags(cmd, "environment to check (a key of environments)")
	return cmd
}
