#!/usr/bin/env bash
# ConvBench with fused and unfused measured back to back for each shape (JMH alone runs every fused
# trial before every unfused one, so on a shared machine a noisy minute lands on one side only).
# Writes one merged JMH JSON list:   bench/conv-interleaved.sh bench/results/conv-bench-interleaved.json
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: bench/conv-interleaved.sh OUT.json}"
tmp="$(mktemp -d)"
for layer in stem7x7s2_3to64_224 3x3_64to64_56 1x1_256to64_56 3x3_256to256_14; do
  for batch in 1 8; do
    for threads in 1 2; do
      "$here/run.sh" 'dev.jdnn.bench.ConvBench' -p layer=$layer -p batch=$batch -p threads=$threads \
        -rf json -rff "$tmp/$layer-$batch-$threads.json" > "$tmp/$layer-$batch-$threads.log"
    done
  done
done
python3 -c 'import json,sys; json.dump([r for f in sys.argv[2:] for r in json.load(open(f))], open(sys.argv[1], "w"), indent=1)' "$out" "$tmp"/*.json
echo "wrote $out"
