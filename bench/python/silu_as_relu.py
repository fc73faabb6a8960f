#!/usr/bin/env python3
"""A timing-only variant of a model: every exported SiLU (y = Sigmoid(x); z = Mul(x, y), either operand
order, the sigmoid read by nothing else) becomes z = Relu(x). Everything else is unchanged, so running the
original and the variant back to back against ONNX Runtime separates what the SiLUs cost from the rest
(issue 12's EfficientNet-B0 rows). The variant computes a different function: never for accuracy.

  /usr/bin/python3 bench/python/silu_as_relu.py models/efficientnet_b0.onnx target/efficientnet_b0_relu.onnx
  for m in models/efficientnet_b0.onnx target/efficientnet_b0_relu.onnx; do
    ./jdnn bench --model=$m --threads=1 --iterations=300 --warmup=50 --compare-ort; done
"""
import sys

import onnx
from onnx import helper


def main(src, dst):
    model = onnx.load(src)
    nodes = list(model.graph.node)
    sigmoid_of = {n.output[0]: n for n in nodes if n.op_type == "Sigmoid"}
    readers = {}
    for n in nodes:
        for name in n.input:
            readers[name] = readers.get(name, 0) + 1
    dropped, replaced = set(), {}
    for n in nodes:
        if n.op_type != "Mul" or len(n.input) != 2:
            continue
        for x, s in ((n.input[0], n.input[1]), (n.input[1], n.input[0])):
            sig = sigmoid_of.get(s)
            if sig is not None and sig.input[0] == x and readers[s] == 1:
                dropped.add(id(sig))
                replaced[id(n)] = helper.make_node("Relu", [x], [n.output[0]], name=n.name + "_as_relu")
                break
    kept = [replaced.get(id(n), n) for n in nodes if id(n) not in dropped]
    del model.graph.node[:]
    model.graph.node.extend(kept)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    print(f"{len(replaced)} SiLUs replaced by Relu: {dst}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
