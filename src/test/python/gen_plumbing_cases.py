#!/usr/bin/python3
"""Node tests for the tensor plumbing ops (Slice, Split, Cast, CastLike, Expand, Tile, ConstantOfShape, Range,
Size, NonZero, Shape) on every element type jdnn holds, with numpy as the oracle (not ONNX's reference).

Run from the repository root:  /usr/bin/python3 src/test/python/gen_plumbing_cases.py
Writes src/test/resources/fixtures/plumbing/<case>/ in the layout of ONNX's backend node tests:
    model.onnx                 one node (or a small chain), inputs that must be constants are initializers
    test_data_set_0/input_<i>.pb, output_<i>.pb

Numpy's slicing, np.split, astype (x86-64: float -> int out of range or NaN gives the type's minimum, int8/uint8
via int32), broadcasting, np.tile, np.arange and np.nonzero compute the expected outputs.
"""
import os
import shutil
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures", "plumbing")
I64_MAX = np.iinfo(np.int64).max
I64_MIN = np.iinfo(np.int64).min
RNG = np.random.default_rng(20240607)
TYPES = {np.float32: TensorProto.FLOAT, np.int64: TensorProto.INT64, np.int32: TensorProto.INT32,
         np.int8: TensorProto.INT8, np.uint8: TensorProto.UINT8, np.bool_: TensorProto.BOOL}


def onnx_type(a):
    return TYPES[a.dtype.type]


def data(shape, dtype):
    if dtype == np.float32:
        return RNG.standard_normal(shape).astype(np.float32)
    if dtype == np.bool_:
        return RNG.integers(0, 2, shape).astype(np.bool_)
    info = np.iinfo(dtype)
    return RNG.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)


def write(name, nodes, inputs, outputs, opset, initializers=()):
    """inputs/outputs: lists of (name, array); initializers: (name, array) folded at prepare time."""
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, onnx_type(a), a.shape) for n, a in inputs],
        [helper.make_tensor_value_info(n, onnx_type(a), a.shape) for n, a in outputs],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="jdnn-plumbing")
    model.ir_version = 8
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, (n, a) in enumerate(inputs):
        onnx.save_tensor(numpy_helper.from_array(a, n), os.path.join(d, "test_data_set_0", f"input_{i}.pb"))
    for i, (n, a) in enumerate(outputs):
        onnx.save_tensor(numpy_helper.from_array(np.asarray(a), n), os.path.join(d, "test_data_set_0", f"output_{i}.pb"))


def numpy_slice(x, starts, ends, axes, steps):
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        index[a] = slice(int(s), int(e), int(st))
    return x[tuple(index)]


