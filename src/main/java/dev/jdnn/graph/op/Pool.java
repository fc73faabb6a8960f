package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * MaxPool, AveragePool, LpPool and their Global forms over {@code N×C×D1…Dk → N×C×O1…Ok}, 1-D to 3-D:
 * <ul>
 *   <li>kernel_shape, strides, pads / auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID), dilations
 *       (MaxPool 10+, AveragePool 19+, LpPool 18+), ceil_mode (MaxPool/AveragePool 10+, LpPool 18+);</li>
 *   <li>AveragePool count_include_pad (7+): the divisor counts the padding taps, but not ceil_mode's
 *       overhang past the end padding (as ONNX Runtime and PyTorch; a window with no input tap gives 0);</li>
 *   <li>MaxPool's optional Indices output (8+, int64): the flat index into X of the maximum (the first one
 *       in row-major order on ties), row-major within the plane for storage_order 0, column-major
 *       (first spatial axis fastest) for storage_order 1, plus the plane offset {@code (n·C + c)·D1·…·Dk};
 *       MaxPool also runs on int8/uint8 (12+);</li>
 *   <li>LpPool {@code (Σ|x|^p)^(1/p)} over the input taps (padding adds nothing), p an int (2+) or
 *       float (opset 1); GlobalLpPool likewise over all of a plane.</li>
 * </ul>
 * Output size per axis: {@code ⌊(D + pb + pe − ((k−1)·d+1)) / s⌋ + 1} (⌈⌉ with ceil_mode, dropping a last
 * window that would start past the begin padding and the input, as the ONNX reference and PyTorch do).
 * The Java reference is plain loops in double; compiled plans run float MaxPool/AveragePool (without
 * Indices) and GlobalMaxPool/GlobalAveragePool as oneDNN pooling in the producer's layout.
 */
public final class Pool implements Op {
    enum Kind { MAX, AVERAGE, LP }

    private final String type;
    private final Kind kind;
    private final boolean global;

    private Pool(String type, Kind kind, boolean global) {
        this.type = type;
        this.kind = kind;
        this.global = global;
    }

    static void register(Registry.Table t) {
        t.add("MaxPool", 1, new Pool("MaxPool", Kind.MAX, false));
        t.add("AveragePool", 1, new Pool("AveragePool", Kind.AVERAGE, false));
        t.add("LpPool", 1, new Pool("LpPool", Kind.LP, false));
        t.add("GlobalMaxPool", 1, new Pool("GlobalMaxPool", Kind.MAX, true));
        t.add("GlobalAveragePool", 1, new Pool("GlobalAveragePool", Kind.AVERAGE, true));
        t.add("GlobalLpPool", 1, new Pool("GlobalLpPool", Kind.LP, true));
    }

    /**
     * A pool's checked geometry; spatial arrays have one value per spatial axis. {@code padBegin/padEnd}
     * are ONNX's (auto_pad resolved); the output may need windows past padEnd (ceil_mode's overhang).
     */
    record Geometry(long[] x, long[] kernel, long[] strides, long[] dilations, long[] padBegin, long[] padEnd, long[] out,
                    boolean includePad, double p, int storageOrder) {
        int spatial() {
            return kernel.length;
        }

        long[] outputShape() {
            long[] s = new long[x.length];
            s[0] = x[0];
            s[1] = x[1];
            System.arraycopy(out, 0, s, 2, out.length);
            return s;
        }

        long extent(int i) {
            return (kernel[i] - 1) * dilations[i] + 1;
        }
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        DataType t = in.type(0);
        boolean integers = t == DataType.INT8 || t == DataType.UINT8;
        if (t != DataType.FLOAT && !(kind == Kind.MAX && !global && integers)) {
            throw error(node, "X of type " + t.onnxName() + " is not supported; jdnn runs " + type + " on float32"
                    + (kind == Kind.MAX && !global ? ", int8 and uint8" : ""));
        }
        Geometry g = geometry(node, x, ctx.opset());
        boolean indices = node.outputs().size() > 1;
        if (node.outputs().size() > (kind == Kind.MAX && !global ? 2 : 1)) throw error(node, "has " + node.outputs().size() + " outputs; " + type + " has at most " + (kind == Kind.MAX && !global ? 2 : 1));
        long[] out = g.outputShape();
        List<long[]> shapes = new ArrayList<>(List.of(out));
        List<DataType> types = new ArrayList<>(List.of(t));
        if (indices) {
            shapes.add(out);
            types.add(DataType.INT64);
        }
        return step(shapes, types, inputs -> {
            Value v = inputs.get(0);
            double[] src;
            if (v instanceof Value.Longs l) {
                long[] data = l.view();
                src = new double[data.length];
                for (int i = 0; i < data.length; i++) src[i] = data[i];
            } else {
                float[] f = floats(inputs, 0, node).toArray();
                src = new double[f.length];
                for (int i = 0; i < f.length; i++) src[i] = f[i];
            }
            long[] idx = indices ? new long[arraySize(out, node)] : null;
            double[] y = reference(kind, g, src, idx);
            List<Value> result = new ArrayList<>();
            if (v instanceof Value.Longs l) {
                long[] data = new long[y.length];
                for (int i = 0; i < y.length; i++) data[i] = (long) y[i];
                result.add(result(l.type(), data, out));
            } else {
                float[] data = new float[y.length];
                for (int i = 0; i < y.length; i++) data[i] = (float) y[i];
                result.add(result(data, out));
            }
            if (indices) result.add(result(DataType.INT64, idx, out));
            return result;
        });
    }

