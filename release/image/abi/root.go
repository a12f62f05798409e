package abi

import (
	"archive/tar"
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Root is what a root file system offers the dynamic loader: its files
// (to resolve interpreters and symlinks) and its shared libraries.
type Root struct {
	// entries maps a clean absolute path to what is there.
	entries map[string]entry
	// libs maps the absolute path of a regular file to the library in it.
	libs map[string]Lib
	// confDirs are the directories listed in /etc/ld.so.conf.d/*.conf.
	confDirs []string
	cache    bool
	// programs, when set, collects the dynamically linked executables.
	programs *Needs
}

type entry struct {
	dir  bool
	link string // symlink target, or the absolute target of a hard link
}

// Lib is a shared library found in a root file system.
type Lib struct {
	Path     string
	Soname   string
	Machine  elf.Machine
	Class    elf.Class
	Versions []string
	// Needed and Needs are the library's own DT_NEEDED sonames and the
	// symbol versions it needs from each: the loader loads them too.
	Needed []string
	Needs  map[string][]string
}

// NewRoot returns an empty root file system, as for a scratch base.
func NewRoot() *Root {
	return &Root{entries: map[string]entry{"/": {dir: true}}, libs: map[string]Lib{}}
}

// Empty reports whether the root holds no files at all.
func (r *Root) Empty() bool { return len(r.entries) <= 1 }

// ReadImage reads the flattened file system of img (nil: scratch).
func ReadImage(img v1.Image) (*Root, error) {
	r := NewRoot()
	if img == nil {
		return r, nil
	}
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	if err := r.ReadTar(rc); err != nil {
		return nil, fmt.Errorf("reading base image files: %w", err)
	}
	return r, nil
}

// ReadTar adds the files of a tar stream (a flattened image or one layer;
// later entries replace earlier ones, whiteouts are not interpreted).
func (r *Root) ReadTar(rd io.Reader) error {
	tr := tar.NewReader(rd)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean("/" + h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			r.entries[name] = entry{dir: true}
		case tar.TypeSymlink:
			r.entries[name] = entry{link: h.Linkname}
		case tar.TypeLink:
			r.entries[name] = entry{link: path.Clean("/" + h.Linkname)}
		case tar.TypeReg:
			r.entries[name] = entry{}
			var err error
			if r.programs != nil && h.Mode&0o111 != 0 && !strings.Contains(path.Base(name), ".so") {
				err = r.readProgram(name, tr)
			} else {
				err = r.readFile(name, tr)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		default:
			r.entries[name] = entry{}
		}
	}
}

// ReadPrograms reads a root file system from a tar stream, as ReadTar
// does, and also what its dynamically linked executables need: Check of
// the two says whether the root's own programs can start (a base built
// from packages whose dependencies are missing cannot run its sed).
func ReadPrograms(rd io.Reader) (*Root, *Needs, error) {
	r := NewRoot()
	r.programs = &Needs{}
	if err := r.ReadTar(rd); err != nil {
		return nil, nil, err
	}
	return r, r.programs, nil
}

// readProgram keeps an executable's needs when it is a dynamically linked
// ELF program.
func (r *Root) readProgram(name string, rd io.Reader) error {
	data, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(data, elfMagic) {
		return nil
	}
	o, err := readObject(bytes.NewReader(data))
	if err != nil || o.Interp == "" {
		return nil // not a program the loader starts
	}
	o.Path = strings.TrimPrefix(name, "/")
	r.programs.Objects = append(r.programs.Objects, o)
	return nil
}

// readFile keeps what the loader reads from a regular file: a shared
// library's soname and versions, and the ld.so configuration.
func (r *Root) readFile(name string, rd io.Reader) error {
	base := path.Base(name)
	switch {
	case name == "/etc/ld.so.cache":
		r.cache = true
	case path.Dir(name) == "/etc/ld.so.conf.d" && strings.HasSuffix(base, ".conf"):
		data, err := io.ReadAll(io.LimitReader(rd, 1<<20))
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if path.IsAbs(line) {
				r.confDirs = append(r.confDirs, path.Clean(line))
			}
		}
	case strings.Contains(base, ".so"):
		data, err := io.ReadAll(rd)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(data, elfMagic) {
			return nil // a linker script such as libc.so
		}
		o, err := readObject(bytes.NewReader(data))
		if err != nil {
			return nil // not a library the loader could use either
		}
		r.libs[name] = o.lib(name)
	}
	return nil
}

