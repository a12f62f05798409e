package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/relgen/relgen/release/image/abi"
)

// Option configures Base.
type Option func(*options)

type options struct {
	created  time.Time
	uid, gid int
	platform v1.Platform
	noCheck  bool
}

// WithCreationTime sets every time in the layer and the config (default
// the Unix epoch).
func WithCreationTime(t time.Time) Option { return func(o *options) { o.created = t.UTC() } }

// WithUser sets the uid and gid of the runtime user written to /etc/passwd
// and /etc/group and owning its home directory (default 65532).
func WithUser(uid, gid int) Option { return func(o *options) { o.uid, o.gid = uid, gid } }

// WithPlatform sets the image platform (default linux/amd64). Every
// package must be of its architecture or "all".
func WithPlatform(p v1.Platform) Option { return func(o *options) { o.platform = p } }

// WithoutCheck leaves out the check that every dynamically linked program
// in the packages finds its libraries in them.
func WithoutCheck() Option { return func(o *options) { o.noCheck = true } }

// UserName is the name of the runtime user in the base's /etc/passwd.
const UserName = "nonroot"

// Arch is Debian's name for the architecture of p ("amd64", "arm64",
// "armhf", "i386", ...).
func Arch(p v1.Platform) string {
	switch {
	case p.Architecture == "arm" && p.Variant == "v5":
		return "armel"
	case p.Architecture == "arm":
		return "armhf"
	case p.Architecture == "386":
		return "i386"
	case p.Architecture == "ppc64le":
		return "ppc64el"
	}
	return p.Architecture
}

// skipped reports paths left out of the base: documentation, except the
// copyright files that the licences require to travel with the binaries.
func skipped(name string, dir bool) bool {
	for _, prefix := range []string{"usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/lintian/"} {
		if strings.HasPrefix(name+"/", prefix) && name+"/" != prefix {
			return dir || path.Base(name) != "copyright" || !strings.HasPrefix(name, "usr/share/doc/")
		}
	}
	return false
}

type entry struct {
	hdr  tar.Header
	data []byte
	pkg  string
}

