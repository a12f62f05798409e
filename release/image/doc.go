// Package image turns a built Elixir/Erlang release directory into an OCI
// image without a container daemon.
//
// The release is split into layers ordered from least to most often changed
// (ERTS, third-party OTP applications, the project's own applications, and
// finally releases/ plus bin/), so that a code-only change produces one new
// application layer and the small releases layer while every other layer is
// reused. Layers are deterministic tar streams (sorted entries, fixed times,
// owners and modes) compressed in parallel with a fixed gzip configuration,
// so the same input always gives the same digest.
//
// Compressed layers are kept in a content-keyed cache: an unchanged layer is
// neither compressed again nor, thanks to the registry's blob checks,
// uploaded again. The package also publishes images to a registry, an OCI
// image layout or a docker-loadable tarball, and writes the JSON record that
// `relgen manifests` uses to pin the image by digest.
//
// Build and Inspect are pure apart from reading the release and the cache;
// the edge functions (Push, WriteLayout, WriteTarball, WriteRecordFile,
// ResolveBase) do the remaining I/O and take a context first.
package image
