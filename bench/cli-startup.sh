#!/usr/bin/env bash
# Wall-clock start-up of the jdnn launcher: runs each launcher N times, interleaved (A B A B ...) so both
# see the same machine load, and prints min / median / max in ms and the ratio of medians.
#   bench/cli-startup.sh [-n RUNS] LAUNCHER [LAUNCHER ...] -- ARGS...
#   bench/cli-startup.sh -n 21 /tmp/old/jdnn ./jdnn -- info
# The jar must already be built (a first untimed run of each launcher builds it and warms the page cache).
set -euo pipefail
runs=15
if [ "${1:-}" = "-n" ]; then runs="$2"; shift 2; fi
launchers=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do launchers+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#launchers[@]} -gt 0 ] || { echo "usage: bench/cli-startup.sh [-n RUNS] LAUNCHER [LAUNCHER ...] -- ARGS..." >&2; exit 2; }
[ $# -gt 0 ] || set -- info

declare -A times
for l in "${launchers[@]}"; do "$l" "$@" >/dev/null 2>&1 || { echo "$l $* failed" >&2; exit 1; }; done
for ((i = 0; i < runs; i++)); do
  for l in "${launchers[@]}"; do
    t0=$(date +%s%N)
    "$l" "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    times[$l]+="$(( (t1 - t0) / 1000000 )) "
  done
done

echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus; $runs interleaved runs of: <launcher> $*"
first=""
for l in "${launchers[@]}"; do
  read -r min median max < <(echo "${times[$l]}" | tr ' ' '\n' | sed '/^$/d' | sort -n |
    awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; print v[1], m, v[NR]}')
  ratio=""
  if [ -z "$first" ]; then first=$median; else ratio=$(awk -v a="$median" -v b="$first" 'BEGIN {printf "  (%.2fx the first)", a / b}'); fi
  printf "%-40s min %6d ms  median %6s ms  max %6d ms%s\n" "$l" "$min" "$median" "$max" "$ratio"
done
