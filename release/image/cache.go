package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/pgzip"
)

// Compression settings. They are part of every layer digest: changing one
// changes every digest, so the cache namespace names them.
//
// Level 1 is klauspost's fastest real LZ level; on a typical release it
// makes layers about 10% larger than gzip -6 at several times the speed
// (docs/image.md has the measurements). One block per MiB is compressed
// on its own goroutine, which is what makes the output independent of the
// number of CPUs.
const (
	gzipLevel     = 1
	gzipBlockSize = 1 << 20
	cacheVersion  = "v1-gzip1-1m"
)

// store is the content-keyed layer cache. Under its root:
//
//	blobs/<digest>   compressed layers, named by their sha256
//	stat/<key>       record of the layer whose files have this stat data
//	content/<key>    record of the layer with this content key
//	shape/<key>      marker: a layer of this shape was built before
//	tmp/             files being written, renamed into place when complete
//
// A record names a blob and its diffID (see encodeRecord). Every file is
// written under tmp/ and renamed, so concurrent builds and interrupted ones
// never leave a partial entry; a lost or damaged entry only costs a rebuild.
type store struct {
	root string
}

// diffRecord is what the cache knows of one layer: its blob and hashes.
type diffRecord struct {
	Digest string `json:"digest"`
	DiffID string `json:"diffID"`
	Size   int64  `json:"size"`
}

func openStore(dir string) (*store, error) {
	s := &store{root: filepath.Join(dir, cacheVersion)}
	for _, d := range []string{"blobs", "checked", "content", "shape", "stat", "tmp"} {
		if err := os.MkdirAll(filepath.Join(s.root, d), 0o755); err != nil {
			return nil, fmt.Errorf("layer cache: %w", err)
		}
	}
	return s, nil
}

// clock returns the file system's idea of now, taken from a file written
// in the cache: stat data newer than this is not trusted (see statInfo.racy).
func (s *store) clock() (time.Time, error) {
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "clock-*")
	if err != nil {
		return time.Time{}, fmt.Errorf("layer cache: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	defer func() { _ = f.Close() }()
	if _, err := f.Write([]byte{0}); err != nil {
		return time.Time{}, fmt.Errorf("layer cache: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return time.Time{}, fmt.Errorf("layer cache: %w", err)
	}
	s.sweep(fi.ModTime())
	return fi.ModTime(), nil
}

func (s *store) path(kind, key string) string { return filepath.Join(s.root, kind, key) }

// lookup returns the blob the record kind/key names, if the record is
// intact and the blob is there with the recorded size.
func (s *store) lookup(kind, key string, mt types.MediaType) (*blobLayer, bool) {
	if key == "" {
		return nil, false
	}
	data, err := os.ReadFile(s.path(kind, key))
	if err != nil {
		return nil, false
	}
	r, ok := decodeRecord(kind, key, data)
	if !ok {
		return nil, false
	}
	l, err := newBlobLayer(s.path("blobs", r.Digest), r, mt)
	if err != nil {
		return nil, false
	}
	if !s.blobIntact(l.path, r) {
		return nil, false
	}
	return l, true
}

// encodeRecord is the file content of a record: its JSON, a newline, and
// the hex sha256 of the kind, key and JSON. A truncated or edited record,
// or one renamed to another key, fails the check in decodeRecord, so the
// cache never hands out a blob for content it was not built from.
func encodeRecord(kind, key string, r diffRecord) ([]byte, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(data, "\n%s\n", recordSum(kind, key, data)), nil
}

func decodeRecord(kind, key string, data []byte) (diffRecord, bool) {
	body, sum, ok := bytes.Cut(data, []byte("\n"))
	if !ok || string(sum) != recordSum(kind, key, body)+"\n" {
		return diffRecord{}, false
	}
	var r diffRecord
	if json.Unmarshal(body, &r) != nil {
		return diffRecord{}, false
	}
	return r, true
}

func recordSum(kind, key string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", kind, key)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func (s *store) hasShape(key string) bool {
	_, err := os.Stat(s.path("shape", key))
	return err == nil
}

// remember records what a finished layer taught the cache: its shape, its
// content key and its stat key (each when given). The stat key is kept only when
// no file changed within a second of the build's start.
func (s *store) remember(l *layerSpec, shape, content, stat string, now time.Time, r diffRecord) error {
	if shape != "" {
		if err := s.put("shape", shape, nil); err != nil {
			return err
		}
	}
	if content != "" {
		if err := s.putRecord("content", content, r); err != nil {
			return err
		}
	}
	if stat == "" {
		return nil
	}
	for _, e := range l.entries {
		if e.stat.ok && e.stat.racy(now) {
			return nil
		}
	}
	return s.putRecord("stat", stat, r)
}

func (s *store) putRecord(kind, key string, r diffRecord) error {
	data, err := encodeRecord(kind, key, r)
	if err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	return s.put(kind, key, data)
}

func (s *store) put(kind, key string, data []byte) error {
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), kind+"-*")
	if err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), s.path(kind, key))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("layer cache: %w", err)
	}
	return nil
}