// resolve follows symlinks in every component of p, as the kernel does,
// and returns the path of what is there; ok is false when nothing is.
func (r *Root) resolve(p string) (string, bool) {
	p = path.Clean("/" + p)
	hops := 0
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i := 0; i < len(parts); i++ {
		next := path.Join(cur, parts[i])
		e, ok := r.entries[next]
		if !ok {
			return "", false
		}
		if e.link == "" {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return "", false
		}
		target := e.link
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		rest := append(strings.Split(strings.TrimPrefix(path.Clean(target), "/"), "/"), parts[i+1:]...)
		parts, cur, i = rest, "/", -1
		if parts[0] == "" {
			parts = parts[1:]
		}
	}
	return cur, true
}

// Exists reports whether p resolves to a file or directory.
func (r *Root) Exists(p string) bool {
	_, ok := r.resolve(p)
	return ok
}

// triplets are Debian's multiarch directory names, by ELF machine; the
// loader of a multiarch system searches them by default.
var triplets = map[elf.Machine][]string{
	elf.EM_X86_64:  {"x86_64-linux-gnu"},
	elf.EM_AARCH64: {"aarch64-linux-gnu"},
	elf.EM_386:     {"i386-linux-gnu"},
	elf.EM_ARM:     {"arm-linux-gnueabihf", "arm-linux-gnueabi"},
	elf.EM_PPC64:   {"powerpc64le-linux-gnu"},
	elf.EM_S390:    {"s390x-linux-gnu"},
	elf.EM_RISCV:   {"riscv64-linux-gnu"},
}

// searchDirs are the directories the loader searches for a library of
// machine m and class c: /etc/ld.so.conf.d's (through ld.so.cache, so
// only when the root has one), the multiarch ones, then the traditional
// ones (Debian's loader has /lib and /usr/lib after its multiarch
// directories; 64-bit systems without multiarch use /lib64 and /usr/lib64).
func (r *Root) searchDirs(m elf.Machine, c elf.Class) []string {
	var dirs []string
	if r.cache {
		dirs = append(dirs, r.confDirs...)
	}
	for _, t := range triplets[m] {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	if c == elf.ELFCLASS64 {
		dirs = append(dirs, "/lib64", "/usr/lib64")
	}
	return append(dirs, "/lib", "/usr/lib")
}

// Find looks up the library the loader would load for soname, for an
// object of the given machine and class.
func (r *Root) Find(soname string, m elf.Machine, c elf.Class) (Lib, bool) {
	candidates := []string{soname}
	if !strings.Contains(soname, "/") {
		candidates = candidates[:0]
		for _, d := range r.searchDirs(m, c) {
			candidates = append(candidates, path.Join(d, soname))
		}
	}
	for _, p := range candidates {
		real, ok := r.resolve(p)
		if !ok {
			continue
		}
		if lib, ok := r.libs[real]; ok && lib.Machine == m && lib.Class == c {
			return lib, true
		}
	}
	return Lib{}, false
}

// Similar lists the library file names in the root that share soname's
// stem ("libcrypto.so.1.1" for "libcrypto.so.3"), for error hints.
func (r *Root) Similar(soname string) []string {
	stem, _, _ := strings.Cut(soname, ".so")
	seen := map[string]bool{}
	var out []string
	for p, lib := range r.libs {
		name := lib.Soname
		if name == "" {
			name = path.Base(p)
		}
		if s, _, _ := strings.Cut(name, ".so"); s == stem && name != soname && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}
