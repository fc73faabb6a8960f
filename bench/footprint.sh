#!/usr/bin/env bash
# Footprint and time to first result, jdnn against ONNX Runtime (issue 17): each measurement is a fresh JVM with
# identical flags running bench/.../FootprintRun (load, first run, median of STEADY more runs), with peak RSS
# from /usr/bin/time -v. Pairs run interleaved (jdnn, ORT, jdnn, ORT, ...) and the table shows medians of REPS.
# jdnn's autotune (off by default) is measured on ResNet-50 with a cold cache (an empty jdnn.cache.dir, which also
# holds the extracted oneDNN) and a warm one.
#   bench/footprint.sh [REPS=3]       env: MODELS (resnet50 densenet121 googlenet), BATCHES (1 8), THREADS (1),
#                                     STEADY (10), JAVA_OPTS (extra JVM flags, the same for both runtimes),
#                                     AOT=1 (each runtime with its own JDK 25 AOT cache, -XX:AOTCache, made by one
#                                     training run of the same measurement per model and batch beforehand)
# Models: /usr/bin/python3 bench/python/gen_bench_models.py resnet50 densenet121 googlenet  (into models/)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
reps="${1:-3}"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
models="${MODELS:-resnet50 densenet121 googlenet}"
batches="${BATCHES:-1 8}"
threads="${THREADS:-1}"
steady="${STEADY:-10}"
(cd "$here" && mvn -q -B -o package -DskipTests 2>/dev/null || mvn -q -B package -DskipTests)
jar="$here/target/benchmarks.jar"
tmp="$(mktemp -d)"
warm_cache="$tmp/warm-cache"

# measure NAME RUNTIME MODEL BATCH [JVM flags...]: appends "name load first steady rss_mb" to $tmp/rows
measure() {
  local name="$1" runtime="$2" model="$3" batch="$4"; shift 4
  local log="$tmp/run.log" aot=()
  if [ "${AOT:-}" = 1 ]; then
    local cache="$tmp/$runtime-$model-$batch.aot"
    [ -f "$cache" ] || "$JAVA_HOME/bin/java" -XX:AOTCacheOutput="$cache" --enable-native-access=ALL-UNNAMED ${JAVA_OPTS:-} "$@" -cp "$jar" \
        dev.jdnn.bench.FootprintRun "$runtime" "$here/../models/$model.onnx" "$batch" 224 "$threads" "$steady" > "$log" 2>&1 \
        || { cat "$log" >&2; exit 1; }
    aot=(-XX:AOTCache="$cache")
  fi
  /usr/bin/time -v "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${JAVA_OPTS:-} "${aot[@]}" "$@" -cp "$jar" \
      dev.jdnn.bench.FootprintRun "$runtime" "$here/../models/$model.onnx" "$batch" 224 "$threads" "$steady" > "$log" 2>&1 \
      || { cat "$log" >&2; exit 1; }
  local rss; rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  echo "$name $(sed -n 's/^load_ms \([0-9.]*\) first_ms \([0-9.]*\) steady_ms \([0-9.]*\)$/\1 \2 \3/p' "$log") $((rss / 1024))" >> "$tmp/rows"
}

for model in $models; do
  [ -f "$here/../models/$model.onnx" ] || { echo "missing models/$model.onnx: /usr/bin/python3 bench/python/gen_bench_models.py $model" >&2; exit 1; }
done
for r in $(seq "$reps"); do
  for model in $models; do
    for batch in $batches; do
      measure "$model/b$batch/jdnn" jdnn "$model" "$batch"
      measure "$model/b$batch/ort" ort "$model" "$batch"
    done
  done
  if [[ " $models " == *" resnet50 "* ]]; then
    cold="$tmp/cold-$r"
    measure "resnet50/b1/jdnn-autotune-cold" jdnn-autotune resnet50 1 -Djdnn.cache.dir="$cold"
    [ -d "$warm_cache" ] || measure "warm-up" jdnn-autotune resnet50 1 -Djdnn.cache.dir="$warm_cache"
    measure "resnet50/b1/jdnn-autotune-warm" jdnn-autotune resnet50 1 -Djdnn.cache.dir="$warm_cache"
  fi
done

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus; threads $threads; $reps fresh-JVM runs each, medians; JAVA_OPTS='${JAVA_OPTS:-}'; AOT='${AOT:-}'; load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp/rows" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    name, load, first, steady, rss = line.split()
    if name == "warm-up": continue
    rows.setdefault(name, []).append((float(load), float(first), float(steady), float(rss)))
med = {k: [statistics.median(c) for c in zip(*v)] for k, v in rows.items()}
print("| model | batch | runtime | load ms | first run ms | load + first ms | steady ms | peak RSS MB | RSS jdnn/ORT | first result jdnn/ORT |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name in rows:
    model, batch, runtime = name.split("/")
    load, first, steady, rss = med[name]
    ort = med.get(f"{model}/{batch}/ort")
    ratio = "" if runtime == "ort" or not ort else f"{rss / ort[3]:.2f}"
    tfr = "" if runtime == "ort" or not ort else f"{(load + first) / (ort[0] + ort[1]):.2f}"
    print(f"| {model} | {batch[1:]} | {runtime} | {load:.0f} | {first:.0f} | {load + first:.0f} | {steady:.1f} | {rss:.0f} | {ratio} | {tfr} |")
PY
rm -rf "$tmp"
