package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/zeebo/xxh3"
)

// tarFormat names the way entries are written; bump it whenever the bytes
// of a layer change for the same input, so that cache keys change too.
const tarFormat = "relgen-tar-1"

// tarParams is everything besides the entries that shapes a layer's bytes.
type tarParams struct {
	prefix   string // directory inside the image, without slashes: "app"
	uid, gid int
	mtime    time.Time
}

// header is the normalised tar header of e: no user or group names, one
// time for everything, owner from params.
func (p tarParams) header(e entry) *tar.Header {
	h := &tar.Header{
		Typeflag: e.typ,
		Name:     p.prefix + "/" + e.rel,
		Mode:     e.mode,
		Uid:      p.uid,
		Gid:      p.gid,
		ModTime:  p.mtime,
	}
	switch e.typ {
	case tar.TypeDir:
		h.Name += "/"
	case tar.TypeReg:
		h.Size = e.size
	case tar.TypeSymlink:
		h.Linkname = e.link
	}
	return h
}

// rootHeader is the entry for the prefix directory itself.
func (p tarParams) rootHeader() *tar.Header {
	return &tar.Header{Typeflag: tar.TypeDir, Name: p.prefix + "/", Mode: 0o755,
		Uid: p.uid, Gid: p.gid, ModTime: p.mtime}
}

// hashKey writes the parameters into a cache key hash.
func (p tarParams) hashKey(h hash.Hash) {
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%d\x00", tarFormat, p.prefix, p.uid, p.gid, p.mtime.Unix())
}

// shapeKey hashes what a layer's entries look like without reading them:
// names, types, modes, sizes and link targets. Two layers with different
// shapes cannot have the same content.
func shapeKey(p tarParams, l *layerSpec) string {
	h := sha256.New()
	p.hashKey(h)
	for _, e := range l.entries {
		writeShape(h, e)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// statKey extends the shape with the files' change times and inodes, like
// git's index: equal stat keys mean unchanged files without reading them.
// It is empty when some entry has no stat data.
func statKey(p tarParams, l *layerSpec) string {
	h := sha256.New()
	p.hashKey(h)
	var b [32]byte
	for _, e := range l.entries {
		writeShape(h, e)
		if e.typ == tar.TypeDir {
			continue // a directory's own times change with its siblings
		}
		if !e.stat.ok {
			return ""
		}
		binary.LittleEndian.PutUint64(b[0:], uint64(e.stat.mtime))
		binary.LittleEndian.PutUint64(b[8:], uint64(e.stat.ctime))
		binary.LittleEndian.PutUint64(b[16:], e.stat.ino)
		binary.LittleEndian.PutUint64(b[24:], e.stat.dev)
		h.Write(b[:])
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// statInfo is the part of lstat(2) that changes when a file is rewritten.
type statInfo struct {
	ok           bool
	mtime, ctime int64
	ino, dev     uint64
}

// racy reports whether the file changed so close to now that a later
// change could keep the same stat data (git's "racy clean" problem).
func (s statInfo) racy(now time.Time) bool {
	limit := now.Add(-time.Second).UnixNano()
	return s.mtime >= limit || s.ctime >= limit
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 512<<10); return &b }}

// writeTar streams the layer's tar to w, reading the files from dir, and
// fills sums (one per entry) with each file's sum on the way. A file whose
// size changed since it was planned is an error: the layer would not match
// its cache keys.
func writeTar(ctx context.Context, w io.Writer, dir string, p tarParams, l *layerSpec, sums []fileSum) error {
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(p.rootHeader()); err != nil {
		return err
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	sw := &sumWriter{w: tw, h: xxh3.New()}
	for i, e := range l.entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := tw.WriteHeader(p.header(e)); err != nil {
			return fmt.Errorf("%s: %w", e.rel, err)
		}
		if e.typ != tar.TypeReg {
			continue
		}
		sw.h.Reset()
		if err := copyFile(sw, filepath.Join(dir, filepath.FromSlash(e.rel)), e.size, *bp); err != nil {
			return err
		}
		sums[i] = sw.h.Sum128().Bytes()
	}
	return tw.Close()
}