    /** Parses and checks the attributes; a Global pool is a pool whose kernel is the whole plane. */
    Geometry geometry(Node node, long[] x, int opset) {
        if (x.length < 3) throw error(node, "X " + format(x) + " must be N×C×spatial… (rank >= 3)");
        if (x.length > 5) throw error(node, type + " with " + (x.length - 2) + " spatial axes is not supported (jdnn pools 1-D, 2-D and 3-D)");
        int spatial = x.length - 2;
        double p = kind == Kind.LP ? lpNorm(node) : 0;
        if (global) {
            long[] kernel = Arrays.copyOfRange(x, 2, x.length);
            long[] ones = new long[spatial], zeros = new long[spatial];
            Arrays.fill(ones, 1);
            long[] out = ones.clone();
            for (long d : kernel) if (d < 1) throw error(node, "X " + format(x) + " has an empty plane");
            return new Geometry(x, kernel, ones, ones.clone(), zeros, zeros.clone(), out, false, p, 0);
        }
        long[] kernel = node.attributes().getInts("kernel_shape", null);
        if (kernel == null) throw error(node, "kernel_shape is required");
        if (kernel.length != spatial) throw error(node, "kernel_shape " + format(kernel) + " must have " + spatial + " values for X " + format(x));
        Checks.positive(node, "kernel_shape", kernel);
        long[] strides = Checks.positive(node, "strides", ints(node, "strides", spatial, 1));
        long[] dilations = Checks.positive(node, "dilations", ints(node, "dilations", spatial, 1));
        long ceilMode = Checks.flag(node, "ceil_mode", node.attributes().getInt("ceil_mode", 0)) ? 1 : 0;
        long includePad = Checks.flag(node, "count_include_pad", node.attributes().getInt("count_include_pad", 0)) ? 1 : 0;
        long storageOrder = Checks.flag(node, "storage_order", node.attributes().getInt("storage_order", 0)) ? 1 : 0;
        long[] pads = Checks.nonNegative(node, "pads", Conv.pads(node, x, kernel, strides, dilations));
        Checks.poolPads(node, pads, kernel, dilations);
        long[] padBegin = Arrays.copyOfRange(pads, 0, spatial), padEnd = Arrays.copyOfRange(pads, spatial, 2 * spatial);
        long[] out = new long[spatial];
        for (int i = 0; i < spatial; i++) {
            long extent = Math.addExact(Math.multiplyExact(kernel[i] - 1, dilations[i]), 1);
            long span = x[i + 2] + padBegin[i] + padEnd[i] - extent;
            if (span < 0) {
                throw error(node, "kernel_shape " + format(kernel) + " (dilated extent " + extent + ") is larger than the padded input "
                        + (x[i + 2] + padBegin[i] + padEnd[i]) + " on spatial axis " + i);
            }
            out[i] = (ceilMode == 1 ? Math.ceilDiv(span, strides[i]) : Math.floorDiv(span, strides[i])) + 1;
            // The last window must start inside the input or the begin padding (ONNX reference, PyTorch, ONNX Runtime).
            if (ceilMode == 1 && (out[i] - 1) * strides[i] >= x[i + 2] + padBegin[i]) out[i]--;
        }
        Geometry g = new Geometry(x, kernel, strides, dilations, padBegin, padEnd, out, includePad == 1, p, (int) storageOrder);
        arraySize(g.outputShape(), node);
        return g;
    }

