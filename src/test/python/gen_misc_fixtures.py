#!/usr/bin/python3
"""PyTorch-exported models using the long-tail ops (trigonometric/hyperbolic functions, IsNaN/IsInf, Shrink,
OneHot, Unique, Det) with their inputs and PyTorch's outputs, an oracle independent of ONNX's node tests.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_misc_fixtures.py
Writes src/test/resources/fixtures/misc/:
    <case>.onnx            torch.onnx.export of the module below (opset in CASES)
    <case>_<input>.npy     its inputs
    <case>_out<k>.npy      PyTorch's k-th output (float64 math rounded to float32 where noted)
    cases.txt              one line per case: name, then its input names (in the model's order)
"""
import math
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "misc")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)
rng = np.random.default_rng(0)


# torch's float32 sin/cos are off by up to ~3e-6 at arguments near 100 (vectorised approximations), so the
# expected outputs take the float32 angles the exported graph computes and apply sin/cos in float64.
def sin(a, exact):
    return torch.sin(a.double()).float() if exact else torch.sin(a)


def cos(a, exact):
    return torch.cos(a.double()).float() if exact else torch.cos(a)


class SinusoidalPositionalEncoding(nn.Module):
    """The Transformer paper's encoding, interleaved sin/cos, computed from the sequence length at run time."""

    def __init__(self, d_model=16, exact=False):
        super().__init__()
        self.exact = exact
        self.register_buffer("inv_freq", torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model)))

    def forward(self, x):  # x [B, T, d]
        pos = torch.arange(x.shape[1], dtype=torch.float32, device=x.device).unsqueeze(1)  # [T, 1]
        angles = pos * self.inv_freq  # [T, d/2]
        pe = torch.stack([sin(angles, self.exact), cos(angles, self.exact)], dim=-1).flatten(-2)  # [T, d]
        return x + pe


class TimestepEmbedding(nn.Module):
    """A diffusion model's timestep embedding: [sin(t·f), cos(t·f)] for float timesteps t [B] → [B, 2·half]."""

    def __init__(self, half=8, exact=False):
        super().__init__()
        self.exact = exact
        self.register_buffer("freqs", torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half))

    def forward(self, t):
        args = t[:, None] * self.freqs[None]
        return torch.cat([cos(args, self.exact), sin(args, self.exact)], dim=-1)


class Trig(nn.Module):
    """The trigonometric functions torch 1.13 exports, on one input (out-of-domain values give NaN)."""

    def forward(self, x):
        return torch.stack([torch.sin(x), torch.cos(x), torch.tan(x), torch.asin(x), torch.acos(x), torch.atan(x)])


class Hyperbolic(nn.Module):
    def forward(self, x):
        return torch.sinh(x), torch.cosh(x), torch.asinh(x), torch.acosh(x), torch.atanh(x)


class Shrinks(nn.Module):
    """Shrink(lambd=0.5) is hardshrink, Shrink(lambd=1.5, bias=1.5) softshrink; NaN gives 0 in ONNX's
    definition (neither x < -lambd nor x > lambd), where torch's kernels propagate it."""

    def forward(self, x):
        nan = torch.isnan(x)
        return (torch.where(nan, torch.zeros_like(x), F.hardshrink(x, 0.5)),
                torch.where(nan, torch.zeros_like(x), F.softshrink(x, 1.5)))


class Sanitize(nn.Module):
    """Replaces NaN by 0 (torch 1.13 exports torch.isinf as Cast to double + IsInf, which jdnn cannot hold)."""

    def forward(self, x):
        return torch.where(torch.isnan(x), torch.zeros_like(x), x)


class Infinities(nn.Module):
    def forward(self, x):
        return torch.isinf(x), torch.isposinf(x), torch.isneginf(x)


class OneHotLabels(nn.Module):
    def forward(self, labels):  # int64 [N, K] → int64 [N, K, 10]
        return F.one_hot(labels, num_classes=10)


class OneHotMask(nn.Module):
    """One-hot as float, permuted to N×C×H×W (a segmentation target)."""

    def forward(self, labels):  # int64 [N, H, W]
        return F.one_hot(labels, num_classes=5).permute(0, 3, 1, 2).float()


class Determinant(nn.Module):
    def forward(self, x):
        return torch.linalg.det(x)


class UniqueValues(nn.Module):
    def forward(self, x):
        return torch.unique(x, sorted=True, return_inverse=True, return_counts=True)


class UniqueRows(nn.Module):
    def forward(self, x):
        return torch.unique(x, sorted=True, return_inverse=True, return_counts=True, dim=0)


