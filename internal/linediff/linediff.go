// Package linediff computes a unified line diff without context lines,
// from the longest common subsequence of the two texts' lines. relgen
// diff shows multi-line strings (vm.args, discovery config) with it.
package linediff

import (
	"fmt"
	"strings"
)

// maxLineDiff bounds the line diff's table; longer texts are shown as
// all lines removed and all added.
const maxLineDiff = 1 << 22

// Unified is a unified diff of two texts without context lines: a
// "@@ -l,n +l,n @@" header per hunk, then "-" and "+" lines.
func Unified(a, b string) []string {
	la := strings.Split(strings.TrimSuffix(a, "\n"), "\n")
	lb := strings.Split(strings.TrimSuffix(b, "\n"), "\n")
	if a == "" {
		la = nil
	}
	if b == "" {
		lb = nil
	}
	n, m := len(la), len(lb)
	// keep[i][j] is the longest common subsequence of la[i:] and lb[j:].
	var keep [][]int
	if (n+1)*(m+1) <= maxLineDiff {
		keep = make([][]int, n+1)
		for i := range keep {
			keep[i] = make([]int, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if la[i] == lb[j] {
					keep[i][j] = keep[i+1][j+1] + 1
				} else {
					keep[i][j] = max(keep[i+1][j], keep[i][j+1])
				}
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < n || j < m {
		if keep != nil && i < n && j < m && la[i] == lb[j] {
			i, j = i+1, j+1
			continue
		}
		// A hunk: everything up to the next common line.
		i0, j0 := i, j
		for i < n || j < m {
			if keep != nil && i < n && j < m && la[i] == lb[j] {
				break
			}
			if j >= m || (i < n && (keep == nil || keep[i+1][j] >= keep[i][j+1])) {
				i++
			} else {
				j++
			}
		}
		out = append(out, "@@ -"+hunkRange(i0, i-i0)+" +"+hunkRange(j0, j-j0)+" @@")
		for _, l := range la[i0:i] {
			out = append(out, "-"+l)
		}
		for _, l := range lb[j0:j] {
			out = append(out, "+"+l)
		}
	}
	return out
}

// hunkRange writes a unified diff range from a 0-based start.
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
