#!/usr/bin/python3
"""Exports the benchmark models (torchvision, random weights, eval mode, opset 13) into models/ (git-ignored).

    /usr/bin/python3 bench/python/gen_bench_models.py [--out models] [name ...]

Names: resnet18 resnet50 googlenet densenet121. Input 1x3x224x224 with a symbolic batch axis ("N").
BN statistics are made realistic by a few train-mode passes on random data before switching to eval,
so folded weights are not trivially the identity. No download: weights=None.
"""
import argparse
import os

import torch
import torchvision

MODELS = {
    "resnet18": lambda: torchvision.models.resnet18(weights=None),
    "resnet50": lambda: torchvision.models.resnet50(weights=None),
    "googlenet": lambda: torchvision.models.googlenet(weights=None, aux_logits=False, transform_input=True, init_weights=True),
    "densenet121": lambda: torchvision.models.densenet121(weights=None),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "models"))
    parser.add_argument("names", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    for name in args.names:
        model = MODELS[name]()
        model.train()
        with torch.no_grad():
            for _ in range(3):
                model(torch.randn(4, 3, 224, 224))
        model.eval()
        path = os.path.join(args.out, name + ".onnx")
        torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, opset_version=13,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                          do_constant_folding=True)
        print(f"{path}: {os.path.getsize(path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
