package abi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/relgen/relgen/internal/safefile"
)

// cacheFormat names the check's rules; change it when Check changes, so
// that passes remembered under the old rules are not trusted.
const cacheFormat = "relgen-abi-1"

// CheckImage checks needs against the root file system of img (nil:
// scratch), naming the base base in problems. With a cache directory it
// remembers a pass under a key of the needs and the image's digest: the
// next build of an unchanged release's native code on the same base skips
// reading the base's layers, which is most of the check's cost. Failures
// are never remembered.
func CheckImage(needs *Needs, img v1.Image, base, cacheDir string) error {
	if img == nil {
		return Check(needs, NewRoot(), base)
	}
	var mark string
	if cacheDir != "" {
		d, err := img.Digest()
		if err != nil {
			return fmt.Errorf("base image: %w", err)
		}
		n, err := json.Marshal(needs)
		if err != nil {
			return err
		}
		h := sha256.New()
		fmt.Fprintf(h, "%s\n%s\n", cacheFormat, d)
		h.Write(n)
		mark = filepath.Join(cacheDir, hex.EncodeToString(h.Sum(nil)))
		if _, err := os.Stat(mark); err == nil {
			return nil
		}
	}
	root, err := ReadImage(img)
	if err != nil {
		return err
	}
	if err := Check(needs, root, base); err != nil {
		return err
	}
	if mark != "" {
		if err := os.MkdirAll(cacheDir, 0o755); err == nil {
			_ = safefile.WriteFile(mark, nil, 0o644) // only a shortcut: losing it costs time, not correctness
		}
	}
	return nil
}