func makeOptions(opts []Option) options {
	o := options{uid: 65532, gid: 65532, platform: v1.Platform{OS: "linux", Architecture: "amd64"}, created: time.Unix(0, 0).UTC()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Base builds a one-layer base image from pkgs (see the package doc).
func Base(pkgs []*Package, opts ...Option) (v1.Image, error) {
	o := makeOptions(opts)
	data, history, err := layerTar(pkgs, o)
	if err != nil {
		return nil, err
	}
	blob, err := gzipped(data)
	if err != nil {
		return nil, err
	}
	return blobImage(blob, history, o)
}

// gzipped compresses a layer the one way relgen does for bases: Go's
// gzip at BestSpeed, no name, time 0.
func gzipped(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	z, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := z.Write(data); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// blobImage is the base image of a compressed layer.
func blobImage(blob []byte, history string, o options) (v1.Image, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(blob)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	return imageOf(plainLayer{layer}, history, o)
}

// layerTar is the uncompressed base layer and the history line naming
// the packages.
func layerTar(pkgs []*Package, o options) ([]byte, string, error) {
	if len(pkgs) == 0 {
		return nil, "", fmt.Errorf("no packages")
	}
	pkgs = slices.Clone(pkgs)
	slices.SortFunc(pkgs, func(a, b *Package) int { return strings.Compare(a.Name, b.Name) })
	arch := Arch(o.platform)
	entries := map[string]*entry{}
	lists := map[string][]string{}
	for i, p := range pkgs {
		if i > 0 && pkgs[i-1].Name == p.Name {
			return nil, "", fmt.Errorf("package %s given twice (%s and %s)", p.Name, pkgs[i-1].Version, p.Version)
		}
		if p.Architecture != arch && p.Architecture != "all" {
			return nil, "", fmt.Errorf("package %s %s is for %s, the image is %s (%s)", p.Name, p.Version, p.Architecture, o.platform.String(), arch)
		}
		for _, f := range p.Files {
			name := path.Clean(strings.TrimPrefix(f.Header.Name, "./"))
			if name == "." || name == ".." || strings.HasPrefix(name, "../") {
				continue
			}
			dir := f.Header.Typeflag == tar.TypeDir
			lists[p.Name] = append(lists[p.Name], "/"+name)
			if skipped(name, dir) {
				continue
			}
			e := &entry{pkg: p.Name, data: f.Data, hdr: tar.Header{
				Typeflag: f.Header.Typeflag, Name: name, Mode: f.Header.Mode & 0o7777, Size: int64(len(f.Data)),
			}}
			switch f.Header.Typeflag {
			case tar.TypeDir, tar.TypeReg:
			case tar.TypeSymlink:
				e.hdr.Linkname = f.Header.Linkname
			case tar.TypeLink:
				e.hdr.Linkname = path.Clean(strings.TrimPrefix(f.Header.Linkname, "./"))
			default:
				return nil, "", fmt.Errorf("package %s: %s: unsupported file type %q", p.Name, name, f.Header.Typeflag)
			}
			if prev, ok := entries[name]; ok && !compatible(prev, e) {
				return nil, "", fmt.Errorf("/%s is in both %s and %s", name, prev.pkg, p.Name)
			}
			entries[name] = e
		}
	}
	for _, g := range generated(pkgs, lists, entries, o) {
		entries[g.hdr.Name] = g
	}
	// Every parent is a directory entry of its own.
	for _, name := range slices.Collect(maps.Keys(entries)) {
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = &entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755}}
			}
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		e := entries[name]
		h := e.hdr
		if h.Typeflag == tar.TypeDir {
			h.Name += "/"
		}
		h.ModTime = o.created
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, "", fmt.Errorf("/%s: %w", name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, "", err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	names := make([]string, len(pkgs))
	for i, p := range pkgs {
		names[i] = p.Name + "=" + p.Version
	}
	if !o.noCheck {
		root, programs, err := abi.ReadPrograms(bytes.NewReader(buf.Bytes()))
		if err != nil {
			return nil, "", err
		}
		if err := abi.Check(programs, root, "the base"); err != nil {
			return nil, "", fmt.Errorf("the packages' own programs cannot start (add the packages that ship what they need):\n%w", err)
		}
	}
	return buf.Bytes(), "relgen: Debian packages " + strings.Join(names, " "), nil
}

// imageOf puts the base layer into an image with its config.
func imageOf(layer v1.Layer, history string, o options) (v1.Image, error) {
	img, err := mutate.AppendLayers(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: o.created}
	cf.OS, cf.Architecture, cf.Variant = o.platform.OS, o.platform.Architecture, o.platform.Variant
	cf.History = []v1.History{{Created: v1.Time{Time: o.created}, CreatedBy: history}}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	return mutate.ConfigFile(img, cf)
}

// compatible reports whether two packages may both ship a path: a
// directory, or the very same file or link.
func compatible(a, b *entry) bool {
	if a.hdr.Typeflag == tar.TypeDir && b.hdr.Typeflag == tar.TypeDir {
		return true
	}
	return a.hdr.Typeflag == b.hdr.Typeflag && a.hdr.Linkname == b.hdr.Linkname && bytes.Equal(a.data, b.data)
}

// generated are the files a runtime and scanners expect that no package
// ships as such (they come from maintainer scripts or the installer).
func generated(pkgs []*Package, lists map[string][]string, entries map[string]*entry, o options) []*entry {
	file := func(name string, mode int64, data string) *entry {
		return &entry{data: []byte(data), hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}}
	}
	uid, gid := strconv.Itoa(o.uid), strconv.Itoa(o.gid)
	home := "home/" + UserName
	out := []*entry{
		file("etc/passwd", 0o644, "root:x:0:0:root:/root:/usr/sbin/nologin\n"+
			UserName+":x:"+uid+":"+gid+":"+UserName+":/"+home+":/usr/sbin/nologin\n"),
		file("etc/group", 0o644, "root:x:0:\n"+UserName+":x:"+gid+":\n"),
		file("etc/nsswitch.conf", 0o644, "passwd: files\ngroup: files\nhosts: files dns\n"),
		{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "tmp", Mode: 0o1777}},
		{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "root", Mode: 0o700}},
		{hdr: tar.Header{Typeflag: tar.TypeDir, Name: home, Mode: 0o700, Uid: o.uid, Gid: o.gid}},
	}
	out = append(out, alternatives(pkgs, entries)...)
	var status strings.Builder
	for i, p := range pkgs {
		if i > 0 {
			status.WriteString("\n")
		}
		status.WriteString(withStatus(p.Control))
		out = append(out, file("var/lib/dpkg/info/"+p.Name+".list", 0o644, strings.Join(lists[p.Name], "\n")+"\n"))
		if len(p.MD5sums) > 0 {
			out = append(out, file("var/lib/dpkg/info/"+p.Name+".md5sums", 0o644, string(p.MD5sums)))
		}
	}
	out = append(out, file("var/lib/dpkg/status", 0o644, status.String()))
	// update-ca-certificates, as the ca-certificates postinst runs it with
	// the default configuration (every certificate it ships).
	var bundle strings.Builder
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		if e := entries[name]; e.hdr.Typeflag == tar.TypeReg && strings.HasPrefix(name, "usr/share/ca-certificates/") && strings.HasSuffix(name, ".crt") {
			bundle.Write(e.data)
			if !bytes.HasSuffix(e.data, []byte("\n")) {
				bundle.WriteString("\n")
			}
		}
	}
	if bundle.Len() > 0 {
		out = append(out, file("etc/ssl/certs/ca-certificates.crt", 0o644, bundle.String()))
	}
	return out
}

