// Command gendocs writes relgen's CLI reference (one Markdown page per
// command) from the cobra command tree, so --help and docs/ cannot drift.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/relgen/relgen/cmd/relgen/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
	root := cli.NewRootCommand()
	root.DisableAutoGenTag = true
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
