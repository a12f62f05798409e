package abi

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Object is one ELF file of a release and what the dynamic loader needs to
// run it.
type Object struct {
	// Path is the file's slash-separated path from the release root.
	Path    string
	Machine elf.Machine
	Class   elf.Class
	// Interp is the program interpreter (PT_INTERP), e.g.
	// /lib64/ld-linux-x86-64.so.2; empty for shared objects and static
	// executables.
	Interp string
	// Soname is the object's DT_SONAME, when it is a shared library.
	Soname string
	// Needed are the DT_NEEDED sonames, in file order.
	Needed []string
	// Versions maps a needed soname to the symbol versions needed from it.
	Versions map[string][]string
	// Defines are the symbol versions the object itself defines.
	Defines []string
}

// Dynamic reports whether the object needs the dynamic loader at all.
func (o Object) Dynamic() bool { return o.Interp != "" || len(o.Needed) > 0 }

// Script is a file that starts with #! and the interpreter it names.
type Script struct {
	Path   string
	Interp string
}

// Needs is what a release's native code and boot scripts need from the
// root file system they run on.
type Needs struct {
	Objects []Object
	Scripts []Script
}

// Dynamic lists the objects that need the dynamic loader.
func (n *Needs) Dynamic() []Object {
	var out []Object
	for _, o := range n.Objects {
		if o.Dynamic() {
			out = append(out, o)
		}
	}
	return out
}

// Scan reads the release in fsys: the ELF files and scripts of
// erts-*/bin, the ELF files under lib/*/priv (NIFs, port programs), and
// the scripts of bin/ (the boot scripts; under lib/*/priv only ELF files
// count). Other files are not read. Files that are not ELF or
// scripts are skipped; an ELF file that cannot be parsed is an error.
func Scan(fsys fs.FS) (*Needs, error) {
	var roots []string
	for _, pattern := range []string{"erts-*/bin", "lib/*/priv", "bin"} {
		m, err := fs.Glob(fsys, pattern)
		if err != nil {
			return nil, err
		}
		roots = append(roots, m...)
	}
	n := &Needs{}
	for _, root := range roots {
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			return n.add(fsys, p)
		})
		if err != nil {
			return nil, fmt.Errorf("scanning native code: %w", err)
		}
	}
	return n, nil
}

var elfMagic = []byte(elf.ELFMAG)

func (n *Needs) add(fsys fs.FS, p string) error {
	f, err := fsys.Open(p)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	head := make([]byte, 256)
	k, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", p, err)
	}
	head = head[:k]
	switch {
	case bytes.HasPrefix(head, elfMagic):
		ra, ok := f.(io.ReaderAt)
		if !ok {
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			ra = bytes.NewReader(data)
		}
		o, err := readObject(ra)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		o.Path = p
		n.Objects = append(n.Objects, o)
	case bytes.HasPrefix(head, []byte("#!")) && !strings.HasPrefix(p, "lib/"):
		// Scripts under lib/*/priv are tools an application may never run;
		// those of bin/ and erts-*/bin boot the release.
		line, _, _ := bufio.NewReader(bytes.NewReader(head[2:])).ReadLine()
		if fields := strings.Fields(string(line)); len(fields) > 0 && path.IsAbs(fields[0]) {
			n.Scripts = append(n.Scripts, Script{Path: p, Interp: fields[0]})
		}
	}
	return nil
}

// readObject reads the loader-relevant parts of an ELF file.
func readObject(r io.ReaderAt) (Object, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return Object{}, err
	}
	defer func() { _ = f.Close() }()
	o := Object{Machine: f.Machine, Class: f.Class}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return Object{}, fmt.Errorf("reading PT_INTERP: %w", err)
			}
			o.Interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if o.Needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return Object{}, fmt.Errorf("reading DT_NEEDED: %w", err)
	}
	if so, err := f.DynString(elf.DT_SONAME); err == nil && len(so) > 0 {
		o.Soname = so[0]
	}
	// Files without version sections are fine; a damaged one is not.
	if needs, err := f.DynamicVersionNeeds(); err == nil {
		for _, need := range needs {
			if o.Versions == nil {
				o.Versions = map[string][]string{}
			}
			for _, d := range need.Needs {
				o.Versions[need.Name] = append(o.Versions[need.Name], d.Dep)
			}
			slices.Sort(o.Versions[need.Name])
			o.Versions[need.Name] = slices.Compact(o.Versions[need.Name])
		}
	}
	if defs, err := f.DynamicVersions(); err == nil {
		for _, d := range defs {
			if d.Flags&elf.VER_FLG_BASE == 0 {
				o.Defines = append(o.Defines, d.Name)
			}
		}
	}
	return o, nil
}

// lib describes the object as a library found at p.
func (o Object) lib(p string) Lib {
	return Lib{Path: p, Soname: o.Soname, Machine: o.Machine, Class: o.Class, Versions: o.Defines, Needed: o.Needed, Needs: o.Versions}
}
