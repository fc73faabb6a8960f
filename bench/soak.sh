#!/usr/bin/env bash
# Soak: 1 million inferences (default) of a small CNN per mode on one native session, sampling RSS and NMT
# (see src/test/java/dev/jdnn/soak/Soak.java). Modes: closed (results closed), leaked (results never closed:
# the Cleaner frees them), shapes (100 input sizes cycling through the default 32-plan cache).
#   bench/soak.sh [inferences per mode] [modes...]      e.g. bench/soak.sh 1000000 closed leaked shapes
# The heap is fixed and pre-touched (-Xms = -Xmx, AlwaysPreTouch) so RSS growth is native memory. Runs at nice 19; per-mode samples in target/soak/<mode>.txt, the growth lines in target/soak/summary.txt.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
n=${1:-1000000}; shift || true
modes=${*:-closed leaked shapes}
out=target/soak
mkdir -p "$out"
mvn -B -o -q -pl jdnn-core test-compile dependency:build-classpath -Dmdep.outputFile="$here/$out/cp.txt" -Dmdep.includeScope=test >"$out/build.log" 2>&1 \
  || { echo "soak.sh: build failed, see $out/build.log" >&2; exit 2; }
rm -rf "$out/snapshot" && mkdir -p "$out/snapshot" && cp -r target/classes target/test-classes "$out/snapshot/"
cp_line="$out/snapshot/test-classes:$out/snapshot/classes:$(cat "$out/cp.txt")"
: > "$out/summary.txt"
for mode in $modes; do
  nice -n 19 "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xms256m -Xmx256m -XX:+AlwaysPreTouch -XX:NativeMemoryTracking=summary -cp "$cp_line" \
    dev.jdnn.soak.Soak "$mode" "$n" 50 > "$out/$mode.txt" 2>"$out/$mode.err"
  grep '^mode=' "$out/$mode.txt" | tee -a "$out/summary.txt"
done