    /** LpPool's p: an int from opset 2 on, a float in opset 1; must be positive. */
    private static double lpNorm(Node node) {
        double p;
        try {
            p = node.attributes().getInt("p", 2);
        } catch (IllegalArgumentException notInt) {
            p = node.attributes().getFloat("p", 2f);
        }
        if (!(p > 0) || Double.isInfinite(p)) throw error(node, "p " + p + " must be positive");
        return p;
    }

    /**
     * The reference over N·C planes. Each spatial axis is padded to three (leading sizes of 1); per axis
     * and output index the input taps {@code o·s − pb + j·d} that fall inside the input form an arithmetic
     * progression, kept as its first tap and count (memory O(outputs), whatever the kernel: a list of taps
     * per output would be quadratic in the axis length for a kernel as long as the input).
     */
    static double[] reference(Kind kind, Geometry g, double[] src, long[] indices) {
        int sp = g.spatial();
        long[] x = g.x();
        int[] in3 = new int[3], out3 = new int[3], step = new int[3];
        int[][] firstTap = new int[3][], tapCount = new int[3][];
        int[][] padCount = new int[3][];
        for (int a = 0; a < 3; a++) {
            int d = a - (3 - sp);
            in3[a] = d < 0 ? 1 : (int) x[d + 2];
            out3[a] = d < 0 ? 1 : (int) g.out()[d];
            step[a] = d < 0 ? 1 : (int) g.dilations()[d];
            firstTap[a] = new int[out3[a]];
            tapCount[a] = new int[out3[a]];
            padCount[a] = new int[out3[a]];
            for (int o = 0; o < out3[a]; o++) {
                if (d < 0) {
                    tapCount[a][o] = 1;
                    padCount[a][o] = 1;
                    continue;
                }
                long start = o * g.strides()[d] - g.padBegin()[d], dil = g.dilations()[d], k = g.kernel()[d];
                long limit = x[d + 2] + g.padEnd()[d]; // taps at or past this are ceil_mode's overhang
                long jLo = start >= 0 ? 0 : Math.ceilDiv(-start, dil);                            // first j with a tap ≥ 0
                long jHi = Math.min(k, Math.max(0, Math.ceilDiv(x[d + 2] - start, dil)));        // taps < input size
                firstTap[a][o] = (int) Math.max(0, start + jLo * dil);
                tapCount[a][o] = (int) Math.max(0, jHi - jLo);
                padCount[a][o] = (int) Math.min(k, Math.max(0, Math.ceilDiv(limit - start, dil)));  // taps < limit
            }
        }
        // Indices: offset of (i0, i1, i2) within a plane, row-major or column-major over the real spatial axes.
        long[] stride3 = new long[3];
        for (int a = 0; a < 3; a++) {
            int d = a - (3 - sp);
            if (d < 0) continue;
            long s = 1;
            if (g.storageOrder() == 0) for (int e = d + 1; e < sp; e++) s *= x[e + 2];
            else for (int e = 0; e < d; e++) s *= x[e + 2];
            stride3[a] = s;
        }
        int planes = (int) (x[0] * x[1]);
        int inPlane = in3[0] * in3[1] * in3[2], outPlane = out3[0] * out3[1] * out3[2];
        double[] y = new double[planes * outPlane];
        double p = g.p();
        for (int plane = 0; plane < planes; plane++) {
            int base = plane * inPlane;
            for (int o0 = 0; o0 < out3[0]; o0++) {
                for (int o1 = 0; o1 < out3[1]; o1++) {
                    for (int o2 = 0; o2 < out3[2]; o2++) {
                        double acc = kind == Kind.MAX ? Double.NEGATIVE_INFINITY : 0;
                        long best = -1;
                        int n = 0;
                        for (int t0 = 0, i0 = firstTap[0][o0]; t0 < tapCount[0][o0]; t0++, i0 += step[0]) {
                            for (int t1 = 0, i1 = firstTap[1][o1]; t1 < tapCount[1][o1]; t1++, i1 += step[1]) {
                                for (int t2 = 0, i2 = firstTap[2][o2]; t2 < tapCount[2][o2]; t2++, i2 += step[2]) {
                                    double v = src[base + (i0 * in3[1] + i1) * in3[2] + i2];
                                    switch (kind) {
                                        case MAX -> {
                                            if (best < 0 || v > acc || (Double.isNaN(v) && !Double.isNaN(acc))) {
                                                acc = v;
                                                best = i0 * stride3[0] + i1 * stride3[1] + i2 * stride3[2];
                                            }
                                        }
                                        case AVERAGE -> acc += v;
                                        case LP -> acc += p == 2 ? v * v : Math.pow(Math.abs(v), p);
                                    }
                                    n++;
                                }
                            }
                        }
                        int at = plane * outPlane + (o0 * out3[1] + o1) * out3[2] + o2;
                        switch (kind) {
                            case MAX -> {
                                y[at] = acc;
                                if (indices != null) indices[at] = best < 0 ? -1 : (long) plane * inPlane + best;
                            }
                            case AVERAGE -> {
                                int divisor = g.includePad() ? padCount[0][o0] * padCount[1][o1] * padCount[2][o2] : n;
                                y[at] = n == 0 ? 0 : acc / divisor;
                            }
                            case LP -> y[at] = p == 2 ? Math.sqrt(acc) : p == 1 ? acc : Math.pow(acc, 1 / p);
                        }
                    }
                }
            }
        }
        return y;
    }