// withStatus inserts dpkg's "Status: install ok installed" after the
// Package field of a control paragraph, where dpkg writes it.
func withStatus(control string) string {
	lines := strings.SplitAfter(strings.TrimRight(control, "\n")+"\n", "\n")
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		if strings.HasPrefix(l, "Package:") {
			b.WriteString("Status: install ok installed\n")
		}
	}
	return b.String()
}

// plainLayer hides the tarball layer's own descriptor, whose empty
// annotations map would make the manifest differ from its JSON form.
type plainLayer struct{ v1.Layer }

// alternatives does what the update-alternatives --install calls in the
// packages' postinst scripts do (for /usr/bin/awk, say): for each name,
// the candidate with the highest priority gets the link, through
// /etc/alternatives/NAME, with its slave links. A candidate whose target
// is not in the base (documentation) is skipped.
func alternatives(pkgs []*Package, entries map[string]*entry) []*entry {
	type alt struct {
		link, path string
		prio       int
		slaves     [][3]string // link, name, path
	}
	best := map[string]alt{}
	for _, p := range pkgs {
		script := strings.ReplaceAll(p.Postinst, "\\\n", " ")
		for _, line := range strings.Split(script, "\n") {
			f := strings.Fields(line)
			i := slices.Index(f, "update-alternatives")
			if i < 0 || len(f) < i+6 || f[i+1] != "--install" {
				continue
			}
			prio, err := strconv.Atoi(f[i+5])
			if err != nil {
				continue
			}
			a := alt{link: f[i+2], path: f[i+4], prio: prio}
			name := f[i+3]
			for j := i + 6; j+3 < len(f); j++ {
				if f[j] == "--slave" {
					a.slaves = append(a.slaves, [3]string{f[j+1], f[j+2], f[j+3]})
					j += 3
				}
			}
			if _, ok := entries[strings.TrimPrefix(a.path, "/")]; !ok {
				continue
			}
			if cur, ok := best[name]; !ok || a.prio > cur.prio {
				best[name] = a
			}
		}
	}
	link := func(name, target string) *entry {
		return &entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(name, "/"), Linkname: target, Mode: 0o777}}
	}
	var out []*entry
	for _, name := range slices.Sorted(maps.Keys(best)) {
		a := best[name]
		out = append(out, link(a.link, "/etc/alternatives/"+name), link("/etc/alternatives/"+name, a.path))
		for _, s := range a.slaves {
			if _, ok := entries[strings.TrimPrefix(s[2], "/")]; ok {
				out = append(out, link(s[0], "/etc/alternatives/"+s[1]), link("/etc/alternatives/"+s[1], s[2]))
			}
		}
	}
	return out
}
