#!/usr/bin/env bash
# Fuzz campaign over the three targets (mutated ONNX fixtures, one-node models with random attributes for
# every registered op, mutated .npy files): see src/test/java/dev/jdnn/fuzz/.
#   bench/fuzz.sh [total inputs per target: ONNX ATTRIBUTES NPY] [chunk size] [first seed]
#   bench/fuzz.sh 300000 200000 500000 20000 1      # the campaign reported in README (1 million inputs)
# The targets run in parallel; each chunk runs in its own JVM (seed = first seed + chunk index), at nice 19, from a snapshot of the compiled
# classes taken at start (so rebuilding the worktree does not disturb it). A JVM that dies (crash, not an
# exception) is reported with its hs_err file. Findings (inputs that ended in anything but a jdnn exception)
# land in target/fuzz/findings/ with their stack traces; the summary is target/fuzz/summary.txt.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
onnx=${1:-300000}; attributes=${2:-200000}; npy=${3:-500000}; chunk=${4:-20000}; seed0=${5:-1}
out=target/fuzz
mkdir -p "$out/findings" "$out/logs"
mvn -B -o -q -pl jdnn-core test-compile dependency:build-classpath -Dmdep.outputFile="$here/$out/cp.txt" -Dmdep.includeScope=test >"$out/build.log" 2>&1 || { echo "fuzz.sh: build failed, see $out/build.log" >&2; exit 2; }
rm -rf "$out/snapshot" && mkdir -p "$out/snapshot" && cp -r target/classes target/test-classes "$out/snapshot/"
cp_line="$out/snapshot/test-classes:$out/snapshot/classes:$(cat "$out/cp.txt")"
: > "$out/summary.txt"
run_target() {
  local target=$1 total=$2 i=0 seed
  while [ $((i * chunk)) -lt "$total" ]; do
    seed=$((seed0 + i))
    n=$(( total - i * chunk < chunk ? total - i * chunk : chunk ))
    nice -n 19 "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g -Xss4m -XX:ErrorFile="$out/logs/hs_err_${target}_${seed}.log" \
      -cp "$cp_line" dev.jdnn.fuzz.FuzzCampaign "$target" "$n" "$seed" "$out/findings" > "$out/logs/${target}_${seed}.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then echo "target=$target seed=$seed inputs=$n JVM-EXIT=$rc (see $out/logs/${target}_${seed}.log)" >> "$out/summary.txt"
    else grep '^target=\|finding:' "$out/logs/${target}_${seed}.log" >> "$out/summary.txt"; fi
    i=$((i + 1))
  done
}
# The three targets run side by side (three JVMs at nice 19); each appends whole lines to the summary.
run_target ONNX "$onnx" &
run_target ATTRIBUTES "$attributes" &
run_target NPY "$npy" &
wait
awk '/^target=/ { for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1]] += kv[2] } }
     /JVM-EXIT/ { died++ }
     END { printf "total inputs=%d ran=%d refused=%d findings=%d jvm-deaths=%d\n", v["inputs"], v["ran"], v["refused"], v["findings"], died }' \
  "$out/summary.txt" | tee -a "$out/summary.txt"
