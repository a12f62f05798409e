package linediff

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/relgen/relgen/internal/testutil" // defines -update
)

func TestUnified(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want []string
	}{
		{name: "equal", a: "a\nb\n", b: "a\nb\n"},
		{name: "final newline only", a: "a\n", b: "a"},
		{name: "one line", a: "a\nb\nc\n", b: "a\nB\nc\n", want: []string{"@@ -2 +2 @@", "-b", "+B"}},
		{name: "insert", a: "a\nc\n", b: "a\nb1\nb2\nc\n", want: []string{"@@ -1,0 +2,2 @@", "+b1", "+b2"}},
		{name: "delete at end", a: "a\nb\nc\n", b: "a\n", want: []string{"@@ -2,2 +1,0 @@", "-b", "-c"}},
		{name: "from empty", a: "", b: "a\nb\n", want: []string{"@@ -0,0 +1,2 @@", "+a", "+b"}},
		{name: "two hunks", a: "1\n2\n3\n4\n5\n", b: "1\nx\n3\n4\ny\n", want: []string{
			"@@ -2 +2 @@", "-2", "+x", "@@ -5 +5 @@", "-5", "+y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Unified(tc.a, tc.b)); diff != "" {
				t.Errorf("Unified(%q, %q) (-want +got):\n%s", tc.a, tc.b, diff)
			}
		})
	}
}
