package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/vmargs"
)

// VMArgsOptions are the flags of relgen vmargs.
type VMArgsOptions struct {
	Env     string
	Resolve bool
}

func newVMArgsCommand(g *GlobalOptions) *cobra.Command {
	o := &VMArgsOptions{}
	cmd := &cobra.Command{
		Use:   "vmargs --env ENV",
		Short: "Print the vm.args a node boots with in one environment",
		Long: `Print the rendered vm.args of one environment, exactly as it is mounted in
the pods. ${VAR} placeholders are left for the runtime; with --resolve they
are filled from the current environment, strictly: an unset variable is an
error unless written ${VAR:-default}. The cookie (RELEASE_COOKIE) is shown
as [redacted]: relgen secret is the only command that prints one.`,
		Example: `  relgen vmargs --env prod
  MY_POD_IP=10.0.0.7 RELEASE_COOKIE=secret relgen vmargs --env prod --resolve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, rt, err := loadRuntime(g, o.Env)
			if err != nil {
				return err
			}
			text := rt.VMArgs
			if o.Resolve {
				env := environ(g)
				if c, ok := env[release.CookieEnv]; ok {
					// relgen secret is the only command that prints a cookie.
					env[release.CookieEnv] = release.NewSecret(c).String()
				}
				if text, err = vmargs.Resolve(text, env); err != nil {
					return unsetHint(eachWrapped(err, "resolving vm.args of "+o.Env))
				}
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), text)
			return err
		},
	}
	envFlag(cmd, g, &o.Env, "environment to render (a key of environments)")
	cmd.Flags().BoolVar(&o.Resolve, "resolve", false, "substitute ${VAR} from the current environment")
	return cmd
}

// unsetHint adds to each unset placeholder what makes --resolve fill it: the
// pods get the variable from the Deployment, this shell does not.
func unsetHint(err error) error {
	errs := release.Split(err)
	for i, e := range errs {
		var unset *vmargs.UnsetError
		if errors.As(e, &unset) {
			errs[i] = fmt.Errorf("%w; set it for this command (%s=... relgen vmargs --resolve), as the pods get it from the Deployment",
				e, unset.Name)
		}
	}
	return errors.Join(errs...)
}

// environ returns the process environment as a map.
func environ(g *GlobalOptions) map[string]string {
	env := map[string]string{}
	for _, kv := range g.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
