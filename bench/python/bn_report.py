#!/usr/bin/env python3
"""Turns a JMH JSON result of BatchNormBench into the README's markdown table.

    bench/python/bn_report.py bench/results/batchnorm-bench.json

Times are JMH's average per op, in the unit JMH reports (BatchNormBench: µs); Java/native > 1 means oneDNN is faster.
"""
import json
import sys


def main():
    rows = {}
    for r in json.load(open(sys.argv[1])):
        name = r["benchmark"].rsplit(".", 1)[1]
        p = r["params"]
        rows.setdefault((p["shape"], int(p["batch"])), {})[name] = r["primaryMetric"]["score"]
        unit = r["primaryMetric"]["scoreUnit"].replace("us/op", "µs").replace("ms/op", "ms")
    print(f"| C×H×W | batch | native eval {unit} | Java eval {unit} | Java/native | native train {unit} | Java train {unit} | Java/native |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for (shape, batch), v in sorted(rows.items(), key=lambda kv: (-int(kv[0][0].split("x")[1]), kv[0][1])):
        ne, je, nt, jt = (v.get(k) for k in ("nativeBnEval", "javaBnEval", "nativeBnTrain", "javaBnTrain"))
        print(f"| {shape} | {batch} | {ne:.3f} | {je:.3f} | {je / ne:.2f} | {nt:.3f} | {jt:.3f} | {jt / nt:.2f} |")


if __name__ == "__main__":
    main()
