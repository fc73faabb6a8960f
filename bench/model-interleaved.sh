#!/usr/bin/env bash
# ModelBench with jdnn and ONNX Runtime measured back to back for each model/batch/threads row (JMH alone
# runs every jdnn trial before every ONNX Runtime one, ~15 minutes apart, and these shared machines drift
# by 10-20 % over that). Writes one merged JMH JSON list:
#   bench/model-interleaved.sh bench/results/model-bench-interleaved.json
# Needs the models: /usr/bin/python3 bench/python/gen_bench_models.py
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: bench/model-interleaved.sh OUT.json}"
tmp="$(mktemp -d)"
for model in resnet18 resnet50 googlenet densenet121; do
  for batch in 1 8; do
    for threads in 1 2; do
      "$here/run.sh" 'dev.jdnn.bench.ModelBench' -p model=$model -p batch=$batch -p threads=$threads \
        -rf json -rff "$tmp/$model-$batch-$threads.json" > "$tmp/$model-$batch-$threads.log"
    done
  done
done
python3 -c 'import json,sys; json.dump([r for f in sys.argv[2:] for r in json.load(open(f))], open(sys.argv[1], "w"), indent=1)' "$out" "$tmp"/*.json
echo "wrote $out"
