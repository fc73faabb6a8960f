#!/usr/bin/env python3
"""Turns a JMH JSON result of ModelBench into the README's markdown table.

    bench/python/model_report.py bench/results/model-bench.json

Median (p50) latency of each runtime from JMH's sample-time histogram; ratio = jdnn / ONNX Runtime
(< 1: jdnn is faster); the issue's target is ratio <= 0.9.
"""
import json
import sys

ORDER = ["resnet18", "resnet50", "googlenet", "densenet121"]


def main():
    rows = {}
    for r in json.load(open(sys.argv[1])):
        runtime = r["benchmark"].rsplit(".", 1)[1]
        p = r["params"]
        m = r["primaryMetric"]
        rows.setdefault((p["model"], int(p["batch"]), int(p["threads"])), {})[runtime] = (
            m["scorePercentiles"]["50.0"], m["scorePercentiles"]["90.0"])
    print("| model | batch | threads | jdnn p50 ms | jdnn p90 ms | ORT p50 ms | ORT p90 ms | jdnn / ORT (p50) | ≤ 0.9? |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (model, batch, threads), v in sorted(rows.items(), key=lambda kv: (ORDER.index(kv[0][0]), kv[0][1], kv[0][2])):
        if "jdnn" not in v or "onnxRuntime" not in v:
            continue
        (j50, j90), (o50, o90) = v["jdnn"], v["onnxRuntime"]
        ratio = j50 / o50
        print(f"| {model} | {batch} | {threads} | {j50:.1f} | {j90:.1f} | {o50:.1f} | {o90:.1f} | {ratio:.2f} | {'yes' if ratio <= 0.9 else 'no'} |")


if __name__ == "__main__":
    main()
