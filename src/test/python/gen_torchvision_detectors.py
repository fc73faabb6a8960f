#!/usr/bin/python3
"""torchvision 0.14's detectors exported to ONNX, with PyTorch's detections: what jdnn's detector support is measured on.

Run from the repository root (torch 1.13, torchvision 0.14):
    /usr/bin/python3 src/test/python/gen_torchvision_detectors.py [--out target/detectors] [--archs a,b] [--opsets 11,13]
Writes, per architecture, OUT/<arch>/:
    input.npy                 one 3×320×320 image (uniform [0, 1), seeded), the model's only input "image"
    boxes.npy scores.npy labels.npy   PyTorch's eval-mode detections for it (float32 K×4, float32 K, int64 K)
    opset<K>.onnx             torch.onnx.export of the model called on [image] (outputs "boxes", "scores", "labels")
Weights are torchvision's random init (weights=None, weights_backbone=None, seeded per architecture); the
detections of a random model are meaningless but deterministic, which is all a comparison needs.
Generated into the git-ignored target/, not committed (tens of MB per model); DetectorTest skips, saying so,
when the files are absent.
"""
import argparse
import os
import warnings
import zlib

import numpy as np
import torch
import torchvision.models.detection as tvd

warnings.filterwarnings("ignore")

ARCHS = ["ssdlite320_mobilenet_v3_large", "retinanet_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"]


def export(arch, out, opsets):
    torch.manual_seed(zlib.crc32(arch.encode()))
    model = getattr(tvd, arch)(weights=None, weights_backbone=None).eval()
    d = os.path.join(out, arch)
    os.makedirs(d, exist_ok=True)
    image = torch.rand(3, 320, 320, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        det = model([image])[0]
    np.save(os.path.join(d, "input.npy"), image.numpy())
    np.save(os.path.join(d, "boxes.npy"), det["boxes"].numpy().astype(np.float32))
    np.save(os.path.join(d, "scores.npy"), det["scores"].numpy().astype(np.float32))
    np.save(os.path.join(d, "labels.npy"), det["labels"].numpy().astype(np.int64))
    print(f"{arch}: {len(det['scores'])} detections", flush=True)
    for opset in opsets:
        path = os.path.join(d, f"opset{opset}.onnx")
        try:
            torch.onnx.export(model, ([image],), path, opset_version=opset, input_names=["image"],
                              output_names=["boxes", "scores", "labels"])
            print(f"  opset {opset}: {os.path.getsize(path) // 1024} KiB", flush=True)
        except Exception as e:  # torch cannot export it: say so, leave no partial file
            if os.path.exists(path):
                os.remove(path)
            print(f"  opset {opset}: export failed: {type(e).__name__}: {str(e)[:200]}", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="target/detectors")
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--opsets", default="11,13")
    a = p.parse_args()
    for arch in a.archs.split(","):
        export(arch, a.out, [int(o) for o in a.opsets.split(",")])


if __name__ == "__main__":
    main()
