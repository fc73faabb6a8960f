#!/usr/bin/python3
"""Exports the benchmark models (torchvision, random weights, eval mode, opset 13) into models/ (git-ignored).

    /usr/bin/python3 bench/python/gen_bench_models.py [--out models] [name ...]

Names: resnet18 resnet50 googlenet densenet121 (issue 6) and mobilenet_v3_large efficientnet_b0
shufflenet_v2_x1_0 convnext_tiny deeplabv3_mobilenet_v3_large (issue 12's memory-bound networks).
Input 1x3x224x224 (the DeepLabV3 segmenter: 520x520, output 'out' only) with a symbolic batch axis ("N").
BN statistics are made realistic by a few train-mode passes on random data before switching to eval,
so folded weights are not trivially the identity. No download: weights=None.
"""
import argparse
import os

import torch
import torchvision

from export_torchvision import SegmentationOut  # the same wrapper: a segmenter's dict output -> its 'out' tensor

MODELS = {
    "resnet18": lambda: torchvision.models.resnet18(weights=None),
    "resnet50": lambda: torchvision.models.resnet50(weights=None),
    "googlenet": lambda: torchvision.models.googlenet(weights=None, aux_logits=False, transform_input=True, init_weights=True),
    "densenet121": lambda: torchvision.models.densenet121(weights=None),
    "mobilenet_v3_large": lambda: torchvision.models.mobilenet_v3_large(weights=None),
    "efficientnet_b0": lambda: torchvision.models.efficientnet_b0(weights=None),
    "shufflenet_v2_x1_0": lambda: torchvision.models.shufflenet_v2_x1_0(weights=None),
    "convnext_tiny": lambda: torchvision.models.convnext_tiny(weights=None),
    "deeplabv3_mobilenet_v3_large": lambda: SegmentationOut(torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(
        weights=None, weights_backbone=None, aux_loss=False)),
}

# Input side per model (default 224).
SIZES = {"deeplabv3_mobilenet_v3_large": 520}


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
                model(torch.randn(2, 3, SIZES.get(name, 224), SIZES.get(name, 224)))
        model.eval()
        path = os.path.join(args.out, name + ".onnx")
        side = SIZES.get(name, 224)
        torch.onnx.export(model, torch.randn(1, 3, side, side), path, opset_version=13,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                          do_constant_folding=True)
        print(f"{path}: {os.path.getsize(path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
