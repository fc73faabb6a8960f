#!/usr/bin/env bash
# Builds the JMH benchmarks (jdnn's sources are compiled in), then runs JMH with the arguments given, e.g.
#   bench/run.sh 'BatchNormBench' -p batch=1,8
#   bench/run.sh -l                      # list benchmarks
# Forks get --enable-native-access through each benchmark's @Fork(jvmArgsAppend = ...).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
(cd "$here" && mvn -q -B package)
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Djdnn.models="${JDNN_MODELS:-$here/../models}" -jar "$here/target/benchmarks.jar" "$@"
