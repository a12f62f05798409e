package discovery_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgen/relgen/manifests/discovery"
)

// TestDocsNameRegisteredStrategies ties the strategy names the user docs
// list to the registry: the cluster.discovery row of docs/config.md and
// the table of docs/runtime.md name every registered strategy and no
// other.
func TestDocsNameRegisteredStrategies(t *testing.T) {
	want := slices.Sorted(slices.Values(discovery.Names()))
	name := regexp.MustCompile("`([a-z_-]+)`")
	for _, tc := range []struct {
		file string
		// lines picks the lines that list strategies.
		lines func(string) bool
		// first: only the first backticked word of each line is a name.
		first bool
	}{
		{file: "../../docs/config.md", lines: func(l string) bool { return strings.HasPrefix(l, "| `discovery` |") }},
		{file: "../../docs/runtime.md", lines: inTable("## Peer discovery"), first: true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, l := range strings.Split(string(data), "\n") {
				if !tc.lines(l) {
					continue
				}
				ms := name.FindAllStringSubmatch(l, -1)
				if tc.first && len(ms) > 0 {
					ms = ms[:1]
				}
				for _, m := range ms {
					if _, err := discovery.For(m[1]); err == nil || looksLikeStrategy(m[1]) {
						seen[m[1]] = true
					}
				}
			}
			got := slices.Sorted(func(yield func(string) bool) {
				for k := range seen {
					if !yield(k) {
						return
					}
				}
			})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s names other strategies than the registry (-registry +docs):\n%s", tc.file, diff)
			}
		})
	}
}

// looksLikeStrategy keeps a misspelt or unregistered strategy name in
// the docs from passing unnoticed: it has a strategy's shape.
func looksLikeStrategy(s string) bool {
	return strings.HasPrefix(s, "libcluster") || strings.Contains(s, "cluster") || s == "peerage"
}

// inTable picks the table rows that follow heading.
func inTable(heading string) func(string) bool {
	in := false
	return func(l string) bool {
		switch {
		case strings.HasPrefix(l, "## "):
			in = l == heading
			return false
		case !in || !strings.HasPrefix(l, "| `"):
			return false
		}
		return true
	}
}
