#!/usr/bin/python3
"""Oracles for jdnn's pooling (graph/op/Pool.java) where ONNX's node tests (libonnx-testdata) have none:
AveragePool count_include_pad with ceil_mode and dilations, MaxPool ceil_mode/dilations with Indices
(storage_order 0 and 1), LpPool (p, pads, strides, dilations, ceil_mode) and GlobalLpPool.

Run from the repository root:  /usr/bin/python3 src/test/python/gen_pool_fixtures.py
Writes src/test/resources/fixtures/pool/<case>/{x,y[,indices]}.npy and cases.txt, one line per case:
    name OpType opset key=v1,v2,... (ONNX attributes; ints)
Expected values come from a plain-loop numpy implementation of the semantics below, and every case
that PyTorch can express is cross-checked against torch.nn.functional (the script asserts they agree):
  - window o on an axis covers taps o*s - pb + j*d, j < k; taps outside [0, D) are padding;
  - count_include_pad divides by the taps before D + pe (padding counted, ceil_mode's overhang not),
    PyTorch's and ONNX Runtime's rule;
  - Indices are flat indices into X: plane offset + row-major (storage_order 0) or column-major
    (storage_order 1, first spatial axis fastest) offset in the plane;
  - LpPool is (sum |x|^p)^(1/p) over the input taps.
"""
import itertools
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "pool")
rng = np.random.default_rng(31337)


def out_size(d, k, s, dil, pb, pe, ceil):
    ext = (k - 1) * dil + 1
    span = d + pb + pe - ext
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= d + pb:
        o -= 1
    return o


def pool(x, kind, kernel, strides, pads, dil, ceil, include_pad=0, p=2, storage_order=0):
    sp = x.ndim - 2
    dims = x.shape[2:]
    pb, pe = pads[:sp], pads[sp:]
    outs = [out_size(dims[i], kernel[i], strides[i], dil[i], pb[i], pe[i], ceil) for i in range(sp)]
    y = np.zeros(x.shape[:2] + tuple(outs), dtype=np.float64)
    idx = np.zeros(y.shape, dtype=np.int64)
    plane = int(np.prod(dims))
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for o in itertools.product(*[range(v) for v in outs]):
            taps, counted = [], 1
            for i in range(sp):
                start = o[i] * strides[i] - pb[i]
                pos = [start + j * dil[i] for j in range(kernel[i])]
                counted *= sum(1 for q in pos if q < dims[i] + pe[i])
                taps.append([q for q in pos if 0 <= q < dims[i]])
            vals, where = [], []
            for t in itertools.product(*taps):
                vals.append(float(x[(n, c) + t]))
                where.append(t)
            if kind == "max":
                b = int(np.argmax(vals))  # first maximum in row-major order
                y[(n, c) + o] = vals[b]
                t = where[b]
                if storage_order == 0:
                    off = int(np.ravel_multi_index(t, dims))
                else:
                    off = sum(t[i] * int(np.prod(dims[:i])) for i in range(sp))
                idx[(n, c) + o] = (n * x.shape[1] + c) * plane + off
            elif kind == "avg":
                y[(n, c) + o] = sum(vals) / (counted if include_pad else len(vals)) if vals else 0.0
            else:
                y[(n, c) + o] = sum(abs(v) ** p for v in vals) ** (1.0 / p)
    return y.astype(np.float32), idx


def torch_check(name, x, kind, kernel, strides, pads, dil, ceil, include_pad, y, idx, storage_order):
    sp = x.ndim - 2
    pb, pe = pads[:sp], pads[sp:]
    if list(pb) != list(pe) or any(2 * p > k for p, k in zip(pb, kernel)):
        return False  # PyTorch pads symmetrically, at most half the kernel
    t = torch.from_numpy(x)
    if kind == "max":
        f = [F.max_pool1d, F.max_pool2d, F.max_pool3d][sp - 1]
        ty, ti = f(t, kernel, strides, list(pb), list(dil), ceil_mode=bool(ceil), return_indices=True)
        assert np.allclose(ty.numpy(), y, atol=0), name
        if storage_order == 0:
            plane = int(np.prod(x.shape[2:]))
            offsets = np.arange(x.shape[0] * x.shape[1]).reshape(x.shape[:2] + (1,) * sp) * plane
            assert np.array_equal(ti.numpy() + offsets, idx), name
        return True
    if kind == "avg" and all(d == 1 for d in dil):
        f = [F.avg_pool1d, F.avg_pool2d, F.avg_pool3d][sp - 1]
        ty = f(t, kernel, strides, list(pb), ceil_mode=bool(ceil), count_include_pad=bool(include_pad))
        assert np.allclose(ty.numpy(), y, rtol=1e-5, atol=1e-6), name
        return True
    return False


