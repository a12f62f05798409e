#!/bin/sh
# Distribution connection setup: TCP vs TLS as relgen configures it
# (issue 12, docs/security.md). Both without epmd, on loopback
# (127.0.0.1 -> 127.0.0.2), with relgen's generated CA, node certificate
# and ssl_dist_optfile; prints the median and p90 of N connections per mode.
#
# Usage: bench/dist.sh [N]   (default 200). Needs go and erl.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
go run ./bench/distbench -n "${1:-200}"
