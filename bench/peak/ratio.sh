#!/usr/bin/env bash
# Fused conv GFLOP/s as a fraction of the FMA peak, and unfused/fused, measured alternately in one process
# (see PeakRatio.java): 1 thread pinned to one core, then 2 threads.
#   bench/peak/ratio.sh [rounds]  > bench/results/peak-ratio.md
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
rounds="${1:-15}"
lib="$(mktemp -d)/libfmapeak.so"
gcc -O2 -mavx2 -mfma -shared -fPIC -DNO_MAIN -o "$lib" "$here/fma_peak.c"
(cd "$here/.." && mvn -q -B package)
jar="$here/../target/benchmarks.jar"
taskset -c 0 "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.jdnn.bench.PeakRatio "$lib" "$rounds" 1
echo
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.jdnn.bench.PeakRatio "$lib" "$rounds" 2
