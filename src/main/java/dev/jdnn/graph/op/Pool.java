package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * MaxPool, AveragePool (1-D and 2-D; pads, strides, dilations for max, ceil_mode, count_include_pad),
 * GlobalAveragePool and GlobalMaxPool: plain loops over N×C×H×W (a 1-D pool runs with H = 1) as the
 * reference, oneDNN pooling in the producer's layout when compiled.
 */
public final class Pool implements Op {
    private final String type;

    private Pool(String type) {
        this.type = type;
    }

    static void register(Registry.Table t) {
        for (String type : new String[] {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}) t.add(type, 1, new Pool(type));
    }

    private boolean max() {
        return type.equals("MaxPool") || type.equals("GlobalMaxPool");
    }

    private boolean global() {
        return type.startsWith("Global");
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        in.requireFloat(0, node, "X");
        return global() ? global(node, x, max()) : pool(node, x, max());
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        long[] x = in.shape(0);
        if (x.length != 4 || lowering.runtimeDescs().size() != 1 || in.isConstant(0)) return null;
        return global() ? lowerGlobal(node, x, lowering.output(), lowering.desc(0), max())
                : lowerPool(node, x, lowering.output(), lowering.desc(0), max());
    }

    /** Pool geometry in 2-D: kernel, stride, dilation, pads (top, left, bottom, right), output size. */
    record Geometry(int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl, int pb, int pr, int oh, int ow) {}

    static Step pool(Node node, long[] x, boolean max) {
        if (x.length != 3 && x.length != 4) throw error(node, "jdnn pools 1-D and 2-D inputs; got " + format(x));
        if (node.outputs().size() > 1 && !node.outputs().get(1).isEmpty()) throw error(node, "the Indices output is not supported");
        int spatial = x.length - 2;
        long[] kernel = node.attributes().getInts("kernel_shape", null);
        if (kernel == null || kernel.length != spatial) throw error(node, "kernel_shape must have " + spatial + " values");
        long[] strides = ints(node, "strides", spatial, 1);
        long[] dilations = ints(node, "dilations", spatial, 1);
        if (!max && (dilations[0] != 1 || dilations[spatial - 1] != 1)) throw error(node, "AveragePool dilations are not supported");
        long[] pads = Conv.pads(node, x, kernel, strides, dilations);
        boolean ceil = node.attributes().getInt("ceil_mode", 0) == 1;
        boolean includePad = node.attributes().getInt("count_include_pad", 0) == 1;
        if (node.attributes().getInt("storage_order", 0) != 0) throw error(node, "storage_order=1 is not supported");
        long h = spatial == 2 ? x[2] : 1, w = x[x.length - 1];
        Geometry g = spatial == 2
                ? geometry(node, h, w, kernel[0], kernel[1], strides[0], strides[1], dilations[0], dilations[1], pads[0], pads[1], pads[2], pads[3], ceil)
                : geometry(node, 1, w, 1, kernel[0], 1, strides[0], 1, dilations[0], 0, pads[0], 0, pads[1], ceil);
        long[] out = spatial == 2 ? new long[] {x[0], x[1], g.oh(), g.ow()} : new long[] {x[0], x[1], g.ow()};
        int planes = (int) (x[0] * x[1]);
        int ih = (int) h, iw = (int) w;
        return step(out, in -> {
            float[] src = floats(in, 0, node).toArray();
            float[] dst = new float[planes * g.oh() * g.ow()];
            for (int p = 0; p < planes; p++) {
                int base = p * ih * iw;
                for (int oy = 0; oy < g.oh(); oy++) {
                    for (int ox = 0; ox < g.ow(); ox++) {
                        int y0 = oy * g.sh() - g.pt(), x0 = ox * g.sw() - g.pl();
                        double acc = max ? Double.NEGATIVE_INFINITY : 0;
                        int valid = 0;
                        for (int ky = 0; ky < g.kh(); ky++) {
                            int yy = y0 + ky * g.dh();
                            if (yy < 0 || yy >= ih) continue;
                            for (int kx = 0; kx < g.kw(); kx++) {
                                int xx = x0 + kx * g.dw();
                                if (xx < 0 || xx >= iw) continue;
                                float v = src[base + yy * iw + xx];
                                if (max) acc = Math.max(acc, v); else acc += v;
                                valid++;
                            }
                        }
                        if (!max) {
                            // count_include_pad counts padding cells, but not the overhang that ceil_mode adds past the padding
                            int divisor = valid;
                            if (includePad) {
                                int yEnd = Math.min(y0 + g.kh(), ih + g.pb()), xEnd = Math.min(x0 + g.kw(), iw + g.pr());
                                divisor = (yEnd - y0) * (xEnd - x0);
                            }
                            acc = divisor == 0 ? 0 : acc / divisor;
                        }
                        dst[(p * g.oh() + oy) * g.ow() + ox] = (float) acc;
                    }
                }
            }
            return result(dst, out);
        });
    }

