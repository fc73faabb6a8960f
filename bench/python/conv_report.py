#!/usr/bin/env python3
"""Turns a JMH JSON result of ConvBench / JavaConvBench / ConvCreateBench into the README's markdown table.

    bench/python/conv_report.py results.json --peak 99.9

Time is JMH's median (p50) for sample-time results, its mean for average-time ones.
GFLOP/s = 2·N·K·C/g·R·S·OH·OW / time; --peak is bench/peak/run.sh's single-core number, and the
percentage of peak is against peak × threads. ratio = unfused time / fused time (> 1: fused is faster).
"""
import argparse
import json

LAYERS = {  # name: (C, K, R, S, stride, pad, H)
    "stem7x7s2_3to64_224": (3, 64, 7, 7, 2, 3, 224),
    "3x3_64to64_56": (64, 64, 3, 3, 1, 1, 56),
    "1x1_256to64_56": (256, 64, 1, 1, 1, 0, 56),
    "3x3_256to256_14": (256, 256, 3, 3, 1, 1, 14),
}


def gflop(layer, batch):
    c, k, r, s, stride, pad, h = LAYERS[layer]
    oh = (h + 2 * pad - r) // stride + 1
    return 2.0 * batch * k * c * r * s * oh * oh / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--peak", type=float, required=True, help="single-core FP32 FMA peak, GFLOP/s")
    args = ap.parse_args()
    rows = {}
    create = {}
    for r in json.load(open(args.results)):
        name = r["benchmark"].rsplit(".", 1)[1]
        p = r["params"]
        m = r["primaryMetric"]
        ms = m["scorePercentiles"]["50.0"] if r.get("mode") == "sample" else m["score"]
        if name == "createFusedConvBn":
            create[(p["layer"], int(p["batch"]))] = ms
            continue
        key = (p["layer"], int(p["batch"]), int(p.get("threads", 1)))
        rows.setdefault(key, {})[name] = ms
        if name == "javaConv":
            for t in (1, 2):
                rows.setdefault((p["layer"], int(p["batch"]), t), {})["javaConv"] = ms
    print("| layer | batch | threads | Java ref ms | unfused ms | fused ms | fused GFLOP/s | % of peak | unfused/fused | create ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (layer, batch, threads), v in sorted(rows.items(), key=lambda kv: (list(LAYERS).index(kv[0][0]), kv[0][1], kv[0][2])):
        if "nativeConvBnFused" not in v:
            continue
        g = gflop(layer, batch)
        fused = v["nativeConvBnFused"]
        unfused = v.get("nativeConvBnReluUnfused")
        java = v.get("javaConv")
        gf = g / (fused / 1e3)
        print(f"| {layer} | {batch} | {threads} | {java:.1f} |" if java else f"| {layer} | {batch} | {threads} | - |", end="")
        print(f" {unfused:.3f} | {fused:.3f} | {gf:.1f} | {100 * gf / (args.peak * threads):.0f} % | {unfused / fused:.2f} |"
              f" {create.get((layer, batch), float('nan')):.2f} |")


if __name__ == "__main__":
    main()
