package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/relgen/relgen/internal/safefile"
	"github.com/relgen/relgen/release/scaffold"
)

// InitOptions are the flags of relgen init.
type InitOptions struct {
	// Force overwrites an existing config file.
	Force bool
}

func newInitCommand(g *GlobalOptions) *cobra.Command {
	o := &InitOptions{}
	cmd := &cobra.Command{
		Use:   "init [--force]",
		Short: "Write a commented relgen.yaml for the project in the current directory",
		Long: `Write a commented relgen.yaml for the Mix project in the config file's
directory (the current directory by default). The release name and version
come from mix.exs (the first release of releases:, else app:), rel/config.exs
means a Distillery release, and the discovery strategy follows the
clustering library among the deps: libcluster -> libcluster-dns, peerage ->
peerage, dns_cluster -> dns_cluster, else none. Environments staging and
prod are set up, prod protected (the image must be pinned by digest:
--record build.json); image.repository is a placeholder to edit.

Without a mix.exs there is nothing to read the release from, and init
writes nothing rather than guess the name from the directory. An existing
file is kept unless --force is given.`,
		Example: `  relgen init
  relgen init -f deploy/relgen.yaml --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := o.write(g.ConfigFile)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "relgen: wrote %s for %s %s (%s release, discovery %s); set image.repository before relgen build\n",
				g.ConfigFile, p.Name, p.Version, p.Kind, p.Discovery)
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite an existing config file")
	return cmd
}

// write renders the config for the project in file's directory and
// writes it atomically.
func (o *InitOptions) write(file string) (scaffold.Project, error) {
	var p scaffold.Project
	if _, err := os.Stat(file); err == nil && !o.Force {
		return p, fmt.Errorf("%s already exists; pass --force to overwrite it", file)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return p, fmt.Errorf("checking %s: %w", file, err)
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return p, err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return p, fmt.Errorf("%s: the project directory %s does not exist", file, filepath.Dir(file))
	}
	if p, err = scaffold.Detect(os.DirFS(dir), filepath.Base(dir)); errors.Is(err, scaffold.ErrNoMixProject) {
		return p, fmt.Errorf("%s: no mix.exs in %s: relgen init reads the release name, version and clustering deps from the Mix project; run it in the project's root or pass -f PROJECT_DIR/relgen.yaml", file, dir)
	} else if err != nil {
		return p, err
	}
	data, err := scaffold.Render(p)
	if err != nil {
		return p, err
	}
	return p, safefile.WriteFile(file, data, 0o644)
}
