#!/usr/bin/env bash
# Measures this machine's single-core FP32 FMA peak (see fma_peak.c); the conv report divides by it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mktemp -d)/fma_peak"
gcc -O2 -mavx2 -mfma -o "$out" "$here/fma_peak.c"
taskset -c 0 "$out"
