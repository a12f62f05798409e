package deb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Package is a parsed .deb file.
type Package struct {
	Name         string
	Version      string
	Architecture string
	// Control is the package's control paragraph, as shipped.
	Control string
	// MD5sums is the package's md5sums control file (may be empty).
	MD5sums []byte
	// Postinst is the package's postinst maintainer script (may be empty).
	Postinst string
	// Files are the entries of data.tar, in archive order.
	Files []File
}

// File is one entry of a package's data archive.
type File struct {
	Header *tar.Header
	Data   []byte
}

// ReadFile reads the .deb file at name.
func ReadFile(name string) (*Package, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	p, err := Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

const arMagic = "!<arch>\n"

// Read parses a .deb archive.
func Read(r io.Reader) (*Package, error) {
	magic := make([]byte, len(arMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != arMagic {
		return nil, errors.New("not a Debian package (no ar archive header)")
	}
	p := &Package{}
	var seenControl, seenData bool
	for {
		hdr := make([]byte, 60)
		if _, err := io.ReadFull(r, hdr); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading ar header: %w", err)
		}
		if string(hdr[58:60]) != "`\n" {
			return nil, errors.New("damaged ar member header")
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("ar member %s: bad size %q", name, hdr[48:58])
		}
		body := io.LimitReader(r, size)
		switch {
		case name == "debian-binary":
			v, err := io.ReadAll(body)
			if err != nil {
				return nil, err
			}
			if !strings.HasPrefix(string(v), "2.") {
				return nil, fmt.Errorf("unsupported package format %q", strings.TrimSpace(string(v)))
			}
		case strings.HasPrefix(name, "control.tar"):
			if err := p.readControl(name, body); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			seenControl = true
		case strings.HasPrefix(name, "data.tar"):
			if err := p.readData(name, body); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			seenData = true
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, err
		}
		if size%2 == 1 { // members are 2-byte aligned
			if _, err := io.ReadFull(r, make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
		}
	}
	if !seenControl || !seenData {
		return nil, errors.New("not a Debian package (control.tar or data.tar missing)")
	}
	return p, nil
}

// decompress opens an ar member by its file name extension.
func decompress(name string, r io.Reader) (io.Reader, func(), error) {
	switch path.Ext(name) {
	case ".tar":
		return r, func() {}, nil
	case ".gz":
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, func() { _ = z.Close() }, nil
	case ".xz":
		z, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return z, func() {}, nil
	case ".zst":
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	}
	return nil, nil, fmt.Errorf("unsupported compression %s", path.Ext(name))
}

func (p *Package) readControl(name string, r io.Reader) error {
	zr, done, err := decompress(name, r)
	if err != nil {
		return err
	}
	defer done()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch path.Clean(h.Name) {
		case "control":
			data, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			p.Control = strings.TrimRight(string(data), "\n") + "\n"
		case "md5sums":
			if p.MD5sums, err = io.ReadAll(tr); err != nil {
				return err
			}
		case "postinst":
			data, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			p.Postinst = string(data)
		}
	}
	if p.Control == "" {
		return errors.New("no control file")
	}
	fields := parseControl(p.Control)
	p.Name, p.Version, p.Architecture = fields["Package"], fields["Version"], fields["Architecture"]
	if p.Name == "" || p.Version == "" || p.Architecture == "" {
		return errors.New("control file lacks Package, Version or Architecture")
	}
	return nil
}

// Paragraphs splits Debian control-format text (a package's control file,
// dpkg's status file) into its paragraphs' simple fields; continuation
// lines are dropped.
func Paragraphs(s string) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur = map[string]string{}
			}
		case line[0] == ' ' || line[0] == '\t':
		default:
			if k, v, ok := strings.Cut(line, ":"); ok {
				cur[k] = strings.TrimSpace(v)
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// parseControl reads the simple fields of a control paragraph.
func parseControl(s string) map[string]string {
	if ps := Paragraphs(s); len(ps) > 0 {
		return ps[0]
	}
	return map[string]string{}
}

func (p *Package) readData(name string, r io.Reader) error {
	zr, done, err := decompress(name, r)
	if err != nil {
		return err
	}
	defer done()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f := File{Header: h}
		if h.Typeflag == tar.TypeReg {
			var buf bytes.Buffer
			buf.Grow(int(h.Size))
			if _, err := io.Copy(&buf, tr); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			f.Data = buf.Bytes()
		}
		p.Files = append(p.Files, f)
	}
}
