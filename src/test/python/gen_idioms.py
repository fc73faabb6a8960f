#!/usr/bin/python3
"""Small ONNX graphs of the opset 7-13 idioms that converters other than a recent PyTorch emit, with numpy oracles.

Run from the repository root (onnx 1.12, numpy):  /usr/bin/python3 src/test/python/gen_idioms.py
Writes src/test/resources/fixtures/idioms/<case>/:
    model.onnx                 built with onnx.helper, checked by onnx.checker
    <run>.in.<name>.npy        graph input <name> for run <run> (a, b, ...: one session runs them in order)
    <run>.out.<name>.npy       the expected graph output <name>, computed here with numpy (not onnxruntime,
                               not onnx.reference, which onnx 1.12 lacks), from the ONNX operator spec
Cases with symbolic H and W run at two spatial sizes (runs a and b), so shape arithmetic must be re-done
per input shape rather than frozen at the first one.
"""
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "idioms")
RNG = np.random.default_rng(20240611)
F, I64, I32 = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def save(case, opset, nodes, inputs, outputs, initializers, runs):
    """inputs/outputs: [(name, elem_type, shape with str for symbolic dims)]; runs: [({in: array}, {out: array})]."""
    graph = helper.make_graph(nodes, case,
                              [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
                              [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
                              [numpy_helper.from_array(v, k) for k, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="gen_idioms.py",
                              ir_version=4 if opset < 11 else 7)
    onnx.checker.check_model(model)
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for run, (ins, outs) in zip("abcdef", runs):
        for k, v in ins.items():
            np.save(os.path.join(d, f"{run}.in.{k}.npy"), v)
        for k, v in outs.items():
            np.save(os.path.join(d, f"{run}.out.{k}.npy"), v)


# ---- numpy oracles (ONNX spec semantics) -------------------------------------------------------------------

def resize_nd(x, out_shape, coord, mode, nearest_mode="round_prefer_floor"):
    """ONNX Resize/Upsample without roi: each axis maps output index i to input coordinate c(i), then
    nearest picks one neighbour and linear blends floor(c) and floor(c)+1 (indices clamped to the edge,
    which is the spec's edge padding). Applied axis by axis (linear is separable)."""
    y = x.astype(np.float64)
    for axis, (n_in, n_out) in enumerate(zip(x.shape, out_shape)):
        if n_in == n_out:
            continue
        scale = n_out / n_in
        i = np.arange(n_out, dtype=np.float64)
        if coord == "asymmetric":
            c = i / scale
        elif coord == "half_pixel":
            c = (i + 0.5) / scale - 0.5
        elif coord == "pytorch_half_pixel":
            c = (i + 0.5) / scale - 0.5 if n_out > 1 else np.zeros_like(i)
        elif coord == "align_corners":
            c = i * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros_like(i)
        else:
            raise ValueError(coord)
        if mode == "nearest":
            if nearest_mode == "floor":
                idx = np.floor(c)
            elif nearest_mode == "round_prefer_floor":
                idx = np.where(c - np.floor(c) == 0.5, np.floor(c), np.round(c))
            else:
                raise ValueError(nearest_mode)
            y = np.take(y, np.clip(idx, 0, n_in - 1).astype(np.int64), axis=axis)
        else:
            lo = np.floor(c)
            w = c - lo
            a = np.take(y, np.clip(lo, 0, n_in - 1).astype(np.int64), axis=axis)
            b = np.take(y, np.clip(lo + 1, 0, n_in - 1).astype(np.int64), axis=axis)
            shape = [1] * y.ndim
            shape[axis] = n_out
            y = a * (1 - w.reshape(shape)) + b * w.reshape(shape)
    return y.astype(np.float32)


def scaled_shape(shape, scales):
    return [int(np.floor(n * s)) for n, s in zip(shape, scales)]


# ---- cases ---------------------------------------------------------------------------------------------------

def upsample():
    x = rand(1, 2, 3, 4)
    # Upsample-9: scales is an input (an initializer, as Keras/TF converters emit it); mode nearest = floor(i/scale).
    for mode, scales in (("nearest", [1, 1, 2, 2]), ("linear", [1, 1, 2, 1.5])):
        s = np.array(scales, np.float32)
        y = resize_nd(x, scaled_shape(x.shape, s), "asymmetric", mode, "floor")
        save(f"upsample9_{mode}", 9, [helper.make_node("Upsample", ["x", "scales"], ["y"], mode=mode)],
             [("x", F, x.shape)], [("y", F, y.shape)], {"scales": s}, [({"x": x}, {"y": y})])
    # Upsample-7: scales as an attribute.
    y = resize_nd(x, scaled_shape(x.shape, [1, 1, 2, 3]), "asymmetric", "nearest", "floor")
    save("upsample7_nearest", 7, [helper.make_node("Upsample", ["x"], ["y"], mode="nearest", scales=[1.0, 1.0, 2.0, 3.0])],
         [("x", F, x.shape)], [("y", F, y.shape)], {}, [({"x": x}, {"y": y})])


def slice9():
    x = rand(2, 3, 5, 6)
    # Slice-1..9: starts/ends/axes attributes; negative starts count from the end, huge ends clamp.
    nodes = [helper.make_node("Slice", ["x"], ["y"], starts=[1, -4, 0], ends=[3, 2**31 - 1, -1], axes=[1, 2, 3]),
             helper.make_node("Slice", ["x"], ["z"], starts=[0, 1], ends=[1, 1000])]  # axes omitted: 0, 1
    y, z = x[:, 1:3, -4:, 0:-1], x[0:1, 1:]
    save("slice9_attributes", 9, nodes, [("x", F, x.shape)], [("y", F, y.shape), ("z", F, z.shape)], {},
         [({"x": x}, {"y": y, "z": z})])


def pad():
    x = rand(1, 2, 3, 4)
    pads = [0, 0, 1, 2, 0, 1, 2, 1]  # begin N C H W, end N C H W
    width = [(pads[i], pads[i + 4]) for i in range(4)]
    # Pad-2 (the Pad of opsets 2-10; a model importing opset 9 gets it): pads and value attributes, as
    # Caffe2/Keras-era converters emit them; constant, reflect and edge.
    for mode in ("constant", "reflect", "edge"):
        kw = dict(mode=mode, pads=pads)
        if mode == "constant":
            kw["value"] = 1.5
        y = np.pad(x, width, mode=mode, **({"constant_values": 1.5} if mode == "constant" else {}))
        save(f"pad2_{mode}_opset9", 9, [helper.make_node("Pad", ["x"], ["y"], **kw)], [("x", F, x.shape)], [("y", F, y.shape)],
             {}, [({"x": x}, {"y": y})])
    # Pad-11: pads (int64) and constant_value as inputs; here pads come through a Cast from an int32 Constant,
    # as TF converters emit them, so they are known only after constant folding.
    y = np.pad(x, width, mode="constant", constant_values=-2.0)
    nodes = [helper.make_node("Constant", [], ["p32"], value=numpy_helper.from_array(np.array(pads, np.int32))),
             helper.make_node("Cast", ["p32"], ["pads"], to=I64),
             helper.make_node("Pad", ["x", "pads", "cv"], ["y"], mode="constant")]
    save("pad11_inputs", 11, nodes, [("x", F, x.shape)], [("y", F, y.shape)], {"cv": np.array(-2.0, np.float32)},
         [({"x": x}, {"y": y})])
    y = np.pad(x, width, mode="reflect")
    save("pad11_reflect", 11, [helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")], [("x", F, x.shape)],
         [("y", F, y.shape)], {"pads": np.array(pads, np.int64)}, [({"x": x}, {"y": y})])


def resize11():
    x = rand(1, 2, 3, 4)
    empty = np.zeros([0], np.float32)
    # Scales with an empty roi (PyTorch's and tf2onnx's opset 11 nearest upsampling).
    s = np.array([1, 1, 2, 2], np.float32)
    y = resize_nd(x, scaled_shape(x.shape, s), "asymmetric", "nearest", "floor")
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="nearest",
                            coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    save("resize11_nearest_scales", 11, [node], [("x", F, x.shape)], [("y", F, y.shape)], {"roi": empty, "scales": s},
         [({"x": x}, {"y": y})])
    # Sizes with empty roi and empty scales (bilinear, half_pixel and align_corners).
    for coord in ("half_pixel", "pytorch_half_pixel", "align_corners"):
        sizes = np.array([1, 2, 5, 7], np.int64)
        y = resize_nd(x, list(sizes), coord, "linear")
        node = helper.make_node("Resize", ["x", "roi", "scales", "sizes"], ["y"], mode="linear",
                                coordinate_transformation_mode=coord)
        save(f"resize11_linear_sizes_{coord}", 11, [node], [("x", F, x.shape)], [("y", F, y.shape)],
             {"roi": empty, "scales": empty, "sizes": sizes}, [({"x": x}, {"y": y})])


def unsqueeze(opset, name, out, axes, nodes, inits):
    """Unsqueeze with axes as an attribute (< 13) or an input (≥ 13)."""
    if opset < 13:
        nodes.append(helper.make_node("Unsqueeze", [name], [out], axes=axes))
    else:
        inits[out + "_axes"] = np.array(axes, np.int64)
        nodes.append(helper.make_node("Unsqueeze", [name, out + "_axes"], [out]))


def flatten_spatial(opset, cast):
    """x: N×C×H×W (H, W symbolic) → y = Reshape(x, [N, C, -1]) · 2 with [N, C] read off Shape(x).
    With cast, the shape goes through float (Shape→Cast(float)→Gather→Cast(int64)), as TF converters do, and
    the spatial size is computed as H·W in float rather than -1."""
    nodes, inits = [], {}
    nodes.append(helper.make_node("Shape", ["x"], ["shape"]))
    src = "shape"
    if cast:
        nodes.append(helper.make_node("Cast", ["shape"], ["shape_f"], to=F))
        src = "shape_f"
    parts = []
    for i, axis in enumerate([0, 1] + ([2, 3] if cast else [])):
        inits[f"i{axis}"] = np.array(axis, np.int64)  # scalar index: Gather drops the axis → a scalar
        nodes.append(helper.make_node("Gather", [src, f"i{axis}"], [f"d{axis}"], axis=0))
        parts.append(f"d{axis}")
    if cast:
        nodes.append(helper.make_node("Mul", ["d2", "d3"], ["hw_f"]))
        dims = []
        for name in ("d0", "d1", "hw_f"):
            nodes.append(helper.make_node("Cast", [name], [name + "_i"], to=I64))
            unsqueeze(opset, name + "_i", name + "_u", [0], nodes, inits)
            dims.append(name + "_u")
    else:
        dims = []
        for name in parts:
            unsqueeze(opset, name, name + "_u", [0], nodes, inits)
            dims.append(name + "_u")
        inits["minus1"] = np.array([-1], np.int64)
        dims.append("minus1")
    nodes.append(helper.make_node("Concat", dims, ["target"], axis=0))
    nodes.append(helper.make_node("Reshape", ["x", "target"], ["r"]))
    inits["two"] = np.array(2, np.float32)
    nodes.append(helper.make_node("Mul", ["r", "two"], ["y"]))
    # A second output: the computed shape itself (int64), so a wrong value shows even when Reshape would accept it.
    nodes.append(helper.make_node("Identity", ["target"], ["target_out"]))
    runs = []
    for h, w in ((3, 4), (5, 2)):
        x = rand(2, 3, h, w)
        runs.append(({"x": x}, {"y": (x.reshape(2, 3, -1) * 2).astype(np.float32),
                                "target": None}))
        runs[-1][1]["target_out"] = np.array([2, 3, h * w] if cast else [2, 3, -1], np.int64)
        del runs[-1][1]["target"]
    case = f"shape_{'cast_' if cast else ''}reshape_opset{opset}"
    save(case, opset, nodes, [("x", F, ["N", "C", "H", "W"])], [("y", F, ["N", "C", "HW"]), ("target_out", I64, [3])],
         inits, runs)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    upsample()
    slice9()
    pad()
    resize11()
    for opset in (9, 11, 13):
        flatten_spatial(opset, cast=False)
    for opset in (11, 13):
        flatten_spatial(opset, cast=True)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print(f"{len(os.listdir(OUT))} cases, {total / 1024:.1f} KB in {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