# name, op, opset, x shape, attributes
CASES = [
    ("avg_ceil_include_pad", "AveragePool", 19, (1, 2, 6, 7), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)),
    ("avg_ceil_exclude_pad", "AveragePool", 19, (1, 2, 6, 7), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)),
    ("avg_dilations_include_pad", "AveragePool", 19, (2, 2, 7, 8), dict(kernel_shape=[2, 3], strides=[1, 2], pads=[1, 0, 1, 2], dilations=[2, 2], count_include_pad=1)),
    ("avg_dilations_ceil", "AveragePool", 19, (1, 3, 9, 8), dict(kernel_shape=[3, 2], strides=[3, 2], pads=[1, 1, 0, 1], dilations=[2, 3], ceil_mode=1)),
    ("avg_dilations_ceil_include_pad", "AveragePool", 19, (1, 2, 9, 8), dict(kernel_shape=[3, 2], strides=[3, 2], pads=[1, 1, 1, 1], dilations=[2, 3], ceil_mode=1, count_include_pad=1)),
    ("avg_1d_ceil_include_pad", "AveragePool", 19, (2, 3, 10), dict(kernel_shape=[4], strides=[3], pads=[2, 2], ceil_mode=1, count_include_pad=1)),
    ("avg_3d_ceil_include_pad", "AveragePool", 19, (1, 2, 5, 6, 5), dict(kernel_shape=[2, 3, 2], strides=[2, 2, 2], pads=[1, 1, 1, 1, 1, 1], ceil_mode=1, count_include_pad=1)),
    ("max_dil_ceil_indices", "MaxPool", 12, (2, 2, 8, 9), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], dilations=[2, 2], ceil_mode=1)),
    ("max_indices_storage1", "MaxPool", 12, (2, 2, 8, 9), dict(kernel_shape=[3, 2], strides=[2, 3], pads=[1, 1, 1, 1], ceil_mode=1, storage_order=1)),
    ("max_asym_pads_indices", "MaxPool", 12, (1, 3, 7, 6), dict(kernel_shape=[3, 3], strides=[2, 1], pads=[0, 2, 1, 0], dilations=[1, 2])),
    ("max_1d_dil_ceil_indices", "MaxPool", 12, (2, 3, 11), dict(kernel_shape=[3], strides=[2], pads=[1, 1], dilations=[3], ceil_mode=1)),
    ("max_3d_indices", "MaxPool", 12, (1, 2, 5, 6, 5), dict(kernel_shape=[2, 3, 2], strides=[2, 2, 1], pads=[1, 1, 0, 1, 1, 0], ceil_mode=1)),
    ("max_3d_indices_storage1", "MaxPool", 12, (1, 2, 4, 5, 3), dict(kernel_shape=[2, 2, 2], strides=[2, 2, 1], storage_order=1)),
    ("lp2_pads_strides", "LpPool", 18, (1, 3, 7, 8), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], p=2)),
    ("lp3_dil_ceil", "LpPool", 18, (2, 2, 9, 8), dict(kernel_shape=[2, 3], strides=[2, 2], pads=[0, 1, 1, 0], dilations=[2, 2], ceil_mode=1, p=3)),
    ("lp1_1d", "LpPool", 11, (2, 3, 9), dict(kernel_shape=[3], strides=[2], p=1)),
    ("lp2_default_p", "LpPool", 11, (1, 2, 5, 5), dict(kernel_shape=[2, 2])),
    ("global_lp2", "GlobalLpPool", 2, (2, 3, 4, 5), dict()),
    ("global_lp3", "GlobalLpPool", 2, (2, 3, 4, 5), dict(p=3)),
    ("global_lp1_1d", "GlobalLpPool", 2, (1, 4, 7), dict(p=1)),
]


def save(d, name, a, dtype=np.float32):
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(np.asarray(a, dtype=dtype)))


def main():
    os.makedirs(OUT, exist_ok=True)
    lines, checked = [], 0
    for name, op, opset, shape, attrs in CASES:
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        x = rng.standard_normal(shape).astype(np.float32)
        sp = len(shape) - 2
        kind = {"MaxPool": "max", "AveragePool": "avg", "LpPool": "lp", "GlobalLpPool": "lp"}[op]
        if op.startswith("Global"):
            kernel, strides, pads, dil, ceil = list(shape[2:]), [1] * sp, [0] * (2 * sp), [1] * sp, 0
        else:
            kernel, strides = attrs["kernel_shape"], attrs.get("strides", [1] * sp)
            pads, dil, ceil = attrs.get("pads", [0] * (2 * sp)), attrs.get("dilations", [1] * sp), attrs.get("ceil_mode", 0)
        y, idx = pool(x, kind, kernel, strides, pads, dil, ceil, attrs.get("count_include_pad", 0), attrs.get("p", 2),
                      attrs.get("storage_order", 0))
        if kind == "lp" and not any(pads) and all(v == 1 for v in dil):
            # PyTorch's lp_pool is (sum x^p)^(1/p) (x^p, not |x|^p) without padding: feed |x|.
            f = [F.lp_pool1d, F.lp_pool2d][sp - 1]
            ty = f(torch.from_numpy(np.abs(x)), float(attrs.get("p", 2)), kernel if sp > 1 else kernel[0],
                   strides if sp > 1 else strides[0], ceil_mode=bool(ceil))
            assert np.allclose(ty.numpy(), y, rtol=1e-5, atol=1e-5), name
            checked += 1
        elif torch_check(name, x, kind, kernel, strides, pads, dil, ceil, attrs.get("count_include_pad", 0), y, idx,
                         attrs.get("storage_order", 0)):
            checked += 1
        save(d, "x", x)
        save(d, "y", y)
        if kind == "max":
            save(d, "indices", idx, np.int64)
        lines.append(" ".join([name, op, str(opset)] + [f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in attrs.items()]))
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("# name OpType opset attributes (written by src/test/python/gen_pool_fixtures.py)\n")
        f.write("\n".join(lines) + "\n")
    print("wrote", len(lines), "cases,", checked, "cross-checked against PyTorch")


if __name__ == "__main__":
    main()