def slices():
    cases = [
        # name, shape, dtype, starts, ends, axes (None: omitted), steps (None: omitted)
        ("slice_basic_f32", (4, 5, 6), np.float32, [1, 0], [3, I64_MAX], [0, 2], [1, 2]),
        ("slice_reverse_f32", (3, 7), np.float32, [-1], [I64_MIN], [1], [-1]),
        ("slice_neg_step2_clamped_f32", (3, 9), np.float32, [100], [-100], [-1], [-2]),
        ("slice_neg_axes_starts_f32", (2, 6, 5), np.float32, [-4, -3], [-1, 100], [-2, -1], None),
        ("slice_empty_f32", (4, 5), np.float32, [3], [1], [0], None),
        ("slice_step_over_dim_f32", (3, 4), np.float32, [1], [3], [1], [5]),
        ("slice_default_axes_steps_f32", (5, 4, 3), np.float32, [1, 1], [4, -1], None, None),
        ("slice_channels_nchw_f32", (2, 8, 5, 5), np.float32, [4], [8], [1], None),
        ("slice_hw_step2_nchw_f32", (1, 3, 8, 8), np.float32, [1, 0], [8, 7], [2, 3], [2, 3]),
        ("slice_neg_steps_4d_f32", (2, 4, 3, 5), np.float32, [3, -1, 4], [0, -10, 0], [1, 2, 3], [-1, -2, -3]),
        ("slice_int64", (6, 4), np.int64, [5, 3], [0, I64_MIN], [0, 1], [-2, -1]),
        ("slice_int32", (4, 6), np.int32, [0, 1], [4, 6], [0, 1], [3, 2]),
        ("slice_int8", (10,), np.int8, [-3], [-10], [0], [-3]),
        ("slice_uint8", (3, 4, 5), np.uint8, [1], [3], [2], None),
        ("slice_bool", (5, 5), np.bool_, [0, 4], [5, 0], [0, 1], [2, -1]),
    ]
    for name, shape, dtype, starts, ends, axes, steps in cases:
        x = data(shape, dtype)
        ax = axes if axes is not None else list(range(len(starts)))
        st = steps if steps is not None else [1] * len(starts)
        y = numpy_slice(x, starts, ends, [a % x.ndim for a in ax], st)
        inits = [("starts", np.array(starts, np.int64)), ("ends", np.array(ends, np.int64))]
        names = ["x", "starts", "ends"]
        if axes is not None:
            inits.append(("axes", np.array(axes, np.int64)))
            names.append("axes")
        if steps is not None:
            if axes is None:
                names.append("")
            inits.append(("steps", np.array(steps, np.int64)))
            names.append("steps")
        write(name, [helper.make_node("Slice", names, ["y"])], [("x", x)], [("y", y)], 13, inits)
    # int32 starts/ends/axes/steps (allowed by the spec)
    x = data((6, 6), np.float32)
    write("slice_int32_indices_f32", [helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"])],
          [("x", x)], [("y", x[5:0:-2, 1:4])], 13,
          [("starts", np.array([5, 1], np.int32)), ("ends", np.array([0, 4], np.int32)),
           ("axes", np.array([0, 1], np.int32)), ("steps", np.array([-2, 1], np.int32))])
    # opset 9: attributes, no steps
    x = data((4, 6, 3), np.float32)
    write("slice_opset9_attrs_f32", [helper.make_node("Slice", ["x"], ["y"], starts=[1, -4], ends=[100, -1], axes=[0, 1])],
          [("x", x)], [("y", x[1:100, -4:-1])], 9)
    x = data((4, 6), np.int64)
    write("slice_opset7_default_axes_int64", [helper.make_node("Slice", ["x"], ["y"], starts=[1, 2], ends=[3, 100])],
          [("x", x)], [("y", x[1:3, 2:100])], 7)
    # native chain: relu -> slice -> relu (the slice sits between oneDNN primitives)
    x = data((1, 6, 7, 7), np.float32)
    y = np.maximum(np.maximum(x, 0)[:, 1:5, ::2, 6:0:-1], 0)
    write("slice_between_relus_f32", [helper.make_node("Relu", ["x"], ["r"]),
                                     helper.make_node("Slice", ["r", "starts", "ends", "axes", "steps"], ["s"]),
                                     helper.make_node("Relu", ["s"], ["y"])],
          [("x", x)], [("y", y)], 13,
          [("starts", np.array([1, 0, 6], np.int64)), ("ends", np.array([5, 7, 0], np.int64)),
           ("axes", np.array([1, 2, 3], np.int64)), ("steps", np.array([1, 2, -1], np.int64))])


def splits():
    def case(name, x, axis, sizes, opset, split_as=None, num_outputs=None, attrs_axis=True):
        parts = np.split(x, np.cumsum(sizes)[:-1], axis=axis)
        outs = [(f"y{i}", p) for i, p in enumerate(parts)]
        kwargs = {}
        if attrs_axis:
            kwargs["axis"] = axis
        inputs = ["x"]
        inits = []
        if split_as == "attr":
            kwargs["split"] = list(sizes)
        elif split_as == "input":
            inputs.append("split")
            inits.append(("split", np.array(sizes, np.int64)))
        if num_outputs is not None:
            kwargs["num_outputs"] = num_outputs
        write(name, [helper.make_node("Split", inputs, [n for n, _ in outs], **kwargs)], [("x", x)], outs, opset, inits)

    case("split_input_f32", data((3, 6, 2), np.float32), 1, [2, 3, 1], 13, "input")
    case("split_attr_neg_axis_f32", data((2, 3, 7), np.float32), -1, [4, 0, 3], 11, "attr")
    case("split_equal_channels_nchw_f32", data((2, 8, 3, 3), np.float32), 1, [4, 4], 13)
    case("split_equal_default_axis_f32", data((6, 2), np.float32), 0, [2, 2, 2], 7, attrs_axis=False)
    case("split_opset18_uneven_f32", data((2, 8), np.float32), 1, [3, 3, 2], 18, num_outputs=3)
    case("split_opset18_uneven4_int64", data((10, 3), np.int64), 0, [3, 3, 3, 1], 18, num_outputs=4)
    case("split_opset18_input_int32", data((4, 5), np.int32), 1, [1, 4], 18, "input")
    case("split_int8", data((6, 2), np.int8), 0, [1, 5], 13, "input")
    case("split_uint8", data((2, 6), np.uint8), 1, [3, 3], 12)
    case("split_bool", data((4, 4), np.bool_), 1, [2, 2], 13)
    case("split_zero_part_int64", data((5,), np.int64), 0, [0, 5, 0], 13, "input")
    # ShuffleNetV2 unit: split channels, relu one half, concat, channel shuffle
    x = data((1, 8, 4, 4), np.float32)
    a, b = np.split(x, 2, axis=1)
    c = np.concatenate([a, np.maximum(b, 0)], axis=1)
    y = c.reshape(1, 2, 4, 4, 4).transpose(0, 2, 1, 3, 4).reshape(1, 8, 4, 4)
    write("split_shufflenet_unit_f32",
          [helper.make_node("Split", ["x"], ["a", "b"], axis=1),
           helper.make_node("Relu", ["b"], ["rb"]),
           helper.make_node("Concat", ["a", "rb"], ["c"], axis=1),
           helper.make_node("Reshape", ["c", "s1"], ["r"]),
           helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
           helper.make_node("Reshape", ["t", "s2"], ["y"])],
          [("x", x)], [("y", y)], 13, [("s1", np.array([1, 2, 4, 4, 4], np.int64)), ("s2", np.array([1, 8, 4, 4], np.int64))])


def casts():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        special = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 1e20, -1e20, 300.7, -300.7, 255.9, -1.9, 2.5, -0.5,
                            -0.0, 0.0, 128.0, -129.0, 2147483520.0, -2147483648.0, 9.2233715e18], np.float32)
        targets = [np.int64, np.int32, np.int8, np.uint8, np.bool_, np.float32]
        for t in targets:
            name = np.dtype(t).name
            write(f"cast_float_to_{name}", [helper.make_node("Cast", ["x"], ["y"], to=TYPES[t])],
                  [("x", special)], [("y", special.astype(t))], 13)
        ints = {
            np.int64: np.array([0, 1, -1, 127, 128, 255, 256, -129, 2**31, -2**31 - 1, 2**53 + 1, I64_MAX, I64_MIN,
                                16777217, -16777219], np.int64),
            np.int32: np.array([0, 1, -1, 127, 128, 255, 256, -129, 2**31 - 1, -2**31, 16777217, 33554435], np.int32),
            np.int8: np.array([0, 1, -1, 127, -128, 5], np.int8),
            np.uint8: np.array([0, 1, 127, 128, 255, 5], np.uint8),
            np.bool_: np.array([True, False, True], np.bool_),
        }
        for src, x in ints.items():
            for t in targets:
                if t == src:
                    continue
                write(f"cast_{np.dtype(src).name}_to_{np.dtype(t).name}", [helper.make_node("Cast", ["x"], ["y"], to=TYPES[t])],
                      [("x", x)], [("y", x.astype(t))], 13)
        x = data((2, 3), np.float32) * 100
        write("cast_opset9_float_to_int32", [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT32)],
              [("x", x)], [("y", x.astype(np.int32))], 9)
        write("cast_opset19_saturate_float_to_int8", [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.INT8, saturate=1)],
              [("x", x)], [("y", x.astype(np.int8))], 19)
        # CastLike: the target type is input 1's (an initializer here)
        write("castlike_float_to_int32", [helper.make_node("CastLike", ["x", "like"], ["y"])],
              [("x", x)], [("y", x.astype(np.int32))], 15, [("like", np.array([1], np.int32))])
        xi = data((3, 2), np.int64)
        write("castlike_int64_to_float", [helper.make_node("CastLike", ["x", "like"], ["y"])],
              [("x", xi)], [("y", xi.astype(np.float32))], 15, [("like", np.array([0.5], np.float32))])
        write("castlike_opset19_uint8_to_bool", [helper.make_node("CastLike", ["x", "like"], ["y"], saturate=1)],
              [("x", ints[np.uint8])], [("y", ints[np.uint8].astype(np.bool_))], 19, [("like", np.array([True]))])


