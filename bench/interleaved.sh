#!/usr/bin/env bash
# Runs one JMH benchmark class once per combination of parameter values, so that all of the class's
# methods (fused and unfused, jdnn and ONNX Runtime) are measured back to back for each combination.
# JMH alone runs every trial of one method before the next method's, minutes apart, and these shared
# machines drift by 10-30 % over that. Writes one merged JMH JSON list.
#   bench/interleaved.sh OUT.json BENCHMARK name=v1,v2 [name=v1,v2 ...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: bench/interleaved.sh OUT.json BENCHMARK name=v1,v2 ...}"
bench="${2:?usage: bench/interleaved.sh OUT.json BENCHMARK name=v1,v2 ...}"
shift 2
tmp="$(mktemp -d)"

# run_all "-p a=1 -p b=2" "c=3,4" ...: one JMH run per combination of the remaining parameters.
run_all() {
  local fixed="$1"; shift
  if [ $# -eq 0 ]; then
    local tag; tag="$(echo "$fixed" | tr -d ' ' | tr -c 'A-Za-z0-9_=.\n-' '_')"
    # shellcheck disable=SC2086
    "$here/run.sh" "$bench" $fixed -rf json -rff "$tmp/$tag.json" > "$tmp/$tag.log"
    return
  fi
  local name="${1%%=*}" values="${1#*=}"; shift
  local v
  for v in ${values//,/ }; do run_all "$fixed -p $name=$v" "$@"; done
}
run_all "" "$@"
python3 -c 'import json,sys; json.dump([r for f in sys.argv[2:] for r in json.load(open(f))], open(sys.argv[1], "w"), indent=1)' "$out" "$tmp"/*.json
echo "wrote $out"
