#!/bin/sh
# Image build benchmark (issue 14, docs/image.md "Performance").
#
# Runs, in one go and on one release, the scenarios a user meets and prints
# medians, the ratios against the targets, and exits non-zero when one is
# missed:
#   tar -c | gzip -6   the baseline
#   full               empty layer cache, new OCI layout
#   no-change          nothing changed, into a new OCI layout
#   code               one own-app .beam changed in place
#   mix-overwrite      what `mix release --overwrite` leaves after a code
#                      change: every lib/, releases/ and bin/ file rewritten
#                      (new mtime, same bytes), the own app's .beams changed
#   copy               the same release under another path (a CI checkout)
#   push               bytes uploaded after a code change (in-process registry)
# Each build runs in a fresh process; time, bytes read / compressed /
# written (from /proc/self/io) and peak RSS are its own.
#
# Usage: bench/image.sh [SCALE]   synthetic release (bench/synth); 1 = ~60 MB, 17 = ~1 GB
#        bench/image.sh hello     the real `mix release` of examples/hello (needs mix);
#                                 its ratios are printed, the targets are for the synthetic ones
# Env: RUNS (default 3) runs per scenario.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mktemp -d "${TMPDIR:-/tmp}/relgen-benchbin.XXXXXX")
trap 'rm -rf "$bin"' EXIT INT TERM

(cd "$root" && go build -o "$bin/imagebench" ./bench/imagebench)
case "${1:-1}" in
hello) "$bin/imagebench" run -runs "${RUNS:-3}" -mix "$root/examples/hello" ;;
*) "$bin/imagebench" run -runs "${RUNS:-3}" -scale "${1:-1}" ;;
esac
