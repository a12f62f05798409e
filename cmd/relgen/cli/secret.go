package cli

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/relgen/relgen/manifests"
)

// SecretOptions are the flags of relgen secret.
type SecretOptions struct {
	Env string
	// TLS prints the distribution certificate Secret instead of the
	// cookie Secret.
	TLS bool
	// Validity is how long the TLS certificates are valid.
	Validity time.Duration
	// Random is the entropy source; tests replace it.
	Random io.Reader
	// Now is the certificates' start time; tests fix it.
	Now func() time.Time
}

// defaultValidity is a year: long enough not to surprise, short enough
// that rotation gets practised.
const defaultValidity = 365 * 24 * time.Hour

func newSecretCommand(g *GlobalOptions) *cobra.Command {
	o := &SecretOptions{Random: rand.Reader, Now: time.Now, Validity: defaultValidity}
	cmd := &cobra.Command{
		Use:   "secret --env ENV [--tls]",
		Short: "Print a cookie Secret with a fresh random cookie, or a TLS distribution Secret",
		Long: `Print the Secret that the environment's pods read the Erlang cookie from
(release.cookie.secret / key), holding a fresh random cookie. This is the
only command that prints a cookie; the bundle only references the Secret.

Create it once per environment with kubectl create: every node of an
environment must share the cookie, and each run draws a new one. The
Secret is immutable, so applying a second one fails instead of rotating
the cookie under running nodes (pods started after a rotation could not
join the old ones). To rotate on purpose, delete the Secret, create a new
one and restart every pod of the environment.

With --tls, print instead the kubernetes.io/tls Secret that TLS
distribution (cluster.tls.secret) mounts: a fresh CA (ECDSA P-256), the
only certificate the nodes trust (ca.crt), and one node certificate it
signed for the cluster identity, the headless Service's DNS name
(tls.crt, tls.key). Both are valid for --validity; the expiry goes to
stderr. The CA's private key is not kept: to rotate, make a new Secret
and roll it out as docs/security.md describes.`,
		Example: `  relgen secret --env prod | kubectl create -f -
  relgen secret --env prod --tls --validity 2160h | kubectl create -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, spec, err := loadSpec(g, o.Env)
			if err != nil {
				return err
			}
			var y []byte
			if o.TLS {
				s, err := manifests.NewTLSSecret(spec, o.Random, o.Now(), o.Validity)
				if err != nil {
					return err
				}
				if y, err = manifests.Marshal(s.Secret); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "relgen: %s: CA and node certificate of Secret %s expire %s\n",
					spec.Environment, s.Secret.Name, s.NotAfter.Format(time.RFC3339))
			} else {
				cookie, err := manifests.NewCookie(o.Random)
				if err != nil {
					return err
				}
				if y, err = manifests.Marshal(manifests.CookieSecret(spec, cookie)); err != nil {
					return err
				}
			}
			_, err = cmd.OutOrStdout().Write(y)
			return err
		},
	}
	envFlag(cmd, g, &o.Env, "environment (a key of environments)")
	cmd.Flags().BoolVar(&o.TLS, "tls", false, "print the TLS distribution Secret (cluster.tls.secret) with a fresh CA and node certificate")
	cmd.Flags().DurationVar(&o.Validity, "validity", o.Validity, "with --tls: how long the CA and node certificate are valid (at least 1h)")
	return cmd
}
