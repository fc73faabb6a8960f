#!/usr/bin/env bash
# Per-layer times of jdnn (Session.profile, as ./jdnn explain --profile) beside ONNX Runtime's own profiler on
# one model, in one process, alternating rounds (see bench/src/main/java/dev/jdnn/bench/LayerCompare.java).
#   bench/layer-compare.sh MODEL.onnx NAME=d0,d1,... [threads=1] [runs=100] [rounds=3]
#   bench/layer-compare.sh models/mobilenet_v3_large.onnx input=1,3,224,224 1 200 3
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
(cd "$here" && mvn -q -B package -DskipTests)
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
  -cp "$here/target/benchmarks.jar" dev.jdnn.bench.LayerCompare "$@"
