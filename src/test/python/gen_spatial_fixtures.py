#!/usr/bin/python3
"""PyTorch oracle for jdnn's GridSample, MaxUnpool, CumSum and MeanVarianceNormalization.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_spatial_fixtures.py
Writes src/test/resources/fixtures/spatial/ (about 100 KB):
  grid_<case>_x.npy, grid_<case>_grid.npy           inputs of a GridSample case
  grid_<case>_<mode>_<padding>_ac<0|1>.onnx / _y.npy  F.grid_sample exported at opset 16 and torch's output,
                                                      every mode × padding_mode × align_corners (4-D cases)
  grid3d_<case>_<mode>_<padding>_ac<0|1>_y.npy        torch's 5-D output (jdnn's test builds the opset-20 node)
  unpool_<case>.onnx, _x.npy, _y.npy                  ONNX MaxPool(Indices) → MaxUnpool(output_shape = Shape(x)
                                                      or none); y = torch's max_unpool2d(max_pool2d(x)) (torch
                                                      cannot export MaxUnpool, so the graph is built with onnx.helper)
  cumsum_<case>.npy ...                               torch.cumsum along every axis, forward / reverse / exclusive
  cumsum_detr.onnx, _x.npy, _y.npy                    DETR's sine-position-embedding cumsums, exported at opset 11
  mvn_<case>_x.npy, _y.npy                            the ONNX function body in float64 for several axes
and cases.txt listing the GridSample, MaxUnpool, CumSum and MVN cases, one per line.
"""
import os
import warnings

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "spatial")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(1611)
warnings.filterwarnings("ignore")
lines = []


def save(name, a):
    np.save(os.path.join(OUT, name + ".npy"), a)


class Sample(torch.nn.Module):
    def __init__(self, mode, padding, align):
        super().__init__()
        self.kw = dict(mode=mode, padding_mode=padding, align_corners=align)

    def forward(self, x, grid):
        return F.grid_sample(x, grid, **self.kw)


def grid_cases():
    # random: odd sizes, points well outside [-1, 1]; lattice: multiples of 1/4 hit nearest's rounding ties
    # (W = 4, align_corners 0: x = 2g + 1.5) and the exact borders.
    x = torch.randn(2, 3, 5, 7)
    g = (torch.rand(2, 4, 6, 2) * 3.4 - 1.7)
    yield "random", x, g
    x = torch.randn(1, 2, 4, 4)
    lat = torch.arange(-6, 7, dtype=torch.float32) / 4  # -1.5 .. 1.5
    gy, gx = torch.meshgrid(lat, lat, indexing="ij")
    yield "lattice", x, torch.stack([gx, gy], -1).unsqueeze(0)


for case, x, g in grid_cases():
    save(f"grid_{case}_x", x.numpy())
    save(f"grid_{case}_grid", g.numpy())
    for mode in ("bilinear", "nearest", "bicubic"):
        for padding in ("zeros", "border", "reflection"):
            for align in (False, True):
                name = f"grid_{case}_{mode}_{padding}_ac{int(align)}"
                m = Sample(mode, padding, align)
                torch.onnx.export(m, (x, g), os.path.join(OUT, name + ".onnx"), opset_version=16,
                                  input_names=["x", "grid"], output_names=["y"])
                save(name + "_y", m(x, g).numpy())
                lines.append(f"grid {name} {case}")

# 5-D (GridSample-20): torch's 3-D kernel, linear and nearest.
x3 = torch.randn(1, 2, 3, 4, 5)
g3 = torch.rand(1, 2, 3, 4, 3) * 3.0 - 1.5
save("grid3d_random_x", x3.numpy())
save("grid3d_random_grid", g3.numpy())
for mode, onnx_mode in (("bilinear", "linear"), ("nearest", "nearest")):
    for padding in ("zeros", "border", "reflection"):
        for align in (False, True):
            name = f"grid3d_random_{onnx_mode}_{padding}_ac{int(align)}"
            save(name + "_y", F.grid_sample(x3, g3, mode=mode, padding_mode=padding, align_corners=align).numpy())
            lines.append(f"grid3d {name} {onnx_mode} {padding} {int(align)}")

