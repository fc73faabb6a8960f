#!/usr/bin/env python3
"""Turns a JMH JSON result of ModelBench into the README's markdown table.

    bench/python/model_report.py bench/results/model-bench.json

    bench/python/model_report.py bench/results/model-bench.json --peak 95.8   # adds % of FMA peak

Median (p50) latency of each runtime from JMH's sample-time histogram; ratio = jdnn / ONNX Runtime
(< 1: jdnn is faster); the issue's target is ratio <= 0.9. With --peak (bench/peak/run.sh, one core),
also each runtime's GFLOP/s as a share of peak × threads, and the share jdnn would need for 0.9×.
"""
import argparse
import json

ORDER = ["resnet18", "resnet50", "googlenet", "densenet121", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0",
         "convnext_tiny", "deeplabv3_mobilenet_v3_large"]
# GFLOP per 224×224 image (convolutions and matrix products), as `./jdnn bench` prints it.
GFLOP = {"resnet18": 3.63, "resnet50": 8.18, "googlenet": 3.00, "densenet121": 5.67}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--peak", type=float, help="single-core FP32 FMA peak, GFLOP/s")
    args = ap.parse_args()
    rows = {}
    for r in json.load(open(args.results)):
        runtime = r["benchmark"].rsplit(".", 1)[1]
        p = r["params"]
        m = r["primaryMetric"]
        rows.setdefault((p["model"], int(p["batch"]), int(p["threads"])), {})[runtime] = (
            m["scorePercentiles"]["50.0"], m["scorePercentiles"]["90.0"])
    extra = " jdnn % of peak | ORT % of peak | needed for 0.9× |" if args.peak else ""
    print("| model | batch | threads | jdnn p50 ms | jdnn p90 ms | ORT p50 ms | ORT p90 ms | jdnn / ORT (p50) | ≤ 0.9? |" + extra)
    print("| --- " * (9 + (3 if args.peak else 0)) + "|")
    for (model, batch, threads), v in sorted(rows.items(), key=lambda kv: (ORDER.index(kv[0][0]), kv[0][1], kv[0][2])):
        if "jdnn" not in v or "onnxRuntime" not in v:
            continue
        (j50, j90), (o50, o90) = v["jdnn"], v["onnxRuntime"]
        ratio = j50 / o50
        line = f"| {model} | {batch} | {threads} | {j50:.1f} | {j90:.1f} | {o50:.1f} | {o90:.1f} | {ratio:.2f} | {'yes' if ratio <= 0.9 else 'no'} |"
        if args.peak:
            share = lambda ms: 100 * GFLOP[model] * batch / (ms / 1e3) / (args.peak * threads)
            line += f" {share(j50):.0f} % | {share(o50):.0f} % | {share(0.9 * o50):.0f} % |"
        print(line)


if __name__ == "__main__":
    main()