def save(name, module, inputs, opset, reference=None):
    """Exports module(*inputs) and saves inputs and outputs (reference(*inputs) if given, else the module's)."""
    names = list(inputs)
    args = tuple(torch.from_numpy(v) for v in inputs.values())
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(module, args, path, opset_version=opset, input_names=names)
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    with torch.no_grad():
        outs = (reference or module)(*args)
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    for k, o in enumerate(outs):
        np.save(os.path.join(OUT, f"{name}_out{k}.npy"), o.numpy())
    for n, v in inputs.items():
        np.save(os.path.join(OUT, f"{name}_{n}.npy"), v)
    print(name, "opset", opset, "ops", ops, "outputs", [tuple(o.shape) for o in outs])
    return name + " " + " ".join(names)


def save_nodes(name, nodes, inputs, outputs, opset, reference, output_type=None):
    """A graph of ONNX nodes torch 1.13 cannot export (Sinh..Atanh, Shrink), with reference(*inputs) from torch."""
    from onnx import helper, TensorProto
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape)) for n, v in inputs.items()],
                              [helper.make_tensor_value_info(n, output_type or TensorProto.FLOAT, list(inputs["x"].shape)) for n in outputs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name + ".onnx"))
    with torch.no_grad():
        outs = reference(*(torch.from_numpy(v) for v in inputs.values()))
    for k, o in enumerate(outs):
        np.save(os.path.join(OUT, f"{name}_out{k}.npy"), o.numpy())
    for n, v in inputs.items():
        np.save(os.path.join(OUT, f"{name}_{n}.npy"), v)
    print(name, "opset", opset, "ops", sorted({n.op_type for n in nodes}), "outputs", [tuple(o.shape) for o in outs])
    return name + " " + " ".join(inputs)


def float64(module):
    """module evaluated in float64 and rounded once to float32: the exact answer jdnn's Java reference targets."""
    def run(*args):
        outs = module(*(a.double() if a.is_floating_point() else a for a in args))
        return tuple(o.float() if o.is_floating_point() else o for o in (outs if isinstance(outs, tuple) else (outs,)))
    return run


special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0], dtype=np.float32)
grid = np.concatenate([np.linspace(-3, 3, 61, dtype=np.float32), special]).reshape(1, -1)
dets = rng.standard_normal((4, 5, 5)).astype(np.float32)
dets[1, 3] = dets[1, 0] * 2  # singular
dets[2] = np.triu(dets[2])    # triangular: product of the diagonal
values = rng.integers(-3, 4, size=24).astype(np.float32)
values[11] = -0.0  # equal to 0 (NaN left out: torch 1.13 sorts it at an arbitrary place)
rows = rng.integers(0, 2, size=(9, 3)).astype(np.float32)

lines = [
    save("posenc", SinusoidalPositionalEncoding(), {"x": rng.standard_normal((2, 7, 16)).astype(np.float32)}, 13,
         SinusoidalPositionalEncoding(exact=True)),
    save("timestep", TimestepEmbedding(), {"t": np.array([0, 1, 17, 250, 999], dtype=np.float32)}, 13,
         TimestepEmbedding(exact=True)),
    save("trig", Trig(), {"x": grid}, 13, float64(Trig())),
    save("sanitize", Sanitize(), {"x": grid}, 13),
    save_nodes("isinf", [onnx.helper.make_node("IsInf", ["x"], ["any"]),
                         onnx.helper.make_node("IsInf", ["x"], ["positive"], detect_negative=0),
                         onnx.helper.make_node("IsInf", ["x"], ["negative"], detect_positive=0)],
               {"x": grid}, ["any", "positive", "negative"], 10, Infinities(), onnx.TensorProto.BOOL),
    save_nodes("hyperbolic", [onnx.helper.make_node(op, ["x"], [op.lower()]) for op in ["Sinh", "Cosh", "Asinh", "Acosh", "Atanh"]],
               {"x": grid}, ["sinh", "cosh", "asinh", "acosh", "atanh"], 9, float64(Hyperbolic())),
    save_nodes("shrink", [onnx.helper.make_node("Shrink", ["x"], ["hard"], lambd=0.5),
                          onnx.helper.make_node("Shrink", ["x"], ["soft"], lambd=1.5, bias=1.5)],
               {"x": grid}, ["hard", "soft"], 9, Shrinks()),
    save("onehot", OneHotLabels(), {"labels": rng.integers(0, 10, size=(3, 5)).astype(np.int64)}, 11),
    save("onehot_mask", OneHotMask(), {"labels": rng.integers(0, 5, size=(2, 4, 6)).astype(np.int64)}, 13),
    save("det", Determinant(), {"x": dets}, 13, float64(Determinant())),
    save("unique", UniqueValues(), {"x": values}, 11),
    save("unique_rows", UniqueRows(), {"x": rows}, 11),
]
with open(os.path.join(OUT, "cases.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
