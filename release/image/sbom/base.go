package sbom

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/relgen/relgen/release/image/deb"
)

// ReadBase lists the Debian packages installed in img (nil: scratch) from
// dpkg's status database, with package URLs that name the distribution
// from /etc/os-release. A base without dpkg's database has none.
func ReadBase(img v1.Image) ([]Component, error) {
	if img == nil {
		return nil, nil
	}
	files := map[string]string{}
	links := map[string]string{}
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the base image: %w", err)
		}
		name := path.Clean("/" + h.Name)
		switch name {
		case "/var/lib/dpkg/status", "/etc/os-release", "/usr/lib/os-release":
		default:
			continue
		}
		switch h.Typeflag {
		case tar.TypeReg:
			data, err := io.ReadAll(io.LimitReader(tr, 64<<20))
			if err != nil {
				return nil, err
			}
			files[name] = string(data)
		case tar.TypeSymlink:
			links[name] = h.Linkname
		}
	}
	osRelease, ok := files["/etc/os-release"]
	if !ok && links["/etc/os-release"] != "" {
		osRelease = files["/usr/lib/os-release"]
	}
	return DebianPackages(files["/var/lib/dpkg/status"], osRelease), nil
}

// DebianPackages lists the installed packages of a dpkg status file.
// osRelease, the content of /etc/os-release, names the distribution in the
// package URLs (namespace ID, qualifier distro=ID-VERSION_ID); without it
// the namespace is debian.
func DebianPackages(status, osRelease string) []Component {
	osID, osVersion := "debian", ""
	for _, line := range strings.Split(osRelease, "\n") {
		k, v, ok := strings.Cut(line, "=")
		v = strings.Trim(v, `"'`)
		switch {
		case !ok:
		case k == "ID" && v != "":
			osID = v
		case k == "VERSION_ID":
			osVersion = v
		}
	}
	var out []Component
	for _, para := range deb.Paragraphs(status) {
		if !strings.HasSuffix(para["Status"], " installed") || para["Package"] == "" {
			continue
		}
		purl := "pkg:deb/" + osID + "/" + para["Package"] + "@" + escape(para["Version"]) + "?arch=" + para["Architecture"]
		if osVersion != "" {
			purl += "&distro=" + osID + "-" + osVersion
		}
		out = append(out, Component{Name: para["Package"], Version: para["Version"], Type: TypeDeb, PURL: purl,
			Description: firstLine(para["Description"])})
	}
	slices.SortFunc(out, func(a, b Component) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
