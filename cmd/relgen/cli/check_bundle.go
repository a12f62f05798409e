package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/release"
)

// bundleResult is check --bundle's outcome in --output json.
type bundleResult struct {
	Bundle   string   `json:"bundle"`
	OK       bool     `json:"ok"`
	Warnings []string `json:"warnings,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// checkBundle runs the cross-checks on a rendered bundle (a file, or -
// for stdin). With -f given on the command line it also compares the
// bundle with that config's environment --env.
func (o *CheckOptions) checkBundle(cmd *cobra.Command, g *GlobalOptions) error {
	var spec *release.Spec
	if f := cmd.Flag("config"); f != nil && f.Changed || o.Env != "" {
		_, s, err := loadSpec(g, o.Env)
		if err != nil {
			return err
		}
		spec = s
	}
	in := cmd.InOrStdin()
	if o.Bundle != "-" {
		f, err := os.Open(o.Bundle)
		if err != nil {
			return fmt.Errorf("--bundle: %w", err)
		}
		defer func() { _ = f.Close() }() // read only
		in = f
	}
	rep, err := manifests.CheckBundle(in, manifests.CheckOptions{Domain: o.ClusterDomain, Namespace: o.Namespace}, spec)
	if err != nil {
		return fmt.Errorf("reading bundle %s: %w", o.bundleName(), err)
	}
	r := bundleResult{Bundle: o.bundleName(), OK: len(rep.Problems) == 0 && (!o.Strict || len(rep.Warnings) == 0)}
	stderr := cmd.ErrOrStderr()
	var errs []error
	for _, w := range rep.Warnings {
		r.Warnings = append(r.Warnings, w.Error())
		if o.Strict {
			errs = append(errs, fmt.Errorf("%s: %w", o.bundleName(), w))
			continue
		}
		fmt.Fprintf(stderr, "relgen: warning: %s: %s\n", o.bundleName(), w)
	}
	for _, p := range rep.Problems {
		r.Errors = append(r.Errors, p.Error())
		errs = append(errs, fmt.Errorf("%s: %w", o.bundleName(), p))
	}
	if o.Output == "json" {
		if err := writeJSON(cmd.OutOrStdout(), r); err != nil {
			return err
		}
	}
	if !r.OK {
		return errors.Join(errs...)
	}
	fmt.Fprintf(stderr, "relgen: %s: bundle is consistent\n", o.bundleName())
	return nil
}

func (o *CheckOptions) bundleName() string {
	if o.Bundle == "-" {
		return "<stdin>"
	}
	return o.Bundle
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