def expands_and_tiles():
    for name, shape, dtype, target in [
        ("expand_3x1_to_2x1x6_f32", (3, 1), np.float32, (2, 1, 6)),
        ("expand_bidirectional_f32", (1, 3), np.float32, (3, 1)),
        ("expand_same_f32", (2, 3), np.float32, (2, 3)),
        ("expand_scalar_int64", (), np.int64, (2, 3)),
        ("expand_lastdim_int32", (2, 1), np.int32, (2, 5)),
        ("expand_nchw_f32", (1, 4, 1, 1), np.float32, (2, 4, 3, 3)),
        ("expand_bool", (1, 2), np.bool_, (3, 2)),
        ("expand_uint8_to_empty", (3, 1), np.uint8, (0, 3, 1)),
    ]:
        x = data(shape, dtype)
        y = x * np.ones(target, dtype) if dtype != np.bool_ else np.logical_and(x, np.ones(target, np.bool_))
        write(name, [helper.make_node("Expand", ["x", "shape"], ["y"])], [("x", x)], [("y", y.astype(dtype))], 13,
              [("shape", np.array(target, np.int64))])
    for name, shape, dtype, reps in [
        ("tile_2d_f32", (2, 3), np.float32, (2, 3)),
        ("tile_3d_int32", (2, 2, 3), np.int32, (1, 2, 1)),
        ("tile_nchw_f32", (1, 2, 3, 3), np.float32, (2, 1, 2, 1)),
        ("tile_zero_int64", (2, 3), np.int64, (0, 2)),
        ("tile_bool", (2,), np.bool_, (3,)),
        ("tile_int8", (3, 1), np.int8, (1, 4)),
    ]:
        x = data(shape, dtype)
        write(name, [helper.make_node("Tile", ["x", "repeats"], ["y"])], [("x", x)], [("y", np.tile(x, reps))], 13,
              [("repeats", np.array(reps, np.int64))])


