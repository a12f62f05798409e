package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sync/errgroup"
)

// Layer kinds, from least to most often changed; "base" marks the layers of
// the base image in a Record.
const (
	KindERTS    = "erts"
	KindDeps    = "deps"
	KindApp     = "app"
	KindRelease = "release"
	KindBase    = "base"
)

// cookiePath is never packed: the cookie reaches the pods from a Secret.
const cookiePath = "releases/COOKIE"

// entry is one file, directory or symlink of the release, relative to its
// root, with the metadata the tar header is made from.
type entry struct {
	rel  string // slash-separated, no trailing slash
	typ  byte   // tar.TypeDir, tar.TypeReg or tar.TypeSymlink
	mode int64  // normalised permission bits
	size int64
	link string
	stat statInfo
}

// layerSpec is the planned content of one layer, in tar order.
type layerSpec struct {
	kind    string
	app     string // own app name, for KindApp
	entries []entry
	files   int // non-directory entries
	emitted map[string]bool
}

func (l *layerSpec) name() string {
	if l.kind == KindApp {
		return "app " + l.app
	}
	return l.kind
}

// add appends e after the directories leading to it.
func (l *layerSpec) add(e entry, dirs map[string]entry) {
	if l.emitted == nil {
		l.emitted = map[string]bool{}
	}
	for i := 0; i < len(e.rel); i++ {
		if e.rel[i] == '/' {
			l.addDir(e.rel[:i], dirs)
		}
	}
	if e.typ == tar.TypeDir {
		l.addDir(e.rel, dirs)
		return
	}
	l.entries = append(l.entries, e)
	l.files++
}

func (l *layerSpec) addDir(rel string, dirs map[string]entry) {
	if !l.emitted[rel] {
		l.emitted[rel] = true
		l.entries = append(l.entries, dirs[rel])
	}
}

// plan walks the release in dir and splits it into the layers to build,
// least often changed first. Empty layers are left out.
func plan(dir string, rel Release, ownApps, exclude []string) ([]*layerSpec, error) {
	for _, p := range exclude {
		if _, err := path.Match(strings.TrimPrefix(p, "/"), ""); err != nil {
			return nil, fmt.Errorf("exclude pattern %q: %w", p, err)
		}
	}
	appDirs := map[string]string{} // lib dir name -> own app
	for _, name := range ownApps {
		i := slices.IndexFunc(rel.Apps, func(a App) bool { return a.Name == name })
		if i < 0 {
			names := make([]string, len(rel.Apps))
			for j, a := range rel.Apps {
				names[j] = a.Name
			}
			return nil, fmt.Errorf("own app %q not found under %s/lib (apps: %s); list the project's apps as app layers",
				name, dir, strings.Join(names, ", "))
		}
		appDirs[path.Base(rel.Apps[i].Dir)] = name
	}

	erts := &layerSpec{kind: KindERTS}
	deps := &layerSpec{kind: KindDeps}
	apps := map[string]*layerSpec{}
	for _, name := range ownApps {
		apps[name] = &layerSpec{kind: KindApp, app: name}
	}
	release := &layerSpec{kind: KindRelease}
	route := func(rel string) *layerSpec {
		top, rest, _ := strings.Cut(rel, "/")
		switch {
		case strings.HasPrefix(top, "erts-"):
			return erts
		case top == "lib" && rest == "":
			return nil // only ever emitted as a parent
		case top == "lib":
			d, _, _ := strings.Cut(rest, "/")
			if app, ok := appDirs[d]; ok {
				return apps[app]
			}
			return deps
		}
		return release
	}

	entries, err := scan(dir, exclude)
	if err != nil {
		return nil, fmt.Errorf("reading release %s: %w", dir, err)
	}
	dirs := map[string]entry{}
	for _, e := range entries {
		if e.typ == tar.TypeDir {
			dirs[e.rel] = e
		}
		if l := route(e.rel); l != nil {
			l.add(e, dirs)
		}
	}

	var layers []*layerSpec
	for _, l := range append(append([]*layerSpec{erts, deps}, mapValues(apps, ownApps)...), release) {
		if len(l.entries) > 0 {
			layers = append(layers, l)
		}
	}
	return layers, nil
}