    /**
     * oneDNN pooling in the producer's layout: float MaxPool/AveragePool without Indices, and
     * GlobalMaxPool/GlobalAveragePool. The end padding passed to oneDNN is what makes the output size
     * exact (ceil_mode's overhang included); it is −∞ for max and excluded for average, or counted
     * (average with count_include_pad) only where oneDNN's padded area is ONNX's (no overhang).
     * Dilation counts from 0 in oneDNN.
     */
    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        long[] x = in.shape(0);
        if (kind == Kind.LP || in.type(0) != DataType.FLOAT || node.outputs().size() > 1) return null;
        if (lowering.runtimeDescs().size() != 1 || in.isConstant(0)) return null;
        Geometry g = geometry(node, x, lowering.context().opset());
        long[] out = g.outputShape();
        if (!Primitives.nativeShape(x) || !Primitives.nativeShape(out)) return null;
        int sp = g.spatial();
        long[] padEnd = new long[sp], dil = new long[sp];
        for (int i = 0; i < sp; i++) {
            long needed = (g.out()[i] - 1) * g.strides()[i] + g.extent(i) - x[i + 2] - g.padBegin()[i];
            // Floor mode may leave input unused at the end: ONNX's end pad still satisfies oneDNN's floor division.
            padEnd[i] = Math.max(needed, g.padEnd()[i]);
            if (kind == Kind.AVERAGE && g.includePad() && padEnd[i] != g.padEnd()[i]) return null;
            // Every window must reach the input (oneDNN pads with -inf or excludes, never an empty window).
            if (g.padBegin()[i] >= g.extent(i) || padEnd[i] >= g.extent(i)) return null;
            dil[i] = g.dilations()[i] - 1;
        }
        int alg = kind == Kind.MAX ? dnnl_pooling_max()
                : g.includePad() ? dnnl_pooling_avg_include_padding() : dnnl_pooling_avg_exclude_padding();
        String description = node.label() + ": " + node.opType() + " " + MemoryDescs.dims(x) + " -> " + MemoryDescs.dims(out)
                + (global ? "" : " k" + Arrays.toString(g.kernel()) + " s" + Arrays.toString(g.strides()) + " d" + Arrays.toString(g.dilations())
                + " p" + Arrays.toString(g.padBegin()) + Arrays.toString(padEnd));
        return poolPrimitive(description, out, lowering.desc(0), alg, g.strides(), g.kernel(), dil, g.padBegin(), padEnd);
    }

    private static NativeOp poolPrimitive(String description, long[] out, MemorySegment srcDesc, int alg,
                                          long[] strides, long[] kernel, long[] dilation, long[] padBegin, long[] padEnd) {
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp("pooling " + description);
        MemorySegment s, k, d, pl, pr, attr, dstAny;
        try {
            Arena a = op.arena;
            dstAny = MemoryDescs.any(a, out);
            s = a.allocateFrom(C_LONG, strides);
            k = a.allocateFrom(C_LONG, kernel);
            d = a.allocateFrom(C_LONG, dilation);
            pl = a.allocateFrom(C_LONG, padBegin);
            pr = a.allocateFrom(C_LONG, padEnd);
            attr = Primitives.userScratchpad(a, description);
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
        MemorySegment engine = Engine.cpu();
        // create closes op itself when it fails
        op.create("dnnl_pooling_forward_primitive_desc_create", o -> dnnl_pooling_forward_primitive_desc_create(o, engine,
                dnnl_forward_inference(), alg, srcDesc, dstAny, s, k, d, pl, pr, attr));
        try {
            return op.srcToDst();
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }
}
