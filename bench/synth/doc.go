// Package synth writes synthetic Elixir/Erlang releases for benchmarks:
// shaped like a real `mix release` (a bundled ERTS with large native
// binaries, dozens of third-party OTP applications full of .beam files, the
// project's own app, releases/ and bin/) with content that compresses
// about as well as the real thing.
package synth
