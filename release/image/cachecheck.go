package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"
)

// A cached blob is named by its sha256, but the name proves nothing about
// the bytes once something has written to the file (an editor, a tool
// "fixing" permissions and content, a crash mid-copy). Blobs go into
// layouts and tarballs without being hashed again, so a damaged one would
// ship with a digest that does not match it. Hashing every blob on every
// build would cost a read of every layer; instead the blob's stamp (device,
// inode, size and mtime) is noted under checked/<digest> whenever its bytes
// have been hashed, and a blob whose stamp changed since is hashed again
// before it is used. One that fails is not used: the layer is rebuilt and
// the good blob renamed over the damaged one.

// blobStamp identifies a blob file's current version; "" where the file
// system gives no inode data (then every use hashes the blob).
func blobStamp(fi os.FileInfo) string {
	st := statOf(fi)
	if !st.ok {
		return ""
	}
	return fmt.Sprintf("%d %d %d %d", st.dev, st.ino, fi.Size(), st.mtime)
}

// blobIntact reports whether the blob at path holds the bytes r names,
// hashing it only when it changed since it was last found intact.
func (s *store) blobIntact(path string, r diffRecord) bool {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != r.Size {
		return false
	}
	stamp := blobStamp(fi)
	if stamp != "" {
		if b, err := os.ReadFile(s.path("checked", r.Digest)); err == nil && string(b) == stamp {
			return true
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if n, err := io.Copy(h, f); err != nil || n != r.Size || hex.EncodeToString(h.Sum(nil)) != r.Digest {
		return false
	}
	if stamp != "" {
		_ = s.put("checked", r.Digest, []byte(stamp)) // lost, it only costs another hash
	}
	return true
}

// noteChecked records that the blob of r, whose bytes were just hashed
// while it was written, is intact.
func (s *store) noteChecked(r diffRecord) {
	if fi, err := os.Stat(s.path("blobs", r.Digest)); err == nil {
		if stamp := blobStamp(fi); stamp != "" {
			_ = s.put("checked", r.Digest, []byte(stamp))
		}
	}
}

// staleTemp is how old a file in tmp/ must be before a build removes it:
// a live build writes to its temporary files all the time, so one this old
// was left by a process that was killed.
const staleTemp = 24 * time.Hour

// sweep removes temporary files that killed builds left behind. now is
// the file system's clock (see clock).
func (s *store) sweep(now time.Time) {
	entries, err := os.ReadDir(s.path("tmp", ""))
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > staleTemp {
			_ = os.RemoveAll(s.path("tmp", e.Name()))
		}
	}
}
