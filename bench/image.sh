#!/bin/sh
# Image build benchmark (issue 4, docs/image.md).
#
# On one synthetic release (bench/synth: ~60 MB, ~3000 files, shaped like a
# mix release) it times, in one run:
#   1. tar -c | gzip -6 of the release tree (the baseline),
#   2. a full build into an OCI layout with an empty layer cache,
#   3. a code-only rebuild (one own-app .beam changed, warm cache),
# and prints the medians of several runs, the ratios against the targets,
# output sizes and the peak RSS of the builds.
#
# Usage: bench/image.sh [SCALE]   (SCALE 1 = ~60 MB; 17 = ~1 GB)
# Needs go, tar and gzip. Peak RSS comes from getrusage in the driver, so
# /usr/bin/time is optional (its figure is shown when present).
set -eu

scale=${1:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/relgen-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

now() { date +%s.%N; }
elapsed() { awk "BEGIN { printf \"%.3f\", $2 - $1 }"; }
ratio() { awk "BEGIN { printf \"%.3f\", $1 / $2 }"; }

echo "building the driver"
(cd "$root" && go build -o "$work/imagebench" ./bench/imagebench)

echo "generating the release (scale $scale)"
"$work/imagebench" gen -scale "$scale" -out "$work/rel"
echo "  $(du -sh "$work/rel" | cut -f1) on disk"
# Read everything once so that every phase runs from the page cache.
tar -C "$work/rel" -cf - . >/dev/null

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "tar -c | gzip -6 (3 runs)"
tgz_runs=""
for i in 1 2 3; do
	t0=$(now)
	tar -C "$work/rel" -cf - . | gzip -6 >"$work/rel.tar.gz"
	t1=$(now)
	tgz_runs="$tgz_runs $(elapsed "$t0" "$t1")"
done
tgz=$(echo "$tgz_runs" | median)
tgz_size=$(wc -c <"$work/rel.tar.gz")

# build prints "seconds rss_kib layer_bytes" (seconds measured in-process;
# with /usr/bin/time the wall time including process start is kept too).
build() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f "%e" -o "$work/time.out" "$work/imagebench" build "$@"
	else
		"$work/imagebench" build "$@"
	fi
}
wall() { [ -f "$work/time.out" ] && wall_runs="$wall_runs $(cat "$work/time.out")" || true; }

echo "full build into an OCI layout, empty cache each time (3 runs)"
full_runs="" rss=0 wall_runs=""
for i in 1 2 3; do
	rm -rf "$work/cache" "$work/layout"
	out=$(build -release "$work/rel" -cache "$work/cache" -oci-layout "$work/layout")
	wall
	full_runs="$full_runs ${out%% *}"
	r=$(echo "$out" | cut -d' ' -f2)
	[ "$r" -gt "$rss" ] && rss=$r
	full_size=$(echo "$out" | cut -d' ' -f3)
done
full=$(echo "$full_runs" | median)
full_wall=$(echo "$wall_runs" | median)

echo "code-only rebuild: one .beam changed, warm cache (5 runs)"
code_runs="" code_rss=0 wall_runs=""
for i in 1 2 3 4 5; do
	"$work/imagebench" touch -release "$work/rel"
	out=$(build -release "$work/rel" -cache "$work/cache" -oci-layout "$work/layout")
	wall
	code_runs="$code_runs ${out%% *}"
	r=$(echo "$out" | cut -d' ' -f2)
	[ "$r" -gt "$code_rss" ] && code_rss=$r
done
code=$(echo "$code_runs" | median)
code_wall=$(echo "$wall_runs" | median)

echo
echo "results ($(nproc 2>/dev/null || echo ?) CPUs, scale $scale; medians)"
printf '  %-32s %7.3f s  %6.1f MB\n' "tar -c | gzip -6" "$tgz" "$(awk "BEGIN { print $tgz_size / 1e6 }")"
printf '  %-32s %7.3f s  %6.1f MB  peak RSS %d MiB\n' "full build -> OCI layout" "$full" \
	"$(awk "BEGIN { print $full_size / 1e6 }")" "$((rss / 1024))"
printf '  %-32s %7.3f s             peak RSS %d MiB\n' "code-only rebuild -> OCI layout" "$code" "$((code_rss / 1024))"
if [ -n "$full_wall" ]; then
	printf '  %-32s %7s s full, %s s code-only\n' "wall incl. process start" "$full_wall" "$code_wall"
fi
echo "  runs: tar|gzip$tgz_runs; full$full_runs; code-only$code_runs"
echo
echo "  full / tar|gzip       = $(ratio "$full" "$tgz")   (target <= 0.5)"
echo "  code-only / full      = $(ratio "$code" "$full")   (target <= 0.15)"
echo "  size / tar|gzip size  = $(ratio "$full_size" "$tgz_size")"
echo "  peak RSS              = $((rss / 1024)) MiB   (target <= 150 MiB)"
