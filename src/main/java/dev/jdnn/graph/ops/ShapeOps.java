package dev.jdnn.graph.ops;

import static dev.jdnn.graph.ops.Ops.*;

import dev.jdnn.Tensor;
import dev.jdnn.graph.Kernel;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Data movement: Constant, Shape, Concat, Flatten, Reshape, Squeeze, Unsqueeze, Gather, Transpose,
 * Pad. They work on float32 and (for shape arithmetic) int64 values alike, by moving elements: a
 * value is read as a flat array, an index map says where each output element comes from.
 */
final class ShapeOps {
    private ShapeOps() {}

    static void register(Map<String, Kernel> k) {
        k.put("Constant", ShapeOps::constant);
        k.put("Shape", (node, shapes, constants, ctx) -> {
            long[] x = shapes.get(0);
            int start = (int) clampAxis(node.attributes().getInt("start", 0), x.length);
            int end = (int) clampAxis(node.attributes().getInt("end", x.length), x.length);
            long[] dims = Arrays.copyOfRange(x, start, Math.max(start, end));
            return step(new long[] {dims.length}, in -> Value.Longs.vector(dims));
        });
        k.put("Concat", ShapeOps::concat);
        k.put("Flatten", (node, shapes, constants, ctx) -> {
            long[] x = shapes.get(0);
            long a = node.attributes().getInt("axis", 1);
            int axis = a == x.length ? x.length : axis(a, x.length, node);
            long outer = 1;
            for (int i = 0; i < axis; i++) outer *= x[i];
            return view(node, new long[] {outer, count(x) / Math.max(1, outer)});
        });
        k.put("Reshape", (node, shapes, constants, ctx) -> view(node, reshape(node, shapes.get(0), constantLongs(constants, 1, node, "shape"))));
        k.put("Squeeze", (node, shapes, constants, ctx) -> {
            long[] axes = ctx.opset() >= 13 ? (node.input(1) == null ? null : constantLongs(constants, 1, node, "axes"))
                    : node.attributes().getInts("axes", null);
            long[] x = shapes.get(0);
            boolean[] drop = new boolean[x.length];
            if (axes == null) {
                for (int i = 0; i < x.length; i++) drop[i] = x[i] == 1;
            } else {
                for (long a : axes) {
                    int ax = axis(a, x.length, node);
                    if (x[ax] != 1) throw error(node, "cannot squeeze axis " + a + " of size " + x[ax]);
                    drop[ax] = true;
                }
            }
            List<Long> out = new ArrayList<>();
            for (int i = 0; i < x.length; i++) if (!drop[i]) out.add(x[i]);
            return view(node, out.stream().mapToLong(Long::longValue).toArray());
        });
        k.put("Unsqueeze", (node, shapes, constants, ctx) -> {
            long[] axes = ctx.opset() >= 13 ? constantLongs(constants, 1, node, "axes") : node.attributes().getInts("axes", null);
            if (axes == null) throw error(node, "axes are required");
            long[] x = shapes.get(0);
            int rank = x.length + axes.length;
            boolean[] inserted = new boolean[rank];
            for (long a : axes) {
                int ax = axis(a, rank, node);
                if (inserted[ax]) throw error(node, "axis " + a + " repeated");
                inserted[ax] = true;
            }
            long[] out = new long[rank];
            for (int i = 0, j = 0; i < rank; i++) out[i] = inserted[i] ? 1 : x[j++];
            return view(node, out);
        });
        k.put("Gather", ShapeOps::gather);
        k.put("Transpose", ShapeOps::transpose);
        k.put("Pad", ShapeOps::pad);
    }

    static long clampAxis(long a, int rank) {
        if (a < 0) a += rank;
        return Math.max(0, Math.min(rank, a));
    }

    static Kernel.Step constant(Node node, List<long[]> shapes, List<Value> constants, Kernel.Context ctx) {
        var at = node.attributes();
        Value value = at.getTensor("value");
        if (value == null && at.has("value_float")) value = result(new float[] {at.getFloat("value_float", 0)}, new long[0]);
        if (value == null && at.has("value_floats")) { float[] f = at.getFloats("value_floats", null); value = result(f, new long[] {f.length}); }
        if (value == null && at.has("value_int")) value = new Value.Longs(new long[0], new long[] {at.getInt("value_int", 0)});
        if (value == null && at.has("value_ints")) value = Value.Longs.vector(at.getInts("value_ints", null));
        if (value == null) throw error(node, "only value, value_float(s) and value_int(s) constants are supported");
        Value v = value;
        return step(v.shape(), in -> ElementwiseOps.copy(v));
    }

