package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// CheckOptions are the flags of relgen check.
type CheckOptions struct {
	ManifestsOptions
	Output string
}

// checkResult is one environment's outcome in --output json.
type checkResult struct {
	Environment string   `json:"environment"`
	OK          bool     `json:"ok"`
	Objects     int      `json:"objects,omitempty"`
	Image       string   `json:"image,omitempty"`
	Pinned      bool     `json:"pinned"`
	Warnings    []string `json:"warnings,omitempty"`
	Errors      []string `json:"errors,omitempty"`
}

func newCheckCommand(g *GlobalOptions) *cobra.Command {
	o := &CheckOptions{Output: "text"}
	cmd := &cobra.Command{
		Use:   "check [--env ENV]",
		Short: "Run every cross-check of the bundles without printing them",
		Long: `Generate the bundle of one environment (--env), or of every environment,
and run every cross-check (names agree, every ${VAR} and $(VAR) has a
source, Services select the pods, discovery queries the headless Service,
cookie from a Secret, image pinned by digest in protected environments,
and under cluster.tls / cluster.epmd: certificates mounted where the
ssl_dist_optfile reads them, the CA it trusts being the mounted one, remote
shells in the nodes' distribution mode, nothing opening epmd's port when
epmd is off) without writing anything. Exit status 0 means every bundle is consistent;
problems and warnings go to stderr. --output json prints one result per
environment on stdout for CI.`,
		Example: `  relgen check --record build.json
  relgen check --env prod --record build.json --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Output != "text" && o.Output != "json" {
				return fmt.Errorf("--output %q: want text or json", o.Output)
			}
			envs := []string{o.Env}
			if o.Env == "" {
				cfg, err := loadConfig(g)
				if err != nil {
					return err
				}
				envs = cfg.EnvironmentNames()
			}
			var results []checkResult
			var errs []error
			for _, env := range envs {
				m := o.ManifestsOptions
				m.Env = env
				r := checkResult{Environment: env}
				b, err := m.generate(cmd, g)
				if err != nil {
					errs = append(errs, err)
					r.Errors = errorLines(err)
				} else {
					r.OK, r.Objects, r.Image = true, len(b.Objects), b.Image
					for _, w := range b.Warnings {
						r.Warnings = append(r.Warnings, withImageHint(w).Error())
					}
					r.Pinned = strings.Contains(b.Image, "@sha256:")
					fmt.Fprintf(cmd.ErrOrStderr(), "relgen: %s: bundle of %d objects is consistent (image %s)\n", env, len(b.Objects), b.Image)
				}
				results = append(results, r)
			}
			if o.Output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(results); err != nil {
					return err
				}
			}
			return errors.Join(errs...)
		},
	}
	o.addFlags(cmd, g, "environment to check (default: every environment)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "text, or json for CI")
	completeValues(cmd, "output", "text", "json")
	return cmd
}
