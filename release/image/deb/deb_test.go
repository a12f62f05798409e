package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// fixture is a package made in the test: a control paragraph and files
// (a trailing "/" makes a directory, "->" a symlink).
type fixture struct {
	name, version, arch string
	comp                string // "", "gz", "xz" or "zst"
	files               map[string]string
	postinst            string
}

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		h := &tar.Header{Name: "./" + name, Mode: 0o644, Uname: "root", Gname: "root", ModTime: time.Date(2023, 1, 5, 0, 0, 0, 0, time.UTC)}
		switch body := files[name]; {
		case strings.HasSuffix(name, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case strings.HasPrefix(body, "->"):
			h.Typeflag, h.Linkname = tar.TypeSymlink, strings.TrimPrefix(body, "->")
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, files[name]); h.Typeflag == tar.TypeReg && err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func compress(t *testing.T, comp string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch comp {
	case "":
		return data
	case "gz":
		w = gzip.NewWriter(&buf)
	case "xz":
		w, err = xz.NewWriter(&buf)
	case "zst":
		w, err = zstd.NewWriter(&buf)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// deb writes the fixture as a .deb: an ar archive as dpkg-deb writes it.
func (f fixture) deb(t *testing.T) []byte {
	t.Helper()
	ext := ""
	if f.comp != "" {
		ext = "." + f.comp
	}
	control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <test@example.com>\nDescription: test package\n multi-line\n", f.name, f.version, f.arch)
	var buf bytes.Buffer
	buf.WriteString(arMagic)
	member := func(name string, data []byte) {
		fmt.Fprintf(&buf, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, 0, 0, 0, "100644", len(data))
		buf.Write(data)
		if len(data)%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	member("debian-binary", []byte("2.0\n"))
	ctl := map[string]string{"control": control, "md5sums": "d41d8cd98f00b204e9800998ecf8427e  usr/bin/" + f.name + "\n"}
	if f.postinst != "" {
		ctl["postinst"] = f.postinst
	}
	member("control.tar"+ext, compress(t, f.comp, tarOf(t, ctl)))
	member("data.tar"+ext, compress(t, f.comp, tarOf(t, f.files)))
	return buf.Bytes()
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestRead(t *testing.T) {
	for _, comp := range []string{"", "gz", "xz", "zst"} {
		t.Run("data.tar."+comp, func(t *testing.T) {
			f := fixture{name: "hello", version: "1:2.0-1", arch: "amd64", comp: comp, files: map[string]string{
				"usr/": "", "usr/bin/": "", "usr/bin/hello": "#!/bin/sh\necho hi\n", "usr/bin/hi": "->hello",
			}}
			data := f.deb(t)
			if comp != "" {
				// The fixture is a real package: dpkg-deb reads it too.
				if _, err := exec.LookPath("dpkg-deb"); err == nil {
					file := filepath.Join(t.TempDir(), "hello.deb")
					if err := os.WriteFile(file, data, 0o644); err != nil {
						t.Fatal(err)
					}
					out, err := exec.Command("dpkg-deb", "--field", file, "Package", "Version").CombinedOutput()
					if err != nil || !strings.Contains(string(out), "Version: 1:2.0-1") {
						t.Fatalf("dpkg-deb --field: %v\n%s", err, out)
					}
				}
			}
			p, err := Read(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "hello" || p.Version != "1:2.0-1" || p.Architecture != "amd64" {
				t.Errorf("Read = %s %s %s, want hello 1:2.0-1 amd64", p.Name, p.Version, p.Architecture)
			}
			var got []string
			for _, f := range p.Files {
				got = append(got, fmt.Sprintf("%s %c %s%s", f.Header.Name, f.Header.Typeflag, f.Data, f.Header.Linkname))
			}
			want := []string{"./usr/ 5 ", "./usr/bin/ 5 ", "./usr/bin/hello 0 #!/bin/sh\necho hi\n", "./usr/bin/hi 2 hello"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range []struct{ name, data, want string }{
		{"not ar", "PK\x03\x04....", "not a Debian package"},
		{"no data", arMagic + fmt.Sprintf("%-16s%-12d%-6d%-6d%-8s%-10d`\n", "debian-binary", 0, 0, 0, "100644", 4) + "2.0\n", "control.tar or data.tar missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Read(strings.NewReader(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func readLayer(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	out := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			data, _ := io.ReadAll(tr)
			h.PAXRecords = map[string]string{"data": string(data)}
		}
		out[h.Name] = h
	}
}

func TestBase(t *testing.T) {
	libc := fixture{name: "libc6", version: "2.36-9", arch: "amd64", comp: "xz", files: map[string]string{
		"lib/": "", "lib/x86_64-linux-gnu/": "", "lib/x86_64-linux-gnu/libc.so.6": "ELF", "lib64/": "",
		"lib64/ld-linux-x86-64.so.2":    "->/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"usr/share/doc/libc6/copyright": "GPL", "usr/share/doc/libc6/changelog.gz": "log", "usr/share/man/man1/x.1": "man",
	}}
	certs := fixture{name: "ca-certificates", version: "20230311", arch: "all", comp: "zst", files: map[string]string{
		"usr/share/ca-certificates/mozilla/A.crt": "-----A-----", "usr/share/ca-certificates/mozilla/B.crt": "-----B-----\n",
		"lib/": "",
	}}
	// Two awks; the postinst scripts of both register an alternative, as
	// dh_installalternatives writes them.
	postinst := func(path string, prio int) string {
		return "#!/bin/sh\nset -e\nif [ \"$1\" = \"configure\" ]; then\n" +
			"        update-alternatives --install /usr/bin/awk awk " + path + " " + strconv.Itoa(prio) + " \\\n" +
			"            --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/x.1.gz \\\n" +
			"            --slave /usr/bin/nawk nawk " + path + "\nfi\n"
	}
	mawk := fixture{name: "mawk", version: "1.3.4", arch: "amd64", comp: "gz", files: map[string]string{"usr/bin/mawk": "ELF"}, postinst: postinst("/usr/bin/mawk", 5)}
	gawk := fixture{name: "gawk", version: "5.2", arch: "amd64", comp: "gz", files: map[string]string{"usr/bin/gawk": "ELF"}, postinst: postinst("/usr/bin/gawk", 10)}
	read := func(f fixture) *Package {
		p, err := Read(bytes.NewReader(f.deb(t)))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkgs := []*Package{read(libc), read(certs), read(mawk), read(gawk)}
	created := time.Unix(1700000000, 0)
	img, err := Base(pkgs, WithCreationTime(created), WithUser(1000, 1001))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatal(err)
	}
	again, err := Base([]*Package{read(gawk), read(certs), read(mawk), read(libc)}, WithCreationTime(created), WithUser(1000, 1001))
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("the same packages in another order: digests %s and %s, want one", d1, d2)
	}

	files := readLayer(t, img)
	for name, want := range map[string]string{
		"etc/passwd":                        "root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:1000:1001:nonroot:/home/nonroot:/usr/sbin/nologin\n",
		"etc/group":                         "root:x:0:\nnonroot:x:1001:\n",
		"etc/ssl/certs/ca-certificates.crt": "-----A-----\n-----B-----\n",
		"usr/share/doc/libc6/copyright":     "GPL",
		"var/lib/dpkg/info/libc6.list":      "/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n/lib64\n/lib64/ld-linux-x86-64.so.2\n/usr/share/doc/libc6/changelog.gz\n/usr/share/doc/libc6/copyright\n/usr/share/man/man1/x.1\n",
	} {
		h, ok := files[name]
		if !ok {
			t.Errorf("%s missing from the base", name)
			continue
		}
		if got := h.PAXRecords["data"]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// dpkg's status: every package, sorted by name, as dpkg writes them.
	wantStatus := ""
	for i, name := range []string{"ca-certificates", "gawk", "libc6", "mawk"} {
		if i > 0 {
			wantStatus += "\n"
		}
		p := read(map[string]fixture{"ca-certificates": certs, "gawk": gawk, "libc6": libc, "mawk": mawk}[name])
		wantStatus += "Package: " + name + "\nStatus: install ok installed\nVersion: " + p.Version + "\nArchitecture: " + p.Architecture +
			"\nMaintainer: Test <test@example.com>\nDescription: test package\n multi-line\n"
	}
	if diff := cmp.Diff(wantStatus, files["var/lib/dpkg/status"].PAXRecords["data"]); diff != "" {
		t.Errorf("var/lib/dpkg/status (-want +got):\n%s", diff)
	}
	for _, name := range []string{"usr/share/doc/libc6/changelog.gz", "usr/share/man/man1/x.1"} {
		if _, ok := files[name]; ok {
			t.Errorf("%s is in the base; documentation is left out", name)
		}
	}
	for name, h := range files {
		if !h.ModTime.Equal(created) || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: time %v owner %q:%q, want %v and no names", name, h.ModTime, h.Uname, h.Gname, created)
		}
	}
	if h := files["tmp"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp = %+v, want a 1777 directory", h)
	}
	if h := files["home/nonroot"]; h == nil || h.Uid != 1000 || h.Gid != 1001 {
		t.Errorf("home/nonroot = %+v, want it owned by 1000:1001", h)
	}
	for link, target := range map[string]string{
		"usr/bin/awk": "/etc/alternatives/awk", "etc/alternatives/awk": "/usr/bin/gawk",
		"usr/bin/nawk": "/etc/alternatives/nawk", "etc/alternatives/nawk": "/usr/bin/gawk",
	} {
		if h := files[link]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != target {
			t.Errorf("%s = %+v, want a link to %s (the alternative with the highest priority)", link, h, target)
		}
	}
	if h := files["usr/share/man/man1/awk.1.gz"]; h != nil {
		t.Errorf("%s is in the base, but its target is documentation, left out", h.Name)
	}
	if h := files["lib64/ld-linux-x86-64.so.2"]; h == nil || h.Linkname != "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" {
		t.Errorf("the loader link = %+v", h)
	}

	t.Run("errors", func(t *testing.T) {
		other := libc
		other.name, other.files = "evil", map[string]string{"lib/x86_64-linux-gnu/libc.so.6": "other"}
		arm := libc
		arm.arch = "arm64"
		for _, tc := range []struct {
			name string
			pkgs []*Package
			want string
		}{
			{"conflict", []*Package{read(libc), read(other)}, "/lib/x86_64-linux-gnu/libc.so.6 is in both evil and libc6"},
			{"architecture", []*Package{read(arm)}, "package libc6 2.36-9 is for arm64, the image is linux/amd64 (amd64)"},
			{"twice", []*Package{read(libc), read(libc)}, "package libc6 given twice"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := Base(tc.pkgs); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Base = %v, want an error saying %q", err, tc.want)
				}
			})
		}
	})
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"zlib1g_1%3a1.2.13.dfsg-1_amd64.deb", "libc6_2.36-9_amd64.deb", "libc6_2.36-9_arm64.deb",
		"libssl3_3.0.11-1_amd64.deb", "libssl3_3.0.13-1_amd64.deb", "ca-certificates_20230311_all.deb", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, missing, err := Find(dir, []string{"libc6", "zlib1g=1:1.2.13.dfsg-1", "ca-certificates", "libssl3=3.0.13-1", "libtinfo6"}, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	if diff := cmp.Diff([]string{"libc6_2.36-9_amd64.deb", "zlib1g_1%3a1.2.13.dfsg-1_amd64.deb", "ca-certificates_20230311_all.deb", "libssl3_3.0.13-1_amd64.deb"}, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"libtinfo6"}, missing); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
	if _, _, err := Find(dir, []string{"libssl3"}, "amd64"); err == nil || !strings.Contains(err.Error(), "pin one as libssl3=VERSION") {
		t.Errorf("Find with two versions = %v, want an error asking for a pin", err)
	}
}

// TestBaseFromFiles: the cached, the uncached and the in-memory base are
// one image.
func TestBaseFromFiles(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	var files []string
	var pkgs []*Package
	for _, f := range []fixture{
		{name: "a", version: "1", arch: "amd64", comp: "xz", files: map[string]string{"usr/bin/a": "A"}},
		{name: "b", version: "2", arch: "all", comp: "gz", files: map[string]string{"usr/share/b": "B"}},
	} {
		data := f.deb(t)
		p := filepath.Join(dir, f.name+"_"+f.version+"_"+f.arch+".deb")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
		pkg, err := Read(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, pkg)
	}
	digest := func(img v1.Image, err error) v1.Hash {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(img); err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	want := digest(Base(pkgs, WithUser(10, 10)))
	for _, tc := range []struct {
		name  string
		cache string
	}{{"no cache", ""}, {"cache miss", cache}, {"cache hit", cache}} {
		if got := digest(BaseFromFiles(files, tc.cache, WithUser(10, 10))); got != want {
			t.Errorf("%s: digest %s, want %s as from Base", tc.name, got, want)
		}
	}
	// One cache entry for both builds; the key covers the options.
	entries, _ := filepath.Glob(filepath.Join(cache, "*.tar.gz"))
	if len(entries) != 1 {
		t.Fatalf("cache holds %v, want one layer", entries)
	}
	if got := digest(BaseFromFiles(files, cache, WithUser(11, 11))); got == want {
		t.Errorf("another user gave the same digest %s: the key must cover the options", got)
	}
}

// TestBaseChecksPrograms: a base whose programs miss a library is refused
// (this machine's sed without libacl), unless the check is left out.
func TestBaseChecksPrograms(t *testing.T) {
	host := map[string]string{
		"usr/bin/sed":                               "/usr/bin/sed",
		"lib/x86_64-linux-gnu/libc.so.6":            "/lib/x86_64-linux-gnu/libc.so.6",
		"lib/x86_64-linux-gnu/libselinux.so.1":      "/lib/x86_64-linux-gnu/libselinux.so.1",
		"lib/x86_64-linux-gnu/libpcre2-8.so.0":      "/lib/x86_64-linux-gnu/libpcre2-8.so.0",
		"lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": "/lib64/ld-linux-x86-64.so.2",
	}
	files := map[string]string{"lib64/ld-linux-x86-64.so.2": "->/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"}
	for dst, src := range host {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Skipf("%s: %v (not a Debian amd64 machine)", src, err)
		}
		files[dst] = string(data)
	}
	f := fixture{name: "sed-and-libc", version: "1", arch: "amd64", comp: "gz", files: files}
	p, err := Read(bytes.NewReader(f.deb(t)))
	if err != nil {
		t.Fatal(err)
	}
	// tarOf writes files 0644; sed must be a program.
	for i := range p.Files {
		if p.Files[i].Header.Name == "./usr/bin/sed" {
			p.Files[i].Header.Mode = 0o755
		}
	}
	_, err = Base([]*Package{p})
	if want := "usr/bin/sed needs libacl.so.1; the base has none"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Base = %v, want an error saying %q", err, want)
	}
	if _, err := Base([]*Package{p}, WithoutCheck()); err != nil {
		t.Errorf("Base without the check: %v", err)
	}
}