    static Geometry geometry(Node node, long h, long w, long kh, long kw, long sh, long sw, long dh, long dw,
                             long pt, long pl, long pb, long pr, boolean ceil) {
        long oh = outSize(node, "height", h, kh, sh, dh, pt, pb, ceil);
        long ow = outSize(node, "width", w, kw, sw, dw, pl, pr, ceil);
        return new Geometry((int) kh, (int) kw, (int) sh, (int) sw, (int) dh, (int) dw, (int) pt, (int) pl, (int) pb, (int) pr, (int) oh, (int) ow);
    }

    static long outSize(Node node, String axis, long size, long k, long s, long d, long pBegin, long pEnd, boolean ceil) {
        long extent = (k - 1) * d + 1;
        long span = size + pBegin + pEnd - extent;
        if (span < 0) throw error(node, "kernel " + axis + " " + k + " is larger than the padded input " + (size + pBegin + pEnd));
        long out = (ceil ? Math.ceilDiv(span, s) : Math.floorDiv(span, s)) + 1;
        // As PyTorch and ONNX Runtime: the last window must start inside the input or the begin padding.
        if (ceil && (out - 1) * s >= size + pBegin) out--;
        return out;
    }

    static Step global(Node node, long[] x, boolean max) {
        if (x.length < 3) throw error(node, "input " + format(x) + " must be N×C×spatial...");
        long[] out = x.clone();
        for (int i = 2; i < out.length; i++) out[i] = 1;
        int planes = (int) (x[0] * x[1]);
        int spatial = (int) (count(x) / Math.max(1, planes));
        return step(out, in -> {
            float[] src = floats(in, 0, node).toArray();
            float[] dst = new float[planes];
            for (int p = 0; p < planes; p++) {
                double acc = max ? Double.NEGATIVE_INFINITY : 0;
                for (int i = 0; i < spatial; i++) {
                    float v = src[p * spatial + i];
                    acc = max ? Math.max(acc, v) : acc + v;
                }
                dst[p] = (float) (max ? acc : acc / spatial);
            }
            return result(dst, out);
        });
    }


    /** Pooling, 2-D: ONNX's ceil_mode becomes extra end padding; oneDNN's padding value is −∞ for max and excluded or counted for average. */
    static NativeOp lowerPool(Node node, long[] x, long[] out, MemorySegment srcDesc, boolean max) {
        long[] kernel = node.attributes().getInts("kernel_shape", null);
        long[] strides = ints(node, "strides", 2, 1);
        long[] dilations = ints(node, "dilations", 2, 1);
        long[] pads = Conv.pads(node, x, kernel, strides, dilations);
        boolean includePad = node.attributes().getInt("count_include_pad", 0) == 1;
        long[] padEnd = new long[2];
        for (int i = 0; i < 2; i++) {
            long extent = (kernel[i] - 1) * dilations[i] + 1;
            padEnd[i] = (out[i + 2] - 1) * strides[i] + extent - x[i + 2] - pads[i];
            if (padEnd[i] < 0) return null;
            // Counting padding: only when oneDNN's padded area is ONNX's (ceil_mode's overhang is not counted).
            if (!max && includePad && padEnd[i] != pads[i + 2]) return null;
        }
        int alg = max ? dnnl_pooling_max() : includePad ? dnnl_pooling_avg_include_padding() : dnnl_pooling_avg_exclude_padding();
        return poolPrimitive(node.label() + ": " + node.opType() + " " + MemoryDescs.dims(x) + " -> " + MemoryDescs.dims(out),
                x, out, srcDesc, alg, strides, kernel, new long[] {dilations[0] - 1, dilations[1] - 1}, new long[] {pads[0], pads[1]}, padEnd);
    }

    static NativeOp lowerGlobal(Node node, long[] x, long[] out, MemorySegment srcDesc, boolean max) {
        return poolPrimitive(node.label() + ": " + node.opType() + " " + MemoryDescs.dims(x) + " -> " + MemoryDescs.dims(out),
                x, out, srcDesc, max ? dnnl_pooling_max() : dnnl_pooling_avg_exclude_padding(),
                new long[] {1, 1}, new long[] {x[2], x[3]}, new long[2], new long[2], new long[2]);
    }

    private static NativeOp poolPrimitive(String description, long[] x, long[] out, MemorySegment srcDesc, int alg,
                                          long[] strides, long[] kernel, long[] dilation, long[] padBegin, long[] padEnd) {
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp("pooling " + description);
        try {
            Arena a = op.arena;
            MemorySegment src = srcDesc;
            MemorySegment dstAny = MemoryDescs.any(a, out);
            MemorySegment s = a.allocateFrom(C_LONG, strides), k = a.allocateFrom(C_LONG, kernel), d = a.allocateFrom(C_LONG, dilation);
            MemorySegment pl = a.allocateFrom(C_LONG, padBegin), pr = a.allocateFrom(C_LONG, padEnd);
            MemorySegment attr = Primitives.userScratchpad(a, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_pooling_forward_primitive_desc_create", out1 -> dnnl_pooling_forward_primitive_desc_create(out1, engine,
                    dnnl_forward_inference(), alg, src, dstAny, s, k, d, pl, pr, attr));
            op.inputKinds = new int[] {DNNL_ARG_SRC()};
            op.inputDescs = new MemorySegment[] {op.primitive.queryDesc(dnnl_query_src_md(), 0)};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

}
