#!/usr/bin/python3
"""torchvision 0.14's detectors exported to ONNX, with PyTorch's detections: what jdnn's detector support is measured on.

Run from the repository root (torch 1.13, torchvision 0.14):
    /usr/bin/python3 src/test/python/gen_torchvision_detectors.py [--out target/detectors] [--archs a,b] [--opsets 11,13]
                                                                  [--plain-batched-nms]
Writes, per architecture, OUT/<arch>/:
    input.npy                 one 3×320×320 image (uniform [0, 1), seeded), the model's only input "image"
    boxes.npy scores.npy labels.npy   PyTorch's eval-mode detections for it (float32 K×4, float32 K, int64 K)
    opset<K>.onnx             torch.onnx.export of the model called on [image] (outputs "boxes", "scores", "labels")
With --plain-batched-nms, also, for the single-stage detectors (SSDlite, RetinaNet: their model.head):
    heads.txt                 one line per head output: <ONNX tensor name> <npy file>
    head_cls_logits.npy head_bbox_regression.npy   PyTorch's head outputs for input.npy
(the backbone, FPN and heads, everything before post-processing; DetectorTest runs them by name).
Weights are torchvision's random init (weights=None, weights_backbone=None, seeded per architecture); the
detections of a random model are meaningless but deterministic, which is all a comparison needs.
--plain-batched-nms traces torchvision.ops.batched_nms's coordinate trick as plain code, without the
@torch.jit._script_if_tracing early return on zero boxes that torch exports as an If node (RetinaNet then
also gets score_thresh 0, since its random-weight scores stay below 0.05 and the trick needs a box);
this shows what stops a detector after If (README, Detectors).
Generated into the git-ignored target/, not committed (tens of MB per model); DetectorTest skips, saying so,
when the files are absent.
"""
import argparse
import os
import warnings
import zlib

import numpy as np
import onnx
import torch
import torchvision.models.detection as tvd
import torchvision.ops.boxes as box_ops

warnings.filterwarnings("ignore")

ARCHS = ["ssdlite320_mobilenet_v3_large", "retinanet_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn", "fcos_resnet50_fpn"]


def plain_coordinate_trick(boxes, scores, idxs, iou_threshold):
    """torchvision's _batched_nms_coordinate_trick without its zero-box early return (traced, not scripted)."""
    offsets = idxs.to(boxes) * (boxes.max() + torch.tensor(1).to(boxes))
    return box_ops.nms(boxes + offsets[:, None], scores, iou_threshold)


def calibrate_batch_norm(model):
    """Running mean/var from a few train-mode passes of the backbone (momentum 1 on the last: its own statistics)."""
    bns = [m for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not bns:
        return   # frozen BN (RetinaNet's ResNet-50, FrozenBatchNorm2d) has fixed statistics
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for m in bns:
            m.train()
        for _ in range(3):
            model.backbone(torch.rand(2, 3, 320, 320, generator=g) * 4 - 2)
        for m in bns:
            m.eval()


def write_head_names(onnx_path, d, heads):
    """heads.txt: each head output's ONNX tensor (the last node of classification_head / regression_head)."""
    graph = onnx.load(onnx_path, load_external_data=False).graph
    lines = []
    for key, prefix in (("cls_logits", "/head/classification_head/"), ("bbox_regression", "/head/regression_head/")):
        last = [n for n in graph.node if n.name.startswith(prefix)][-1]
        lines.append(f"{last.output[0]} head_{key}.npy")
    with open(os.path.join(d, "heads.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def export(arch, out, opsets, plain):
    torch.manual_seed(zlib.crc32(arch.encode()))
    kwargs = {"score_thresh": 0.0} if plain and arch.startswith("retinanet") else {}
    model = getattr(tvd, arch)(weights=None, weights_backbone=None, **kwargs).eval()
    calibrate_batch_norm(model)
    d = os.path.join(out, arch)
    os.makedirs(d, exist_ok=True)
    image = torch.rand(3, 320, 320, generator=torch.Generator().manual_seed(7))
    heads = {}
    if plain and hasattr(model, "head"):
        model.head.register_forward_hook(lambda module, args, out: heads.update(out))
    with torch.no_grad():
        det = model([image])[0]
    for key, value in heads.items():
        np.save(os.path.join(d, f"head_{key}.npy"), value.numpy())
    np.save(os.path.join(d, "input.npy"), image.numpy())
    np.save(os.path.join(d, "boxes.npy"), det["boxes"].numpy().astype(np.float32))
    np.save(os.path.join(d, "scores.npy"), det["scores"].numpy().astype(np.float32))
    np.save(os.path.join(d, "labels.npy"), det["labels"].numpy().astype(np.int64))
    print(f"{arch}: {len(det['scores'])} detections", flush=True)
    for opset in opsets:
        path = os.path.join(d, f"opset{opset}.onnx")
        try:
            torch.onnx.export(model, ([image],), path, opset_version=opset, input_names=["image"],
                              output_names=list(det.keys()))   # Faster R-CNN returns boxes, labels, scores; the others boxes, scores, labels
            print(f"  opset {opset}: {os.path.getsize(path) // 1024} KiB", flush=True)
            if heads:
                write_head_names(path, d, heads)
        except Exception as e:  # torch cannot export it: say so, leave no partial file
            if os.path.exists(path):
                os.remove(path)
            print(f"  opset {opset}: export failed: {type(e).__name__}: {str(e)[:200]}", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="target/detectors")
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--opsets", default="11,13")
    p.add_argument("--plain-batched-nms", action="store_true")
    a = p.parse_args()
    if a.plain_batched_nms:
        box_ops._batched_nms_coordinate_trick = plain_coordinate_trick
    for arch in a.archs.split(","):
        export(arch, a.out, [int(o) for o in a.opsets.split(",")], a.plain_batched_nms)


if __name__ == "__main__":
    main()
