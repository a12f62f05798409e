package cli

import (
	"crypto/rand"
	"io"

	"github.com/spf13/cobra"

	"github.com/relgen/relgen/manifests"
)

// SecretOptions are the flags of relgen secret.
type SecretOptions struct {
	Env string
	// Random is the cookie's entropy source; tests replace it.
	Random io.Reader
}

func newSecretCommand(g *GlobalOptions) *cobra.Command {
	o := &SecretOptions{Random: rand.Reader}
	cmd := &cobra.Command{
		Use:   "secret --env ENV",
		Short: "Print a cookie Secret with a fresh random cookie",
		Long: `Print the Secret that the environment's pods read the Erlang cookie from
(release.cookie.secret / key), holding a fresh random cookie. This is the
only command that prints a cookie; the bundle only references the Secret.
Create it once per environment; every node of an environment must share it.`,
		Example: `  relgen secret --env prod | kubectl apply -f -`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, spec, err := loadSpec(g, o.Env)
			if err != nil {
				return err
			}
			cookie, err := manifests.NewCookie(o.Random)
			if err != nil {
				return err
			}
			y, err := manifests.Marshal(manifests.CookieSecret(spec, cookie))
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(y)
			return err
		},
	}
	cmd.Flags().StringVar(&o.Env, "env", "", "environment (a key of environments)")
	return cmd
}
