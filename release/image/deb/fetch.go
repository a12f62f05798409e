package deb

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Find returns the .deb file in dir for each of names ("libc6" or pinned,
// "libc6=2.36-9+deb12u4") and the Debian architecture arch (or "all").
// Files are named as apt-get download names them,
// NAME_VERSION_ARCH.deb with the version URL-escaped. A name that matches
// no file is returned in missing; one that matches several versions
// without a pin is an error.
func Find(dir string, names []string, arch string) (files, missing []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, nil, err
	}
	for _, spec := range names {
		name, version, pinned := strings.Cut(spec, "=")
		var found []string
		for _, e := range entries {
			f := strings.TrimSuffix(e.Name(), ".deb")
			parts := strings.Split(f, "_")
			if len(parts) != 3 || f == e.Name() || parts[0] != name || (parts[2] != arch && parts[2] != "all") {
				continue
			}
			v, err := url.PathUnescape(parts[1])
			if err != nil || pinned && v != version {
				continue
			}
			found = append(found, filepath.Join(dir, e.Name()))
		}
		switch len(found) {
		case 0:
			missing = append(missing, spec)
		case 1:
			files = append(files, found[0])
		default:
			slices.Sort(found)
			return nil, nil, fmt.Errorf("%s: several versions in %s (%s): pin one as %s=VERSION or remove the others",
				name, dir, strings.Join(found, ", "), name)
		}
	}
	return files, missing, nil
}

// Fetch makes sure the cache directory holds a .deb for each of names
// (see Find), running `apt-get download` for those it lacks, and returns
// the files. apt-get uses the machine's package lists, so run
// `apt-get update` first on a fresh machine; once a package is in the
// cache, the same file is used on every build.
func Fetch(ctx context.Context, cache string, names []string, arch string) ([]string, error) {
	_, missing, err := Find(cache, names, arch)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return nil, err
		}
		args := []string{"download", "-q"}
		for _, spec := range missing {
			name, version, pinned := strings.Cut(spec, "=")
			arg := name + ":" + arch
			if pinned {
				arg += "=" + version
			}
			args = append(args, arg)
		}
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Dir = cache
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("apt-get %s (in %s): %w\n%s", strings.Join(args, " "), cache, err, strings.TrimSpace(out.String()))
		}
	}
	files, missing, err := Find(cache, names, arch)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("apt-get download left no .deb for %s in %s", strings.Join(missing, ", "), cache)
	}
	return files, nil
}
