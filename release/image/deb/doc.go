// Package deb builds a minimal, reproducible base image from Debian
// binary packages, without a container daemon, a registry or dpkg.
//
// Read parses a .deb file (an ar archive holding debian-binary,
// control.tar.* and data.tar.*, each possibly compressed with gzip, xz or
// zstd). Base unpacks the packages' data into one layer: entries sorted by
// path, every time set to the creation time, owned by root with empty
// user and group names, documentation other than copyright files left
// out. It adds what a runtime and scanners expect: /etc/passwd and
// /etc/group with the image's non-root user, its home directory, /tmp
// (1777), /etc/nsswitch.conf, the CA bundle when ca-certificates is
// installed, and dpkg's status database (var/lib/dpkg/status plus a .list
// and .md5sums file per package) so that SBOM tools and vulnerability
// scanners see the packages.
//
// Maintainer scripts are not run, and dependencies are not resolved: the
// list of packages is the whole base. The ABI check (package abi) is what
// proves that the list is enough for the release's native code.
//
// Read and Base are pure. Fetch and Find are the edges: Fetch runs
// `apt-get download` into a cache directory for the packages that are not
// there yet; Find picks package files from a directory of .debs.
package deb
