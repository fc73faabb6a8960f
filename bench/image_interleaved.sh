#!/usr/bin/env bash
# jdnn vs PIL on the same 4000x3000 JPEG, alternated ROUNDS times so both see the same machine load:
# each round runs ImagePreprocessBench.preprocessDecoded (Resize 256 + CenterCrop 224 + ToTensor + Normalize on
# the decoded image, 1 thread) and then PIL + torchvision's same transform for the same time.
#   bench/image_interleaved.sh [ROUNDS]      (needs target/image-fixtures: gen_image_fixtures.py --big-only)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rounds="${1:-3}"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
(cd "$here" && mvn -q -B package)
cd "$here/.."
for r in $(seq "$rounds"); do
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$here/target/benchmarks.jar" \
    'ImagePreprocessBench.preprocessDecoded' -p threads=1 -wi 2 -w 2 -i 5 -r 2 2>/dev/null \
    | awk -v r="$r" '/^ImagePreprocessBench/ {print "round " r "  jdnn preprocess_decoded  " $5 " ± " $7 " images/s"}'
  /usr/bin/python3 bench/python/image_preprocess_pil.py --workers 1 --what preprocess_decoded --seconds 10 \
    | awk -v r="$r" '/workers/ {print "round " r "  PIL  preprocess_decoded  " $4 " images/s"}'
done
uptime