// compress runs produce into a parallel gzip stream written to a new blob,
// hashing the uncompressed bytes (the diffID) and the compressed ones (the
// digest) on the way, so nothing is read or hashed twice.
func (s *store) compress(produce func(io.Writer) error) (diffRecord, error) {
	f, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "blob-*")
	if err != nil {
		return diffRecord{}, fmt.Errorf("layer cache: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()

	digest := sha256.New()
	out := &countingWriter{w: io.MultiWriter(f, digest)}
	zw, err := pgzip.NewWriterLevel(out, gzipLevel)
	if err != nil {
		return diffRecord{}, err
	}
	// Blocks in flight bound the memory: two per CPU keep every core busy.
	if err := zw.SetConcurrency(gzipBlockSize, 2*runtime.GOMAXPROCS(0)); err != nil {
		return diffRecord{}, err
	}
	zw.ModTime = time.Unix(0, 0) // the zero Time would not encode as 0
	zw.OS = 255                  // "unknown", as on every machine

	diffID := sha256.New()
	if err := produce(io.MultiWriter(diffID, zw)); err != nil {
		_ = zw.Close()
		return diffRecord{}, err
	}
	if err := zw.Close(); err != nil {
		return diffRecord{}, fmt.Errorf("compressing layer: %w", err)
	}
	// Read-only: blobs are hard-linked into OCI layouts (see linkBlobs).
	if err := f.Chmod(0o444); err != nil {
		return diffRecord{}, fmt.Errorf("layer cache: %w", err)
	}
	if err := f.Close(); err != nil {
		return diffRecord{}, fmt.Errorf("layer cache: %w", err)
	}
	r := diffRecord{
		Digest: hex.EncodeToString(digest.Sum(nil)),
		DiffID: hex.EncodeToString(diffID.Sum(nil)),
		Size:   out.n,
	}
	if err := os.Rename(f.Name(), s.path("blobs", r.Digest)); err != nil {
		return diffRecord{}, fmt.Errorf("layer cache: %w", err)
	}
	done = true
	s.noteChecked(r)
	return r, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// blobLayer is a compressed layer in the cache, with its hashes known.
type blobLayer struct {
	path           string
	digest, diffID v1.Hash
	size           int64
	mediaType      types.MediaType
}

var _ v1.Layer = (*blobLayer)(nil)

func newBlobLayer(path string, r diffRecord, mt types.MediaType) (*blobLayer, error) {
	d, err := v1.NewHash("sha256:" + r.Digest)
	if err != nil {
		return nil, err
	}
	id, err := v1.NewHash("sha256:" + r.DiffID)
	if err != nil {
		return nil, err
	}
	return &blobLayer{path: path, digest: d, diffID: id, size: r.Size, mediaType: mt}, nil
}

func (l *blobLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *blobLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *blobLayer) Size() (int64, error)                { return l.size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// Compressed returns the *os.File itself so that copies into an OCI layout
// can use copy_file_range.
func (l *blobLayer) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }

// Uncompressed returns the layer's tar stream.
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := pgzip.NewReader(f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &readCloser{Reader: zr, close: func() error { return errors.Join(zr.Close(), f.Close()) }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r *readCloser) Close() error { return r.close() }
