package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/relgen/relgen/manifests"
)

// DiffOptions are the flags of relgen diff.
type DiffOptions struct {
	// Image and Record choose the image of both sides, as in manifests.
	Image  string
	Record string
	// ImageB and RecordB choose a different image for ENV_B, to compare
	// two builds.
	ImageB  string
	RecordB string
	// AllowImageChange makes an image difference exit 0.
	AllowImageChange bool
	Output           string
}

func newDiffCommand(g *GlobalOptions) *cobra.Command {
	o := &DiffOptions{Output: "text"}
	cmd := &cobra.Command{
		Use:   "diff ENV_A ENV_B",
		Short: "Show what differs between two environments' bundles",
		Long: `Generate the bundles of two environments and show what differs, object by
object (matched by kind and name) and field by field:

  Deployment/myapp/spec.replicas: 2 -> 3

Text values of several lines (vm.args, the discovery config) are shown as a
line diff; objects only one side has are listed. The namespace, which
differs between environments by design, is shown once, not per object.
A switch of the distribution mode (cluster.tls, cluster.epmd) is flagged:
nodes of two modes cannot connect, so a rolling update across it splits
the cluster.

Both sides run the image of --image or --record. Promotion means the same
digest, so a different image is flagged, and it is the only difference
that makes the exit status 1 (unless --allow-image-change). To compare two
builds, give ENV_B its own image with --image-b or --record-b; the two
environments may be the same one.

--output json prints one object for CI: from and to (environment,
namespace, image, distribution), namespace_changed, image_changed,
distribution_changed, only_in_from,
only_in_to and changes (object, path, from/to values or the line diff).`,
		Example: `  relgen diff staging prod --record build.json
  relgen diff staging prod --record build.json --output json
  relgen diff prod prod --record deployed.json --record-b build.json --allow-image-change`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return fmt.Errorf("want two environments, ENV_A ENV_B (e.g. relgen diff staging prod), got %d argument(s)", len(args))
			}
			return nil
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) >= 2 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return environmentNames(g), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Output != "text" && o.Output != "json" {
				return fmt.Errorf("--output %q: want text or json", o.Output)
			}
			d, err := o.compare(cmd, g, args[0], args[1])
			if err != nil {
				return err
			}
			write := writeDiffText
			if o.Output == "json" {
				write = writeDiffJSON
			}
			if err := write(cmd.OutOrStdout(), d); err != nil {
				return err
			}
			if d.ImageChanged && !o.AllowImageChange {
				return fmt.Errorf("image differs between %s and %s: promotion means the same digest (pass --allow-image-change to compare two builds)", d.From.Environment, d.To.Environment)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Image, "image", "", "image reference of both sides, preferably REPO@sha256:DIGEST")
	f.StringVar(&o.Record, "record", "", "build record (relgen build --record) pinning both sides' image")
	f.StringVar(&o.ImageB, "image-b", "", "image reference of ENV_B only, to compare two builds")
	f.StringVar(&o.RecordB, "record-b", "", "build record of ENV_B only, to compare two builds")
	f.BoolVar(&o.AllowImageChange, "allow-image-change", false, "exit 0 even when the sides run different images")
	f.StringVarP(&o.Output, "output", "o", o.Output, "text, or json for CI")
	completeValues(cmd, "output", "text", "json")
	cmd.MarkFlagsMutuallyExclusive("image", "record")
	cmd.MarkFlagsMutuallyExclusive("image-b", "record-b")
	return cmd
}

// compare generates both environments' bundles and compares them.
func (o *DiffOptions) compare(cmd *cobra.Command, g *GlobalOptions, envA, envB string) (*manifests.Diff, error) {
	from := &ManifestsOptions{Env: envA, Image: o.Image, Record: o.Record}
	to := &ManifestsOptions{Env: envB, Image: o.Image, Record: o.Record}
	if o.ImageB != "" || o.RecordB != "" {
		to.Image, to.Record = o.ImageB, o.RecordB
	}
	// Both sides mostly warn alike (an unpinned image): print each
	// warning once.
	stderr, warnings := cmd.ErrOrStderr(), &strings.Builder{}
	cmd.SetErr(warnings)
	a, errA := from.generate(cmd, g)
	var b *manifests.Bundle
	var errB error
	if errA == nil {
		b, errB = to.generate(cmd, g)
	}
	cmd.SetErr(stderr)
	var seen []string
	for _, l := range strings.SplitAfter(warnings.String(), "\n") {
		if l != "" && !slices.Contains(seen, l) {
			seen = append(seen, l)
			fmt.Fprint(stderr, l)
		}
	}
	if err := errors.Join(errA, errB); err != nil {
		return nil, err
	}
	return manifests.Compare(a, b)
}

func writeDiffJSON(w io.Writer, d *manifests.Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// writeDiffText prints the summary (environments, namespace, image), then
// each object's changes in apply order.
func writeDiffText(w io.Writer, d *manifests.Diff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s\n", d.From.Environment, d.To.Environment)
	if d.NamespaceChanged {
		fmt.Fprintf(&b, "namespace: %s -> %s (every object; not repeated below)\n", d.From.Namespace, d.To.Namespace)
	}
	switch {
	case d.ImageChanged:
		fmt.Fprintf(&b, "IMAGE DIFFERS: promotion means the same digest\n  %s: %s\n  %s: %s\n",
			d.From.Environment, d.From.Image, d.To.Environment, d.To.Image)
	case d.From.Image == d.To.Image:
		fmt.Fprintf(&b, "image: %s in both\n", d.From.Image)
	default:
		fmt.Fprintf(&b, "image: same digest (%s, %s)\n", d.From.Image, d.To.Image)
	}
	if d.DistributionChanged {
		fmt.Fprintf(&b, "DISTRIBUTION MODE DIFFERS: %s -> %s\n"+
			"  nodes of the two modes cannot connect: a rolling update across this switch splits the cluster;\n"+
			"  roll it as a new Deployment or with strategy Recreate (docs/security.md)\n", d.From.Distribution, d.To.Distribution)
	}
	for _, name := range d.OnlyInFrom {
		fmt.Fprintf(&b, "%s: only in %s\n", name, d.From.Environment)
	}
	for _, name := range d.OnlyInTo {
		fmt.Fprintf(&b, "%s: only in %s\n", name, d.To.Environment)
	}
	objects := map[string]bool{}
	for _, c := range d.Changes {
		objects[c.Object] = true
		if c.Lines != nil {
			fmt.Fprintf(&b, "%s/%s:\n", c.Object, c.Path)
			for _, l := range c.Lines {
				fmt.Fprintf(&b, "    %s\n", l)
			}
			continue
		}
		fmt.Fprintf(&b, "%s/%s: %s -> %s\n", c.Object, c.Path, diffValue(c.From), diffValue(c.To))
	}
	switch {
	case len(d.Changes)+len(d.OnlyInFrom)+len(d.OnlyInTo) > 0:
		fmt.Fprintf(&b, "%d changed fields in %d objects, %d objects only in %s, %d only in %s\n",
			len(d.Changes), len(objects), len(d.OnlyInFrom), d.From.Environment, len(d.OnlyInTo), d.To.Environment)
	case d.NamespaceChanged || d.ImageChanged || d.DistributionChanged:
		b.WriteString("no other differences\n")
	default:
		b.WriteString("no differences\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// diffValue shows a field's value as compact JSON, so strings are quoted
// and an absent field is told apart from an empty one.
func diffValue(v any) string {
	if v == nil {
		return "(none)"
	}
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(j)
}