def generators():
    # ConstantOfShape: the shape is an initializer, or computed from a Shape (folded at prepare time).
    for name, shape, value in [
        ("constantofshape_default_float", [2, 3], None),
        ("constantofshape_int64_value", [3, 1, 2], np.array([-7], np.int64)),
        ("constantofshape_int32_value", [4], np.array([5], np.int32)),
        ("constantofshape_bool_value", [2, 2], np.array([True])),
        ("constantofshape_uint8_value", [1, 3], np.array([200], np.uint8)),
        ("constantofshape_scalar_float", [], np.array([2.5], np.float32)),
        ("constantofshape_empty_int8", [2, 0], np.array([3], np.int8)),
    ]:
        v = value if value is not None else np.array([0], np.float32)
        y = np.full(shape, v[0], v.dtype)
        kwargs = {} if value is None else {"value": numpy_helper.from_array(value, "value")}
        x = data((1,), np.float32)
        # y is added to nothing: the graph's one runtime input x feeds an Identity so the graph has an input
        write(name, [helper.make_node("ConstantOfShape", ["shape"], ["y"], **kwargs), helper.make_node("Identity", ["x"], ["xi"])],
              [("x", x)], [("y", y), ("xi", x)], 13, [("shape", np.array(shape, np.int64))])
    x = data((2, 5, 3), np.float32)
    write("constantofshape_from_shape", [helper.make_node("Shape", ["x"], ["s"]),
                                        helper.make_node("ConstantOfShape", ["s"], ["y"], value=numpy_helper.from_array(np.array([1], np.int64), "v"))],
          [("x", x)], [("y", np.ones((2, 5, 3), np.int64))], 13)
    for name, start, limit, delta in [
        ("range_float", np.float32(1.5), np.float32(7.0), np.float32(0.5)),
        ("range_float_negative", np.float32(3.0), np.float32(-2.1), np.float32(-0.7)),
        ("range_int64", np.int64(-5), np.int64(20), np.int64(4)),
        ("range_int32_negative", np.int32(10), np.int32(-3), np.int32(-3)),
        ("range_int64_empty", np.int64(5), np.int64(1), np.int64(2)),
    ]:
        y = np.arange(start, limit, delta, dtype=start.dtype)
        if start.dtype == np.float32:  # ONNX's loop: start + i*delta in float32
            y = np.array([start + np.float32(i) * delta for i in range(len(y))], np.float32)
        x = data((1,), np.float32)
        write(name, [helper.make_node("Range", ["start", "limit", "delta"], ["y"]), helper.make_node("Identity", ["x"], ["xi"])],
              [("x", x)], [("y", y), ("xi", x)], 11,
              [("start", np.array(start)), ("limit", np.array(limit)), ("delta", np.array(delta))])
    for name, shape, dtype in [("size_f32", (2, 3, 4), np.float32), ("size_int8_empty", (3, 0), np.int8),
                               ("size_bool_scalar", (), np.bool_)]:
        x = data(shape, dtype)
        write(name, [helper.make_node("Size", ["x"], ["y"])], [("x", x)], [("y", np.array(x.size, np.int64))], 13)
    for name, x in [("nonzero_f32", np.array([[0, 1.5, 0], [np.nan, 0, -2]], np.float32)),
                    ("nonzero_int32_3d", np.array([[[0, 3], [0, 0]], [[1, 0], [0, -4]]], np.int32)),
                    ("nonzero_bool_none", np.zeros((2, 3), np.bool_))]:
        z = data((1,), np.float32)
        write(name, [helper.make_node("NonZero", ["c"], ["y"]), helper.make_node("Identity", ["z"], ["zi"])],
              [("z", z)], [("y", np.array(np.nonzero(x), np.int64).reshape(x.ndim, -1)), ("zi", z)], 13, [("c", x)])
    for name, shape, dtype, start, end in [("shape_start_end_int8", (2, 3, 4, 5), np.int8, 1, -1),
                                           ("shape_clamped_bool", (2, 3), np.bool_, -10, 10),
                                           ("shape_empty_range_f32", (2, 3, 4), np.float32, 2, 1)]:
        x = data(shape, dtype)
        s = start + len(shape) if start < 0 else start
        e = end + len(shape) if end < 0 else end
        s, e = max(0, min(len(shape), s)), max(0, min(len(shape), e))
        write(name, [helper.make_node("Shape", ["x"], ["y"], start=start, end=end)], [("x", x)],
              [("y", np.array(shape, np.int64)[s:max(s, e)])], 15)


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    slices()
    splits()
    casts()
    expands_and_tiles()
    generators()
    print(len(os.listdir(OUT)), "cases in", os.path.normpath(OUT))