# MaxUnpool after MaxPool's Indices (SegNet's decoder); output_shape from Shape(x) or absent.
UNPOOL = [  # name, x shape, kernel, stride, pad, with output_shape
    ("even_k2s2", (1, 3, 6, 8), 2, 2, 0, False),
    ("even_k2s2_shape", (2, 2, 6, 8), 2, 2, 0, True),
    ("odd_k2s2_shape", (2, 3, 7, 9), 2, 2, 0, True),
    ("k3s2p1_shape", (1, 2, 7, 7), 3, 2, 1, True),
    ("k3s2p1", (1, 2, 7, 9), 3, 2, 1, False),
]
for name, shape, k, s, p, with_shape in UNPOOL:
    x = torch.randn(*shape)
    pooled, idx = F.max_pool2d(x, k, s, p, return_indices=True)
    y = F.max_unpool2d(pooled, idx, k, s, p, output_size=x.shape[-2:] if with_shape else None)
    attrs = dict(kernel_shape=[k, k], strides=[s, s], pads=[p] * 4)
    nodes = [helper.make_node("MaxPool", ["x"], ["p", "i"], **attrs)]
    unpool_in = ["p", "i"]
    if with_shape:
        nodes.append(helper.make_node("Shape", ["x"], ["s"]))
        unpool_in.append("s")
    nodes.append(helper.make_node("MaxUnpool", unpool_in, ["y"], **attrs))
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)]), os.path.join(OUT, f"unpool_{name}.onnx"))
    save(f"unpool_{name}_x", x.numpy())
    save(f"unpool_{name}_y", y.numpy())
    lines.append(f"unpool {name}")


def shifted(t, d):
    """t moved one step along d, a zero in front: cumsum of it is the exclusive cumsum, in torch's order."""
    zero = torch.zeros_like(t.narrow(d, 0, 1))
    return torch.cat([zero, t.narrow(d, 0, t.shape[d] - 1)], d)


x = torch.randn(3, 4, 5) * 10
xi = torch.randint(-1000, 1000, (3, 4, 5), dtype=torch.int64)
save("cumsum_f32_x", x.numpy())
save("cumsum_i64_x", xi.numpy())
save("cumsum_i32_x", xi.to(torch.int32).numpy())
for d in range(3):
    for reverse in (0, 1):
        for exclusive in (0, 1):
            for kind, t in (("f32", x), ("i64", xi), ("i32", xi.to(torch.int32))):
                u = torch.flip(t, [d]) if reverse else t
                u = shifted(u, d) if exclusive else u
                y = torch.cumsum(u, d, dtype=t.dtype)
                y = torch.flip(y, [d]) if reverse else y
                name = f"cumsum_{kind}_axis{d}_r{reverse}_e{exclusive}"
                save(name + "_y", y.numpy())
                lines.append(f"cumsum {name} {kind} {d - 3 if d == 2 else d} {reverse} {exclusive}")


class DetrPosition(torch.nn.Module):
    """DETR's PositionEmbeddingSine: cumulative sums of the padding mask, normalised, through sin/cos."""

    def forward(self, x):
        not_mask = x[:, 0] > 0
        y_embed = not_mask.cumsum(1, dtype=torch.float32)
        x_embed = not_mask.cumsum(2, dtype=torch.float32)
        y_embed = y_embed / (y_embed[:, -1:, :] + 1e-6) * 6.2831853
        x_embed = x_embed / (x_embed[:, :, -1:] + 1e-6) * 6.2831853
        return torch.stack([y_embed, x_embed, torch.cumsum(x[:, 1], 2)], 1)


x = torch.randn(2, 3, 6, 7)
torch.onnx.export(DetrPosition(), (x,), os.path.join(OUT, "cumsum_detr.onnx"), opset_version=11,
                  input_names=["x"], output_names=["y"])
save("cumsum_detr_x", x.numpy())
save("cumsum_detr_y", DetrPosition()(x).numpy())

# MeanVarianceNormalization: the ONNX function body, (x - mean) / (sqrt(E[x^2] - mean^2) + 1e-9), in float64.
MVN = [("default", (2, 3, 4, 5), None), ("hw", (2, 3, 4, 5), [2, 3]), ("last", (3, 4, 6), [-1]),
       ("c", (2, 3, 4, 5), [1]), ("all5d", (2, 2, 3, 2, 3), [0, 1, 2, 3, 4])]
for name, shape, axes in MVN:
    x = (torch.randn(*shape) * 3 + 1).numpy()
    a = tuple(axes) if axes is not None else (0, 2, 3)
    xd = x.astype(np.float64)
    mean = xd.mean(axis=a, keepdims=True)
    std = np.sqrt((xd ** 2).mean(axis=a, keepdims=True) - mean ** 2)
    save(f"mvn_{name}_x", x)
    save(f"mvn_{name}_y", ((xd - mean) / (std + 1e-9)).astype(np.float32))
    lines.append(f"mvn {name} " + ("default" if axes is None else ",".join(map(str, axes))))

with open(os.path.join(OUT, "cases.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
print(len(lines), "cases")
