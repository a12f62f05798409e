package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relgen/relgen/internal/safefile"
	"github.com/relgen/relgen/manifests"
	"github.com/relgen/relgen/release"
)

// ManifestsOptions are the flags of relgen manifests.
type ManifestsOptions struct {
	Env string
	// Output is the format on stdout: yaml or json (a v1 List).
	Output    string
	OutputDir string
	Kustomize string
	Image     string
	Record    string
	// Jobs selects the release command Jobs: include, exclude or only.
	Jobs string
}

var jobsModes = []string{"include", "exclude", "only"}

// Output formats of relgen manifests (-o).
var manifestFormats = []string{"yaml", "json"}

// checkOutput refuses the uses of -o, --output-dir and --kustomize that
// mean something else than what the user probably wanted, saying which
// flag does that: kubectl users write -o yaml for a format, helm template
// users --output-dir for a directory.
func (o *ManifestsOptions) checkOutput() error {
	switch {
	case !slices.Contains(manifestFormats, o.Output):
		return fmt.Errorf("-o/--output %s: the output format is yaml or json; to write one file per object into a directory, use --output-dir %s", o.Output, o.Output)
	case o.OutputDir != "" && slices.Contains(manifestFormats, o.OutputDir):
		return fmt.Errorf("--output-dir %s: names a directory; for the %s format use -o %s (a directory really named %s: --output-dir ./%s)", o.OutputDir, o.OutputDir, o.OutputDir, o.OutputDir, o.OutputDir)
	case o.Output != "yaml" && (o.OutputDir != "" || o.Kustomize != ""):
		return fmt.Errorf("-o %s prints to stdout; --output-dir and --kustomize write YAML files; use one or the other", o.Output)
	}
	return nil
}

