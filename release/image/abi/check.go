package abi

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Problem is one need of one release file that the base cannot meet.
type Problem struct {
	// File is the release file, relative to the release root.
	File string
	// Need is what is missing: a soname ("libcrypto.so.3"), a symbol
	// version ("GLIBC_2.34"), the loader or a script interpreter (a path).
	Need string
	// Library is the soname a missing symbol version was needed from.
	Library string
	// Via is the library that needs it, when the file needs it indirectly.
	Via string
	// Have says what the base offers instead ("GLIBC_2.31",
	// "libcrypto.so.1.1"), empty when it has nothing like it.
	Have string
}

func (p Problem) describe(base string) string {
	s := p.File + " needs " + p.Need
	if p.Library != "" {
		s += " from " + p.Library
	}
	if p.Via != "" {
		s += " (for " + p.Via + ")"
	}
	if p.Have != "" {
		return s + "; " + base + " has " + p.Have
	}
	return s + "; " + base + " has none"
}

// Error lists every need of the release that the base cannot meet.
type Error struct {
	// Base names the base image in messages.
	Base string
	// Scratch is set when the base is empty and the release has
	// dynamically linked native code: nothing of it can start.
	Scratch  bool
	Problems []Problem
}

// Error has one line per problem, each naming the file, what it needs
// and the base.
func (e *Error) Error() string {
	if e.Scratch {
		var files []string
		for _, p := range e.Problems {
			if !slices.Contains(files, p.File) {
				files = append(files, p.File)
			}
		}
		if len(files) > 3 {
			files = append(files[:3], "...")
		}
		return fmt.Sprintf("the release has dynamically linked native code (%s) but the base %s has no files: "+
			"no loader, no libc, so ERTS cannot start; use a base with the libraries it needs",
			strings.Join(files, ", "), e.Base)
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.describe(e.Base)
	}
	return strings.Join(lines, "\n")
}

// Check compares what the release needs with what root provides and
// returns an *Error naming base when anything is missing. Shared libraries
// inside the release count as provided (NIFs often ship their own next to
// them, found through an $ORIGIN run path).
func Check(n *Needs, root *Root, base string) error {
	if root.Empty() {
		var probs []Problem
		for _, o := range n.Dynamic() {
			probs = append(probs, Problem{File: o.Path, Need: o.Interp})
		}
		if len(probs) == 0 {
			return nil
		}
		return &Error{Base: base, Scratch: true, Problems: probs}
	}
	own := map[string]Lib{}
	for _, o := range n.Objects {
		if o.Soname != "" {
			own[o.Soname] = o.lib(o.Path)
		}
	}
	var probs []Problem
	for _, o := range n.Objects {
		if o.Interp != "" && !root.Exists(o.Interp) {
			probs = append(probs, Problem{File: o.Path, Need: "the loader " + o.Interp})
		}
		probs = append(probs, loadable(o, own, root)...)
	}
	for _, s := range n.Scripts {
		if !root.Exists(s.Interp) {
			probs = append(probs, Problem{File: s.Path, Need: s.Interp})
		}
	}
	if len(probs) == 0 {
		return nil
	}
	slices.SortStableFunc(probs, func(a, b Problem) int { return cmp.Compare(a.File, b.File) })
	return &Error{Base: base, Problems: probs}
}

// loadable follows o's needed libraries, and theirs, as the loader does,
// and reports every soname it cannot find and every symbol version the
// library found does not define.
func loadable(o Object, own map[string]Lib, root *Root) []Problem {
	type edge struct {
		soname, via string
		versions    []string
	}
	var queue []edge
	for _, so := range o.Needed {
		queue = append(queue, edge{soname: so, versions: o.Versions[so]})
	}
	var probs []Problem
	expanded := map[string]bool{}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		lib, ok := own[e.soname]
		if !ok || lib.Machine != o.Machine || lib.Class != o.Class {
			lib, ok = root.Find(e.soname, o.Machine, o.Class)
		}
		if !ok {
			if !expanded[e.soname] {
				probs = append(probs, Problem{File: o.Path, Need: e.soname, Via: e.via, Have: strings.Join(root.Similar(e.soname), ", ")})
			}
			expanded[e.soname] = true
			continue
		}
		for _, p := range missingVersions(o.Path, e.soname, e.versions, lib.Versions) {
			p.Via = e.via
			probs = append(probs, p)
		}
		if expanded[e.soname] {
			continue
		}
		expanded[e.soname] = true
		for _, so := range lib.Needed {
			queue = append(queue, edge{soname: so, via: e.soname, versions: lib.Needs[so]})
		}
	}
	return probs
}

// missingVersions reports, per version family (GLIBC_, GLIBCXX_, ...),
// the newest needed version the library does not define, with the newest
// of that family it does define.
func missingVersions(file, soname string, need, have []string) []Problem {
	worst := map[string]string{}
	for _, v := range need {
		if slices.Contains(have, v) {
			continue
		}
		fam, _ := splitVersion(v)
		if w, ok := worst[fam]; !ok || compareVersions(v, w) > 0 {
			worst[fam] = v
		}
	}
	var out []Problem
	for _, fam := range slices.Sorted(maps.Keys(worst)) {
		p := Problem{File: file, Need: worst[fam], Library: soname}
		for _, h := range have {
			if f, _ := splitVersion(h); f == fam && (p.Have == "" || compareVersions(h, p.Have) > 0) {
				p.Have = h
			}
		}
		out = append(out, p)
	}
	return out
}

// splitVersion splits "GLIBC_2.34" into the family "GLIBC_" and the
// numbers [2 34]; a name without numbers is its own family.
func splitVersion(v string) (string, []int) {
	i := strings.IndexFunc(v, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return v, nil
	}
	var nums []int
	for _, f := range strings.FieldsFunc(v[i:], func(r rune) bool { return r == '.' || r == '_' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return v, nil
		}
		nums = append(nums, n)
	}
	return v[:i], nums
}

func compareVersions(a, b string) int {
	_, x := splitVersion(a)
	_, y := splitVersion(b)
	return slices.Compare(x, y)
}
