#!/usr/bin/env bash
# End-to-end ./jdnn classify throughput (decode + PIL-exact preprocessing + batched inference + top-5), images/s.
#   bench/classify.sh [--model M.onnx] [--count N] [--batch B] [--threads T] [--images DIR]
# Defaults: target/models/resnet18.onnx (exported with random weights by bench/python/export_torchvision.py if
# missing: the speed is the real model's), N=64 images drawn round-robin from DIR (the image fixtures: JPEG/PNG/BMP
# of mixed sizes), batch 8, all processors. Reports two rates:
#   in-process  N / the time classify's progress line reports (from the first batch to the last: decoding,
#               preprocessing, inference and printing; the plan's compilation on the first batch included)
#   marginal    (N - B) / (wall(N images) - wall(B images)): JVM start-up and model loading cancel out
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$here/target/models/resnet18.onnx"; count=64; batch=8; threads=0
images="$here/src/test/resources/fixtures/image/images"
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --images) images="$2"; shift 2 ;;
    *) echo "usage: bench/classify.sh [--model M.onnx] [--count N] [--batch B] [--threads T] [--images DIR]" >&2; exit 2 ;;
  esac
done
if [ ! -f "$model" ]; then
  [ "$model" = "$here/target/models/resnet18.onnx" ] || { echo "no model $model" >&2; exit 1; }
  /usr/bin/python3 "$here/bench/python/export_torchvision.py" --arch resnet18 --random-weights --out "$here/target/models" >&2
fi
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
mapfile -t sources < <(find "$images" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.bmp' \) | sort)
[ ${#sources[@]} -gt 0 ] || { echo "no images in $images" >&2; exit 1; }
mkdir -p "$tmp/all" "$tmp/one-batch"
for ((i = 0; i < count; i++)); do
  src="${sources[i % ${#sources[@]}]}"
  ln -s "$src" "$tmp/all/$(printf '%05d' "$i").${src##*.}"
  [ "$i" -lt "$batch" ] && ln -s "$src" "$tmp/one-batch/$(printf '%05d' "$i").${src##*.}"
done
"$here/jdnn" info > /dev/null   # builds the jar if needed, outside the timing

run() {  # run DIR -> wall ms; classify's stderr in $tmp/err
  local t0 t1
  t0=$(date +%s%N)
  "$here/jdnn" classify --model "$model" --batch "$batch" --threads "$threads" "$1" > "$tmp/out" 2> "$tmp/err"
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
small=$(run "$tmp/one-batch")
large=$(run "$tmp/all")
seconds=$(sed -n 's/^classify: [0-9]*\/[0-9]* in \([0-9.]*\) s$/\1/p' "$tmp/err")
[ "$(wc -l < "$tmp/out")" -eq $((count * 5)) ] || { echo "expected $((count * 5)) result rows, got $(wc -l < "$tmp/out")" >&2; cat "$tmp/err" >&2; exit 1; }
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus; ./jdnn classify --model $(basename "$model") --batch $batch --threads $threads, $count images from $images"
awk -v n="$count" -v s="$seconds" -v b="$batch" -v small="$small" -v large="$large" 'BEGIN {
  printf "in-process  %6.1f images/s  (%d images in %.1f s)\n", n / s, n, s
  printf "marginal    %6.1f images/s  (wall %d ms for %d images, %d ms for %d)\n", (n - b) / ((large - small) / 1000), large, n, small, b
}'
