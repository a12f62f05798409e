package image

import (
	"io/fs"
	"syscall"
)

// statOf extracts what the fast cache key compares, as git's index does:
// any rewrite of a file changes its ctime or inode even when size and mtime
// are kept.
func statOf(fi fs.FileInfo) statInfo {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return statInfo{}
	}
	return statInfo{
		ok:    true,
		mtime: st.Mtim.Nano(),
		ctime: st.Ctim.Nano(),
		ino:   st.Ino,
		dev:   uint64(st.Dev),
	}
}