func newManifestsCommand(g *GlobalOptions) *cobra.Command {
	o := &ManifestsOptions{Output: "yaml"}
	cmd := &cobra.Command{
		Use:   "manifests --env ENV",
		Short: "Print one environment's Kubernetes bundle",
		Long: `Print the Kubernetes bundle of one environment as multi-document YAML
(or, with -o json, one JSON v1 List), ready for kubectl apply -f -:
ConfigMap (vm.args, discovery config), headless and ClusterIP Services,
Deployment, PodDisruptionBudget, NetworkPolicy, and the
HorizontalPodAutoscaler, Ingress and release command Jobs the config asks
for. Every part is cross-checked before anything is printed. --output-dir
DIR writes one file per object instead (like helm template --output-dir);
--kustomize DIR adds a kustomization.yaml, making DIR a kustomize base.

Jobs (deployment.jobs, e.g. migrations) must finish before the new pods
start: --jobs only prints the Jobs, --jobs exclude everything else, so a
CI step can apply the Jobs, wait for them and then apply the rest.

The image is pinned by digest when --record (from relgen build) or an
--image REF@sha256:... is given; otherwise it is repository:version, which
a protected environment refuses.`,
		Example: `  relgen manifests --env prod | kubectl apply -f -
  relgen manifests --env staging --record build.json -o json
  relgen manifests --env staging --record build.json --output-dir deploy/staging
  relgen manifests --env prod --record build.json --kustomize deploy/base
  relgen manifests --env prod --record build.json --jobs only | kubectl apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.checkOutput(); err != nil {
				return err
			}
			if !slices.Contains(jobsModes, o.Jobs) {
				return fmt.Errorf("--jobs %q: want one of %s", o.Jobs, strings.Join(jobsModes, ", "))
			}
			b, err := o.generate(cmd, g)
			if err != nil {
				return err
			}
			switch o.Jobs {
			case "exclude":
				b = b.WithoutJobs()
			case "only":
				b = b.OnlyJobs()
			}
			switch {
			case o.OutputDir != "":
				return writeFiles(o.OutputDir, b.Files)
			case o.Kustomize != "":
				return writeFiles(o.Kustomize, b.KustomizeFiles)
			case o.Output == "json":
				return b.WriteJSON(cmd.OutOrStdout())
			}
			return b.WriteYAML(cmd.OutOrStdout())
		},
	}
	o.addFlags(cmd, g, "environment to generate (a key of environments)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: yaml (multi-document) or json (a v1 List)")
	completeValues(cmd, "output", manifestFormats...)
	cmd.Flags().StringVar(&o.OutputDir, "output-dir", "", "write one YAML file per object into this directory instead of stdout")
	cmd.Flags().StringVar(&o.Kustomize, "kustomize", "", "write one file per object plus a kustomization.yaml into this directory: a kustomize base")
	cmd.Flags().StringVar(&o.Jobs, "jobs", "include", "release command Jobs: include, exclude (everything else), or only (just the Jobs)")
	completeValues(cmd, "jobs", jobsModes...)
	cmd.MarkFlagsMutuallyExclusive("output-dir", "kustomize")
	return cmd
}

// addFlags registers the flags that choose the environment and the image.
func (o *ManifestsOptions) addFlags(cmd *cobra.Command, g *GlobalOptions, envUsage string) {
	f := cmd.Flags()
	envFlag(cmd, g, &o.Env, envUsage)
	f.StringVar(&o.Image, "image", "", "image reference, preferably REPO@sha256:DIGEST")
	f.StringVar(&o.Record, "record", "", "build record written by relgen build --record; pins the image by digest")
	cmd.MarkFlagsMutuallyExclusive("image", "record")
}

// generate loads the config and builds the environment's cross-checked
// bundle, printing its warnings.
func (o *ManifestsOptions) generate(cmd *cobra.Command, g *GlobalOptions) (*manifests.Bundle, error) {
	b, err := o.bundle(g, false)
	if err != nil {
		return nil, err
	}
	for _, w := range b.Warnings {
		warn(cmd, withImageHint(w).Error())
	}
	return b, nil
}

// bundle loads the config and builds the environment's cross-checked
// bundle; image problems are warnings when imageWarnings is set.
func (o *ManifestsOptions) bundle(g *GlobalOptions, imageWarnings bool) (*manifests.Bundle, error) {
	cfg, spec, err := loadSpec(g, o.Env)
	if err != nil {
		return nil, err
	}
	opts, err := runtimeOptions(cfg, spec)
	if err != nil {
		return nil, err
	}
	if opts.Image, err = o.image(spec); err != nil {
		return nil, err
	}
	opts.ImageWarnings = imageWarnings
	b, err := manifests.Generate(spec, opts)
	if err != nil {
		return nil, withImageHint(err)
	}
	return b, nil
}

// withImageHint adds to an image problem from manifests the flag that
// fixes it; the library does not know the flags.
func withImageHint(err error) error {
	var hint string
	switch {
	case errors.Is(err, manifests.ErrNoImage):
		hint = ": pass --record FILE (from relgen build) or --image REF, or set release.version"
	case errors.As(err, new(*manifests.UnpinnedError)):
		hint = "; pass --record FILE from relgen build so every environment runs the image that was tested"
	default:
		return err
	}
	if fe, ok := err.(*release.FieldError); ok {
		hinted := *fe
		hinted.Msg += hint
		return &hinted
	}
	return fmt.Errorf("%w%s", err, hint)
}

// image is the reference of --image or --record, checked: a malformed
// --image, or a record built from another release, repository or version
// than spec's, is refused.
func (o *ManifestsOptions) image(spec *release.Spec) (string, error) {
	if o.Record != "" {
		return recordReference(o.Record, spec)
	}
	if o.Image == "" {
		return "", nil
	}
	if _, err := release.ParseReference(o.Image); err != nil {
		return "", fmt.Errorf("--image %w", err)
	}
	return o.Image, nil
}

// generatedFile matches the names Bundle.Files gives, so files of objects
// a newer bundle no longer has can be removed.
var generatedFile = regexp.MustCompile(`^\d{2}-[a-z]+-[a-z0-9.-]+\.yaml$`)

// writeFiles renders every file before writing any, writes each
// atomically, then removes files an earlier run generated for objects the
// bundle no longer has (applying the directory would recreate them).
func writeFiles(dir string, render func() ([]manifests.File, error)) error {
	files, err := render()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	keep := map[string]bool{}
	for _, f := range files {
		if err := safefile.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return err
		}
		keep[f.Name] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading output directory: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() && !keep[e.Name()] && generatedFile.MatchString(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("removing stale %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}
