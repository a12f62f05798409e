package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/release"
)

// CheckOptions are the flags of relgen check.
type CheckOptions struct {
	ManifestsOptions
	Output string
	// Strict makes warnings errors.
	Strict bool
	// Bundle is a rendered bundle to check instead of generating one:
	// a file, or - for stdin.
	Bundle        string
	ClusterDomain string
	Namespace     string
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
	// Needs are the Secrets and ConfigMaps (keys) the bundle refers to
	// and does not create: they must exist before it is applied.
	Needs []manifests.Need `json:"needs,omitempty"`
}

var checkOutputs = []string{"text", "json", "checklist"}

func newCheckCommand(g *GlobalOptions) *cobra.Command {
	o := &CheckOptions{Output: "text"}
	cmd := &cobra.Command{
		Use:   "check [--env ENV] [--bundle FILE|-]",
		Short: "Run every cross-check of the bundles, or of any rendered bundle",
		Long: `Generate the bundle of one environment (--env), or of every environment,
and run every cross-check (names agree, every ${VAR} and $(VAR) has a
source, Services select the pods, discovery queries the headless Service,
cookie from a Secret, and under cluster.tls / cluster.epmd: certificates
mounted where the ssl_dist_optfile reads them, the CA it trusts being the
mounted one, remote shells in the nodes' distribution mode, nothing opening
epmd's port when epmd is off) without writing anything. It lists every
Secret and ConfigMap (key) the bundle refers to but does not create: they
must exist in the namespace before the bundle is applied.

Exit status 0 means every bundle is consistent; 1 means at least one is
not, and the problems are on stderr. Which image gets deployed is a
warning, not an inconsistency: an image not pinned by digest (also in a
protected environment, which relgen manifests refuses) or no image at all
is reported on stderr, each warning once. --strict makes warnings errors,
for the CI step before a deploy. -o json prints one result per environment
on stdout; -o checklist prints the Secrets and ConfigMaps each environment
needs as a Markdown task list.

With --bundle FILE (- for stdin), check a bundle that relgen did not
print: the output of a kustomize overlay, a Helm post-renderer, or
hand-written YAML (JSON and v1 Lists too). The clustering cross-checks run
on the objects alone, without relgen.yaml: the headless Service selects
the pods; the discovery settings (peerage or libcluster config in a mounted
-config file, DNS_CLUSTER_QUERY, PEERAGE_* or LIBCLUSTER_* env) name that
Service's DNS name in its own namespace and the node basename; nodes have
long names on the pod IP or DNS name; the cookie comes from one Secret;
every $(VAR) and ${VAR} has a source; NetworkPolicies admit epmd (unless
vm.args turns it off) and distribution between the pods; RBAC lets an
API strategy list the pods. Every problem names the object and field; an
image not pinned by digest is a warning (--strict: an error). With -f or
--env it also compares the bundle with that environment of the config.`,
		Example: `  relgen check
  relgen check --strict --record build.json
  relgen check --env prod --record build.json -o json
  relgen check --env prod -o checklist
  kubectl kustomize overlays/prod | relgen check --bundle - --strict
  relgen check --bundle rendered.yaml -f relgen.yaml --env prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(checkOutputs, o.Output) {
				return fmt.Errorf("-o/--output %q: want one of %s", o.Output, strings.Join(checkOutputs, ", "))
			}
			if o.Bundle != "" {
				if o.Image != "" || o.Record != "" {
					return errors.New("--bundle checks the images the bundle names; --image and --record apply to generated bundles only")
				}
				return o.checkBundle(cmd, g)
			}
			envs := []string{o.Env}
			if o.Env == "" {
				cfg, err := loadConfig(g)
				if err != nil {
					return err
				}
				envs = cfg.EnvironmentNames()
			}
			results, err := o.check(g, envs)
			o.report(cmd.ErrOrStderr(), results)
			switch o.Output {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if jerr := enc.Encode(results); jerr != nil {
					return jerr
				}
			case "checklist":
				if cerr := writeChecklist(cmd.OutOrStdout(), results); cerr != nil {
					return cerr
				}
			}
			return err
		},
	}
	o.addFlags(cmd, g, "environment to check (default: every environment)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "text; json for CI; checklist prints the Secrets and ConfigMaps each environment needs as a Markdown task list")
	completeValues(cmd, "output", checkOutputs...)
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "treat warnings (an image not pinned by digest, no image) as errors")
	cmd.Flags().StringVar(&o.Bundle, "bundle", "", "check this rendered bundle (YAML or JSON; - for stdin) instead of generating one")
	cmd.Flags().StringVar(&o.ClusterDomain, "cluster-domain", release.DefaultDomain, "with --bundle: the cluster DNS domain")
	cmd.Flags().StringVarP(&o.Namespace, "namespace", "n", "default", "with --bundle: the namespace of objects that name none, as with kubectl apply -n")
	return cmd
}

// check generates every environment's bundle and returns the results and
// the problems, each problem once (a mistake in a base section would
// otherwise be reported by every environment).
func (o *CheckOptions) check(g *GlobalOptions, envs []string) ([]checkResult, error) {
	var results []checkResult
	var errs []error
	var seen []string
	for _, env := range envs {
		m := o.ManifestsOptions
		m.Env = env
		r := checkResult{Environment: env}
		b, err := m.bundle(g, true)
		if err == nil {
			r.Objects, r.Image, r.Needs = len(b.Objects), b.Image, b.Needs()
			_, perr := name.NewDigest(b.Image)
			r.Pinned = perr == nil
			var hinted []error
			for _, w := range b.Warnings {
				if errors.Is(w, manifests.ErrNoImage) {
					r.Image = ""
				}
				hinted = append(hinted, withImageHint(w))
				r.Warnings = append(r.Warnings, withImageHint(w).Error())
			}
			if o.Strict {
				err = errors.Join(hinted...)
			}
		}
		if err != nil {
			r.Errors = errorLines(err)
			for _, e := range release.Split(err) {
				if msg := e.Error(); !slices.Contains(seen, msg) {
					seen = append(seen, msg)
					errs = append(errs, e)
				}
			}
		}
		r.OK = err == nil
		results = append(results, r)
	}
	return results, errors.Join(errs...)
}

// report prints each environment's verdict and every warning once on w;
// under --strict the warnings are errors and main prints them.
func (o *CheckOptions) report(w io.Writer, results []checkResult) {
	var seen []string
	for _, r := range results {
		if !o.Strict {
			for _, msg := range r.Warnings {
				if !slices.Contains(seen, msg) {
					seen = append(seen, msg)
					fmt.Fprintf(w, "relgen: warning: %s\n", msg)
				}
			}
		}
		switch {
		case r.OK && r.Image == "":
			fmt.Fprintf(w, "relgen: %s: bundle of %d objects is consistent (no image named yet)\n", r.Environment, r.Objects)
		case r.OK:
			fmt.Fprintf(w, "relgen: %s: bundle of %d objects is consistent (image %s)\n", r.Environment, r.Objects, r.Image)
		}
		for _, n := range r.Needs {
			fmt.Fprintf(w, "relgen: %s: needs %s\n", r.Environment, needText(n))
		}
	}
}

// needText describes one needed object: "Secret shop/shop-db key url
// (env DATABASE_URL)".
func needText(n manifests.Need) string {
	s := n.Kind + " " + n.Namespace + "/" + n.Name
	if n.Key != "" {
		s += " key " + n.Key
	}
	s += " (" + strings.Join(n.For, ", ")
	if n.Optional {
		s += "; optional"
	}
	return s + ")"
}

// writeChecklist prints, per environment, the objects to create before
// the bundle is applied, as a Markdown task list a CI step or a pull
// request can show.
func writeChecklist(w io.Writer, results []checkResult) error {
	var b strings.Builder
	for i, r := range results {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "## %s\n\n", r.Environment)
		if !r.OK {
			b.WriteString("The bundle has errors; see above.\n")
			continue
		}
		if len(r.Needs) == 0 {
			b.WriteString("Nothing to create beforehand.\n")
		}
		for _, n := range r.Needs {
			fmt.Fprintf(&b, "- [ ] %s\n", needText(n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
