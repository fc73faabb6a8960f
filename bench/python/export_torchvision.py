#!/usr/bin/python3
"""Exports a torchvision model to ONNX for `./jdnn classify` / `./jdnn segment`, with its labels file.

    /usr/bin/python3 bench/python/export_torchvision.py [--arch resnet50] [--out target/models] [--random-weights]

Classification architectures (resnet50, mobilenet_v3_large, efficientnet_b0, ... any name torchvision.models
knows) write OUT/<arch>.onnx (input 'input' N×3×224×224 with a symbolic batch, output 'logits' N×1000) and
OUT/imagenet_classes.txt (1000 ImageNet labels, one a line, from torchvision's weight metadata). Segmentation
architectures (fcn_resnet50, deeplabv3_resnet50, deeplabv3_mobilenet_v3_large, lraspp_mobilenet_v3_large) write
OUT/<arch>.onnx (input N×3×H×W with symbolic H and W, output 'out' N×21×H×W) and OUT/voc_classes.txt.
Weights are torchvision's pretrained DEFAULT weights, downloaded once into ~/.cache/torch (network needed);
--random-weights exports the same architecture with random weights (offline; for benchmarks only: its answers
are meaningless, but its speed is the real model's). Torch 1.13 / torchvision 0.14 (Debian's python3-torch).
"""
import argparse
import os

import torch
import torchvision.models as tvm
import torchvision.models.segmentation as tvs


class SegmentationOut(torch.nn.Module):
    """torchvision's segmentation models return {'out': ..., 'aux': ...}; ONNX wants a tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--out", default="target/models")
    p.add_argument("--random-weights", action="store_true")
    p.add_argument("--opset", type=int, default=13)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    SEGMENTATION = {"fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"}
    segmentation = a.arch in SEGMENTATION
    enum = tvm.get_model_weights(getattr(tvs if segmentation else tvm, a.arch))
    weights = enum.DEFAULT
    builder = getattr(tvs if segmentation else tvm, a.arch)
    if a.random_weights:
        kwargs = dict(weights=None, weights_backbone=None) if segmentation else dict(weights=None)
        torch.manual_seed(0)
        model = builder(**kwargs)
    else:
        model = builder(weights=weights)
    model.eval()
    if segmentation:
        model = SegmentationOut(model)
        x = torch.randn(1, 3, 520, 520)
        axes = {"input": {0: "N", 2: "H", 3: "W"}, "out": {0: "N", 2: "H", 3: "W"}}
        names, labels = ["out"], "voc_classes.txt"
    else:
        size = weights.transforms().crop_size[0] if hasattr(weights.transforms(), "crop_size") else 224
        x = torch.randn(1, 3, size, size)
        axes = {"input": {0: "N"}, "logits": {0: "N"}}
        names, labels = ["logits"], "imagenet_classes.txt"
    path = os.path.join(a.out, a.arch + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, x, path, input_names=["input"], output_names=names, dynamic_axes=axes, opset_version=a.opset)
    with open(os.path.join(a.out, labels), "w") as f:
        f.write("\n".join(weights.meta["categories"]) + "\n")
    print(f"wrote {path} ({'random' if a.random_weights else 'pretrained ' + str(weights)} weights) and {os.path.join(a.out, labels)}")
    t = weights.transforms()
    if not segmentation:
        print(f"preprocessing: Resize({t.resize_size[0]}) CenterCrop({t.crop_size[0]}) mean {t.mean} std {t.std}"
              f" -> ./jdnn classify --resize {t.resize_size[0]} --size {t.crop_size[0]}")


if __name__ == "__main__":
    main()
