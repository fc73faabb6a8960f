#!/usr/bin/env bash
# Throughput of jdnn on Spark against the single-JVM batch loop, same model, same rows, same batch size:
#   bench/spark.sh [MODEL.onnx] [ROWS] [BATCH] [ROUNDS] [PASSES] [INPUT]
# Defaults: the committed narrow ResNet fixture (3x64x64), 1024 rows, batch 32, 3 rounds of 3 timed passes,
# INPUT floats (float-array rows). INPUT images: ROWS seeded PNG/JPEG files (48-160 px a side); the single-JVM loop
# decodes, preprocesses (./jdnn classify's pipeline, crop = the model's input side) and runs them, Spark reads them
# with binaryFile and scores them with JdnnInference.imageInput (same Preprocess): see SparkBench.
# Each round runs, each in a fresh JVM and back to back: single-JVM 1 worker x 1 thread, Spark local[1],
# single-JVM 2 workers x 1 thread, Spark local[2], single-JVM 1 worker x 2 threads. Interleaving the
# rounds keeps the ratios meaningful on a shared machine, whose load drifts over minutes.
# Prints every run's line and, per round, Spark's throughput as a share of the single JVM's on as many cores.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
model="${1:-$here/src/test/resources/fixtures/models/resnet_eval/model.onnx}"
rows="${2:-1024}"
batch="${3:-32}"
rounds="${4:-3}"
passes="${5:-3}"
input="${6:-floats}"
case "$input" in
  floats) suffix="" ;;
  images) suffix="-images" ;;
  *) echo "bench/spark.sh: INPUT must be floats or images, got '$input'" >&2; exit 2 ;;
esac

cd "$here"
log="$(mktemp)"
build() { "$@" > "$log" 2>&1 || { cat "$log"; exit 1; }; }
build mvn -q -B -o install -pl jdnn-core -DskipTests
build mvn -q -B -o -pl jdnn-spark test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$here/jdnn-spark/target/bench.classpath"
# This checkout's core classes (target/classes) ahead of the installed jar: the local Maven repository is shared,
# and another checkout may install its own jdnn 0.1.0-SNAPSHOT between the install above and the runs below.
cp="jdnn-spark/target/test-classes:jdnn-spark/target/classes:target/classes:$(cat jdnn-spark/target/bench.classpath)"
opens="$(sed -n 's:.*<spark.jdk.opens>\(.*\)</spark.jdk.opens>.*:\1:p' pom.xml)"
run() {
  # shellcheck disable=SC2086
  SPARK_LOCAL_IP=127.0.0.1 "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED $opens -Xmx4g -cp "$cp" \
    -Dlog4j2.configurationFile="$here/jdnn-spark/src/test/resources/log4j2.properties" \
    dev.jdnn.spark.SparkBench "$1$suffix" "${@:2}" "$model" "$rows" "$batch" "$passes" 2>/dev/null | grep '^RESULT' | cut -f2-
}
median() { cut -f4 | sed 's/median \([0-9.]*\).*/\1/'; }
echo "model $model, $rows rows ($input), batch $batch; $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  s11="$(run single 1 1)"; echo "$s11"
  k1="$(run spark 1)"; echo "$k1"
  s21="$(run single 2 1)"; echo "$s21"
  k2="$(run spark 2)"; echo "$k2"
  s12="$(run single 1 2)"; echo "$s12"
  python3 - "$round" "$(echo "$s11" | median)" "$(echo "$k1" | median)" "$(echo "$s21" | median)" "$(echo "$k2" | median)" "$(echo "$s12" | median)" <<'PY'
import sys
r, s11, k1, s21, k2, s12 = sys.argv[1], *map(float, sys.argv[2:])
print(f"round {r}: local[1] / single 1x1 = {k1 / s11:.0%}   local[2] / single 2x1 = {k2 / s21:.0%}   local[2] / single 1x2 = {k2 / s12:.0%}")
PY
done