    /** The same elements under another shape. */
    static Kernel.Step view(Node node, long[] out) {
        return step(out, in -> {
            Value v = in.get(0);
            if (v instanceof Value.Longs l) return new Value.Longs(out, l.data());
            return new Value.Floats(Tensor.copyOf(floats(in, 0, node).reshape(out)));
        });
    }

    /** ONNX Reshape: 0 copies the input dimension (unless allowzero), one -1 is inferred. */
    static long[] reshape(Node node, long[] x, long[] shape) {
        boolean allowZero = node.attributes().getInt("allowzero", 0) == 1;
        long[] out = shape.clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0 && !allowZero) {
                if (i >= x.length) throw error(node, "shape " + format(shape) + " copies dimension " + i + " that input " + format(x) + " lacks");
                out[i] = x[i];
            }
            if (out[i] == -1) {
                if (inferred >= 0) throw error(node, "shape " + format(shape) + " has more than one -1");
                inferred = i;
            } else if (out[i] < 0) {
                throw error(node, "shape " + format(shape) + " has a negative dimension");
            } else {
                known *= out[i];
            }
        }
        if (inferred >= 0) {
            if (known == 0 || count(x) % known != 0) throw error(node, "cannot reshape " + format(x) + " to " + format(shape));
            out[inferred] = count(x) / known;
        }
        if (count(out) != count(x)) throw error(node, "cannot reshape " + format(x) + " (" + count(x) + " elements) to " + format(out));
        return out;
    }

    /** A step that builds each output element from {@code source[index[i]]} (-1: the fill value). */
    static Kernel.Step gatherStep(Node node, long[] out, int[] index, float fill) {
        return step(out, in -> {
            Value v = in.get(0);
            if (v instanceof Value.Longs l) {
                long[] src = l.data(), dst = new long[index.length];
                for (int i = 0; i < index.length; i++) dst[i] = index[i] < 0 ? (long) fill : src[index[i]];
                return new Value.Longs(out, dst);
            }
            float[] src = floats(in, 0, node).toArray(), dst = new float[index.length];
            for (int i = 0; i < index.length; i++) dst[i] = index[i] < 0 ? fill : src[index[i]];
            return result(dst, out);
        });
    }

    static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    static Kernel.Step concat(Node node, List<long[]> shapes, List<Value> constants, Kernel.Context ctx) {
        long[] first = shapes.get(0);
        if (!node.attributes().has("axis")) throw error(node, "axis is required");
        int axis = axis(node.attributes().getInt("axis", 0), first.length, node);
        long[] out = first.clone();
        out[axis] = 0;
        for (long[] s : shapes) {
            if (s.length != first.length) throw error(node, "inputs differ in rank: " + format(first) + " and " + format(s));
            for (int d = 0; d < s.length; d++) {
                if (d != axis && s[d] != first[d]) throw error(node, "inputs " + format(first) + " and " + format(s) + " differ outside axis " + axis);
            }
            out[axis] += s[axis];
        }
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= first[d];
        for (int d = axis + 1; d < first.length; d++) inner *= first[d];
        long innerOut = out[axis] * inner;
        long o = outer, in = inner;
        return step(out, inputs -> {
            if (inputs.get(0) instanceof Value.Longs) {
                long[] dst = new long[(int) count(out)];
                long offset = 0;
                for (Value v : inputs) {
                    long[] src = ((Value.Longs) v).data();
                    long chunk = v.shape()[axis] * in;
                    for (long a = 0; a < o; a++) System.arraycopy(src, (int) (a * chunk), dst, (int) (a * innerOut + offset), (int) chunk);
                    offset += chunk;
                }
                return new Value.Longs(out, dst);
            }
            Tensor y = Tensor.zeros(out);
            long offset = 0;
            for (int i = 0; i < inputs.size(); i++) {
                Tensor t = floats(inputs, i, node);
                long chunk = t.dim(axis) * in * Float.BYTES;
                for (long a = 0; a < o; a++) {
                    java.lang.foreign.MemorySegment.copy(t.segment(), a * chunk, y.segment(), (a * innerOut) * Float.BYTES + offset, chunk);
                }
                offset += chunk;
            }
            return new Value.Floats(y);
        });
    }

    static Kernel.Step gather(Node node, List<long[]> shapes, List<Value> constants, Kernel.Context ctx) {
        long[] data = shapes.get(0);
        int axis = axis(node.attributes().getInt("axis", 0), data.length, node);
        long[] indices = constantLongs(constants, 1, node, "indices");
        long[] ishape = shapes.get(1);
        long[] out = new long[data.length - 1 + ishape.length];
        System.arraycopy(data, 0, out, 0, axis);
        System.arraycopy(ishape, 0, out, axis, ishape.length);
        System.arraycopy(data, axis + 1, out, axis + ishape.length, data.length - axis - 1);
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= data[d];
        for (int d = axis + 1; d < data.length; d++) inner *= data[d];
        int[] index = new int[(int) count(out)];
        int at = 0;
        for (long a = 0; a < outer; a++) {
            for (long idx : indices) {
                long j = idx < 0 ? idx + data[axis] : idx;
                if (j < 0 || j >= data[axis]) throw error(node, "index " + idx + " is out of range for axis " + axis + " of size " + data[axis]);
                for (long c = 0; c < inner; c++) index[at++] = (int) ((a * data[axis] + j) * inner + c);
            }
        }
        return gatherStep(node, out, index, 0f);
    }

    static Kernel.Step transpose(Node node, List<long[]> shapes, List<Value> constants, Kernel.Context ctx) {
        long[] x = shapes.get(0);
        long[] perm = node.attributes().getInts("perm", null);
        if (perm == null) {
            perm = new long[x.length];
            for (int i = 0; i < x.length; i++) perm[i] = x.length - 1 - i;
        }
        if (perm.length != x.length) throw error(node, "perm " + format(perm) + " does not match rank " + x.length);
        long[] out = new long[x.length];
        boolean[] seen = new boolean[x.length];
        for (int i = 0; i < x.length; i++) {
            int p = axis(perm[i], x.length, node);
            if (seen[p]) throw error(node, "perm " + format(perm) + " is not a permutation");
            seen[p] = true;
            out[i] = x[p];
        }
        long[] inStrides = strides(x);
        int[] index = new int[(int) count(out)];
        long[] coord = new long[out.length];
        for (int i = 0; i < index.length; i++) {
            long offset = 0;
            for (int d = 0; d < out.length; d++) offset += coord[d] * inStrides[(int) perm[d]];
            index[i] = (int) offset;
            for (int d = out.length - 1; d >= 0; d--) {
                if (++coord[d] < out[d]) break;
                coord[d] = 0;
            }
        }
        return gatherStep(node, out, index, 0f);
    }

    /** Pad: constant (with a value), reflect or edge; pads are [begin per axis..., end per axis...], negative crops. */
    static Kernel.Step pad(Node node, List<long[]> shapes, List<Value> constants, Kernel.Context ctx) {
        long[] x = shapes.get(0);
        long[] pads;
        float value;
        if (ctx.opset() >= 11) {
            pads = constantLongs(constants, 1, node, "pads");
            value = constantScalar(constants, shapes, 2, node, "constant_value", 0f);
            if (node.input(3) != null) throw error(node, "the axes input is not supported");
        } else {
            pads = node.attributes().getInts("pads", null);
            value = node.attributes().getFloat("value", 0f);
        }
        if (pads == null || pads.length != 2 * x.length) throw error(node, "pads must have " + 2 * x.length + " values");
        String mode = node.attributes().getString("mode", "constant");
        if (!mode.equals("constant") && !mode.equals("reflect") && !mode.equals("edge")) throw error(node, "mode " + mode + " is not supported");
        int rank = x.length;
        long[] out = new long[rank];
        for (int d = 0; d < rank; d++) {
            out[d] = x[d] + pads[d] + pads[d + rank];
            if (out[d] < 0) throw error(node, "pads " + format(pads) + " crop axis " + d + " below zero");
            if (mode.equals("reflect") && (pads[d] >= x[d] || pads[d + rank] >= x[d]) && (pads[d] > 0 || pads[d + rank] > 0)) {
                throw error(node, "reflect padding must be smaller than the axis (" + x[d] + ")");
            }
        }
        long[] inStrides = strides(x);
        int[] index = new int[(int) count(out)];
        long[] coord = new long[rank];
        for (int i = 0; i < index.length; i++) {
            long offset = 0;
            boolean outside = false;
            for (int d = 0; d < rank; d++) {
                long c = coord[d] - pads[d];
                if (c < 0 || c >= x[d]) {
                    switch (mode) {
                        case "edge" -> c = c < 0 ? 0 : x[d] - 1;
                        case "reflect" -> c = c < 0 ? -c : 2 * (x[d] - 1) - c;
                        default -> outside = true;
                    }
                }
                offset += c * inStrides[d];
            }
            index[i] = outside ? -1 : (int) offset;
            for (int d = rank - 1; d >= 0; d--) {
                if (++coord[d] < out[d]) break;
                coord[d] = 0;
            }
        }
        return gatherStep(node, out, index, value);
    }
}
