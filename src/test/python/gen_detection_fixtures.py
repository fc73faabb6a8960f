#!/usr/bin/python3
"""PyTorch oracle for jdnn's NonMaxSuppression and RoiAlign: torchvision.ops wrapped in small modules,
exported with torch.onnx.export, with torchvision's own outputs.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_detection_fixtures.py
Writes src/test/resources/fixtures/detection/:
    <case>.onnx          the exported module
    <case>_<input>.npy   its inputs (graph input order as in cases.txt)
    <case>_out.npy       torchvision's output (int64 kept indices for nms, float32 pooled features)
    cases.txt            one line per case: <case> <input names...>
Cases:
  nms_op11, nms_op16           torchvision.ops.nms(boxes, scores, 0.5): 60 boxes in overlapping clusters,
                               scores on a 0.05 grid so many tie (NMS must visit equal scores by box index)
  batched_nms_op11             torchvision.ops.batched_nms (the coordinate trick torchvision exports:
                               boxes offset per class, one NonMaxSuppression) with 4 classes
  batched_nms_if_op11          scores > 0.5, then batched_nms: torch keeps batched_nms's zero-box early return
                               as an If whose branches return different shapes (then: none, else: the kept ones)
  batched_nms_if_empty_op11    the same with every score below 0.5: no box, the If's then_branch
  roi_align_*_op11             roi_align(aligned=False) as torchvision's detectors use it (sampling_ratio 2
                               and adaptive 0, spatial_scale 0.25, rois spilling over the border)
  roi_align_aligned_op16       aligned=True at opset 16: torchvision 0.14 writes no coordinate_transformation_mode,
                               so opset 16's default half_pixel applies, which is what aligned=True means
  roi_align_unaligned_op16     aligned=False at opset 16 with coordinate_transformation_mode=output_half_pixel
                               set on the exported node (torchvision 0.14 omits it, and opset 16's default
                               half_pixel would then disagree with PyTorch: see README, Detectors)
"""
import os
import warnings

import numpy as np
import onnx
import torch
import torchvision

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "detection")
warnings.filterwarnings("ignore")
torch.manual_seed(20261205)
rng = np.random.default_rng(20261205)


class Nms(torch.nn.Module):
    def forward(self, boxes, scores):
        return torchvision.ops.nms(boxes, scores, 0.5)


class BatchedNms(torch.nn.Module):
    def forward(self, boxes, scores, classes):
        return torchvision.ops.batched_nms(boxes, scores, classes, 0.5)


class FilteredBatchedNms(torch.nn.Module):
    """A score threshold, then batched_nms: the box count depends on the data, so torch keeps batched_nms's
    early return on zero boxes as an ONNX If (then_branch: no boxes, else_branch: the coordinate trick),
    whose branches read outer-scope tensors and return different shapes."""
    def forward(self, boxes, scores, classes):
        keep = torch.where(scores > 0.5)[0]
        return keep[torchvision.ops.batched_nms(boxes[keep], scores[keep], classes[keep], 0.5)]


class RoiAlign(torch.nn.Module):
    def __init__(self, size, scale, sampling_ratio, aligned):
        super().__init__()
        self.size, self.scale, self.sampling_ratio, self.aligned = size, scale, sampling_ratio, aligned

    def forward(self, x, rois):
        return torchvision.ops.roi_align(x, rois, self.size, self.scale, self.sampling_ratio, self.aligned)


def clustered_boxes(n, clusters, extent):
    """[x1, y1, x2, y2] boxes jittered around a few cluster boxes, so many overlap heavily."""
    centers = rng.uniform(0.2 * extent, 0.8 * extent, size=(clusters, 2))
    sizes = rng.uniform(0.1 * extent, 0.4 * extent, size=(clusters, 2))
    which = rng.integers(0, clusters, size=n)
    c = centers[which] + rng.normal(0, 0.04 * extent, size=(n, 2))
    s = sizes[which] * rng.uniform(0.8, 1.2, size=(n, 2))
    boxes = np.concatenate([c - s / 2, c + s / 2], axis=1).astype(np.float32)
    boxes[::7] = boxes[3]   # some identical boxes too
    return boxes


def export(name, module, inputs, names, opset, patch=None):
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(module, tuple(torch.from_numpy(a) for a in inputs), path, input_names=names,
                      output_names=["out"], opset_version=opset)
    if patch is not None:
        model = onnx.load(path)
        patch(model)
        onnx.save(model, path)
    with torch.no_grad():
        out = module(*(torch.from_numpy(a) for a in inputs)).numpy()
    for n, a in zip(names, inputs):
        np.save(os.path.join(OUT, f"{name}_{n}.npy"), a)
    np.save(os.path.join(OUT, f"{name}_out.npy"), out)
    return f"{name} {' '.join(names)}"


def set_output_half_pixel(model):
    for node in model.graph.node:
        if node.op_type == "RoiAlign":
            node.attribute.append(onnx.helper.make_attribute("coordinate_transformation_mode", "output_half_pixel"))


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = []
    boxes = clustered_boxes(60, 6, 100.0)
    scores = (np.round(rng.uniform(0, 1, size=60) * 20) / 20).astype(np.float32)   # 0.05 steps: ties
    for opset in (11, 16):
        lines.append(export(f"nms_op{opset}", Nms(), [boxes, scores], ["boxes", "scores"], opset))
    classes = rng.integers(0, 4, size=60).astype(np.int64)
    lines.append(export("batched_nms_op11", BatchedNms(), [boxes, scores, classes], ["boxes", "scores", "classes"], 11))

    x = rng.normal(size=(2, 3, 12, 16)).astype(np.float32)
    k = 9
    corners = rng.uniform(-8, 70, size=(k, 2))
    extent = rng.uniform(2, 40, size=(k, 2))
    rois = np.concatenate([rng.integers(0, 2, size=(k, 1)), corners, corners + extent], axis=1).astype(np.float32)
    rois[0, 1:] = [10, 10, 10.5, 10.2]   # smaller than a pixel at this scale
    for sampling in (2, 0):
        lines.append(export(f"roi_align_s{sampling}_op11", RoiAlign((5, 4), 0.25, sampling, False), [x, rois], ["x", "rois"], 11))
    lines.append(export("roi_align_aligned_op16", RoiAlign((3, 3), 0.25, 2, True), [x, rois], ["x", "rois"], 16))
    lines.append(export("roi_align_unaligned_op16", RoiAlign((7, 7), 0.25, 0, False), [x, rois], ["x", "rois"], 16,
                        patch=set_output_half_pixel))
    # Last, so the cases above keep their random draws: some boxes pass the threshold, then none do.
    lines.append(export("batched_nms_if_op11", FilteredBatchedNms(), [boxes, scores, classes], ["boxes", "scores", "classes"], 11))
    lines.append(export("batched_nms_if_empty_op11", FilteredBatchedNms(), [boxes, scores * 0.4, classes],
                        ["boxes", "scores", "classes"], 11))
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