// scan lists the release's entries in filepath.WalkDir order, without the
// cookie and excluded paths. The walk is bound by lstat calls, thousands
// of them, so the top-level trees and each lib/<app> are walked in
// parallel and the parts joined in order.
func scan(dir string, exclude []string) ([]entry, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = root.Close() }()
	top, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type unit struct {
		rel  string
		self bool // the directory alone, its children being units
	}
	var units []unit
	for _, d := range top {
		if d.Name() != "lib" || !d.IsDir() || excluded("lib", exclude) {
			units = append(units, unit{rel: d.Name()})
			continue
		}
		units = append(units, unit{rel: "lib", self: true})
		apps, err := os.ReadDir(filepath.Join(dir, "lib"))
		if err != nil {
			return nil, err
		}
		for _, a := range apps {
			units = append(units, unit{rel: "lib/" + a.Name()})
		}
	}

	parts := make([][]entry, len(units))
	var g errgroup.Group
	g.SetLimit(4)
	for i, u := range units {
		g.Go(func() error {
			start := filepath.Join(dir, filepath.FromSlash(u.rel))
			return filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				r := u.rel + filepath.ToSlash(p[len(start):])
				e, skip, err := visit(root, p, r, d, exclude)
				switch {
				case err != nil:
					return err
				case skip && d.IsDir():
					return filepath.SkipDir
				case !skip:
					parts[i] = append(parts[i], e)
				}
				if u.self {
					return filepath.SkipDir
				}
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(parts...), nil
}

// visit makes the entry for rel (at p), or says to skip it.
func visit(root *os.Root, p, rel string, d fs.DirEntry, exclude []string) (e entry, skip bool, err error) {
	if rel == cookiePath || excluded(rel, exclude) {
		return entry{}, true, nil
	}
	if err := checkName(p, rel); err != nil {
		return entry{}, false, err
	}
	fi, err := d.Info()
	if err != nil {
		return entry{}, false, err
	}
	e = entry{rel: rel, stat: statOf(fi)}
	switch m := fi.Mode(); {
	case m.IsDir():
		e.typ, e.mode = tar.TypeDir, 0o755
	case m.IsRegular():
		e.typ, e.mode, e.size = tar.TypeReg, 0o644, fi.Size()
		if m&0o111 != 0 {
			e.mode = 0o755
		}
	case m&fs.ModeSymlink != 0:
		e.typ, e.mode = tar.TypeSymlink, 0o777
		if e.link, err = checkLink(root, rel); err != nil {
			return entry{}, false, fmt.Errorf("symlink %s: %w", p, err)
		}
	default:
		return entry{}, false, unsupportedFile(p, m)
	}
	return e, false, nil
}

func mapValues(m map[string]*layerSpec, order []string) []*layerSpec {
	out := make([]*layerSpec, 0, len(order))
	for _, k := range order {
		out = append(out, m[k])
	}
	return out
}

// excluded reports whether rel or one of its parents matches a pattern.
func excluded(rel string, patterns []string) bool {
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "/")
		subject := rel
		if !strings.Contains(p, "/") {
			subject = path.Base(rel)
		}
		if ok, _ := path.Match(p, subject); ok {
			return true
		}
	}
	return false
}

// errLinkEscapes is returned for a symlink that points outside the release.
var errLinkEscapes = errors.New("points outside the release directory")

// checkLink returns the target of the symlink rel, refusing one that leads
// outside the release: an absolute target, one that climbs out by its
// path, or one that resolves outside through other symlinks. A dangling
// link that stays inside is kept.
func checkLink(root *os.Root, rel string) (string, error) {
	target, err := root.Readlink(filepath.FromSlash(rel))
	if err != nil {
		return "", err
	}
	t := filepath.ToSlash(target)
	if path.IsAbs(t) || filepath.IsAbs(target) {
		return "", fmt.Errorf("target %s: %w", target, errLinkEscapes)
	}
	if j := path.Join(path.Dir(rel), t); j == ".." || strings.HasPrefix(j, "../") {
		return "", fmt.Errorf("target %s: %w", target, errLinkEscapes)
	}
	switch _, err := root.Stat(filepath.FromSlash(rel)); {
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return target, nil
	case errors.Is(err, syscall.ELOOP):
		return "", fmt.Errorf("target %s: the links form a loop: %w", target, syscall.ELOOP)
	}
	return "", fmt.Errorf("target %s: %w", target, errLinkEscapes)
}
