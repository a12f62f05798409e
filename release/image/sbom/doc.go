// Package sbom writes an SPDX 2.3 JSON software bill of materials for a
// release and the image it is packed into.
//
// Release reads what a built release holds: the ERTS version
// (releases/start_erl.data), every OTP application the release boots with
// its version (releases/<vsn>/<name>.rel, with the description from the
// application's .app file), and, given the project's mix.lock, which of
// them are Hex packages (package URL pkg:hex/NAME@VSN). Base reads the
// packages of a Debian-based image from dpkg's status database
// (pkg:deb/<os>/NAME@VSN?arch=ARCH&distro=<os>-<version>). Document puts
// them into one SPDX document: the document describes the image (or the
// release), which contains every component.
//
// The document is deterministic: components sorted, the creation time
// given by the caller (SOURCE_DATE_EPOCH), the namespace derived from the
// content. Push attaches it to an image in a registry as an OCI referrer
// (an artifact manifest whose subject is the image).
package sbom
