package cli

import (
	"slices"
	"strings"
	"testing"
)

// TestCompletion: --env (and diff's arguments) complete to the config's
// environments, -o and --format to their values; nothing falls back to
// file names.
func TestCompletion(t *testing.T) {
	const mix = "../../../examples/mix/relgen.yaml"
	tests := []struct {
		args []string
		want []string
	}{
		{args: []string{"manifests", "-f", mix, "--env", ""}, want: []string{"prod", "staging"}},
		{args: []string{"check", "-f", seed, "--env", ""}, want: []string{"prod", "staging"}},
		{args: []string{"secret", "-f", mix, "--env", ""}, want: []string{"prod", "staging"}},
		{args: []string{"vmargs", "-f", mix, "--env", ""}, want: []string{"prod", "staging"}},
		{args: []string{"discovery", "-f", mix, "--env", ""}, want: []string{"prod", "staging"}},
		{args: []string{"diff", "-f", mix, ""}, want: []string{"prod", "staging"}},
		{args: []string{"diff", "-f", mix, "prod", "staging", ""}, want: nil},
		{args: []string{"manifests", "-f", "testdata/none.yaml", "--env", ""}, want: nil},
		{args: []string{"manifests", "-o", ""}, want: []string{"yaml", "json"}},
		{args: []string{"check", "-o", ""}, want: []string{"text", "json", "checklist"}},
		{args: []string{"diff", "--output", ""}, want: []string{"text", "json"}},
		{args: []string{"discovery", "--format", ""}, want: []string{"erlang", "elixir"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"__complete"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			directive := lines[len(lines)-1]
			got := lines[:len(lines)-1]
			if len(got) == 0 {
				got = nil
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("completions = %q, want %q", got, tt.want)
			}
			if directive != ":4" {
				t.Errorf("directive %s, want :4 (no file completion)", directive)
			}
		})
	}
}
