package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * PRelu: {@code y = x < 0 ? slope·x : x}, X any shape, slope unidirectionally broadcast to X (numpy rules
 * from opset 7: a [C] slope against N×C×H×W broadcasts along W; per-channel is [C,1,1]). Float32, and
 * int32/int64 from opset 16.
 *
 * <p>Compiled, with a constant slope: one element is oneDNN's leaky relu (eltwise relu with alpha = slope,
 * exact, and a post-op of the conv before it); a per-channel ([1,C,1,…] after alignment) or full-shape
 * slope whose values are all ≤ 1 (or all ≥ 1) is one oneDNN binary {@code slope·x} with a binary max (min)
 * post-op against x itself — {@code max(slope·x, x)} is PRelu exactly when slope ≤ 1, with one rounding
 * like the reference. Slopes on both sides of 1, and runtime slopes, run in Java.
 */
public final class PRelu implements Op {
    static void register(Registry.Table t) {
        t.add("PRelu", 7, new PRelu());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X"), s = in.require(1, node, "slope");
        DataType type = in.type(0);
        if (in.type(1) != type) throw error(node, "X and slope differ in type: " + type.onnxName() + " and " + in.type(1).onnxName());
        boolean integer = type == DataType.INT32 || type == DataType.INT64;
        if (type != DataType.FLOAT && !(integer && ctx.opset() >= 16)) {
            throw error(node, "input X of type " + type.onnxName() + " is not supported; jdnn runs PRelu on float32 (and int32/int64 from opset 16)");
        }
        if (!Arrays.equals(broadcast(x, s, node), x)) {
            throw error(node, "slope of shape " + format(s) + " does not broadcast to X of shape " + format(x) + " (PRelu broadcasts slope only)");
        }
        int[] is = broadcastIndex(s, x);
        return step(x, type, inputs -> {
            if (integer) {
                long[] a = longs(inputs, 0, node), b = longs(inputs, 1, node), r = new long[a.length];
                for (int i = 0; i < r.length; i++) r[i] = a[i] < 0 ? a[i] * b[is[i]] : a[i];
                return new Value.Longs(type, x, r);
            }
            float[] a = floats(inputs, 0, node).toArray(), b = floats(inputs, 1, node).toArray();
            for (int i = 0; i < a.length; i++) if (a[i] < 0) a[i] = a[i] * b[is[i]];
            return result(a, x);
        });
    }

    /** The constant single-element float slope, or NaN. */
    private static float scalarSlope(Inputs in) {
        return in.constant(1) instanceof Value.Floats f && f.tensor().elementCount() == 1 ? f.tensor().getFlat(0) : Float.NaN;
    }

    @Override
    public PostOp postOp(Node node, Inputs in, Context ctx) {
        float s = scalarSlope(in);
        return in.type(0) == DataType.FLOAT && !Float.isNaN(s) ? new PostOp(EltwiseAlgorithm.RELU, s, 0) : null;
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.type(0) != DataType.FLOAT || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        if (!(in.constant(1) instanceof Value.Floats slopeValue)) return null;
        long[] x = in.shape(0);
        float s = scalarSlope(in);
        if (!Float.isNaN(s)) return Primitives.eltwise(node, new PostOp(EltwiseAlgorithm.RELU, s, 0), lowering.output(), lowering.desc(0));
        float[] slope = slopeValue.tensor().toArray();
        boolean allAtMostOne = true, allAtLeastOne = true;
        for (float v : slope) {
            if (Float.isNaN(v)) return null;
            allAtMostOne &= v <= 1;
            allAtLeastOne &= v >= 1;
        }
        if (!allAtMostOne && !allAtLeastOne) return null;
        // The slope's dims aligned to X's rank; native for per-channel ([1,C,1,...]) or full-shape slopes.
        long[] dims = new long[x.length];
        Arrays.fill(dims, 1);
        long[] sShape = in.shape(1);
        for (int i = 0; i < sShape.length; i++) dims[x.length - sShape.length + i] = sShape[i];
        boolean perChannel = x.length >= 2 && dims[0] == 1 && dims[1] == x[1];
        for (int i = 2; perChannel && i < x.length; i++) perChannel = dims[i] == 1;
        if (!perChannel && !Arrays.equals(dims, x)) return null;
        return binary(node, x, dims, slope, allAtMostOne, lowering.desc(0));
    }

    /** {@code max(slope·x, x)} (or min): binary mul by the constant slope, binary max/min post-op with x. */
    private static NativeOp binary(Node node, long[] x, long[] slopeDims, float[] slope, boolean max, MemorySegment src) {
        String description = node.label() + ": PRelu as binary mul + " + (max ? "max" : "min") + " " + MemoryDescs.dims(x) + " slope " + MemoryDescs.dims(slopeDims);
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            Arena a = op.arena;
            MemorySegment slopeDesc = MemoryDescs.plain(a, slopeDims);
            MemorySegment attr = Primitives.userScratchpad(a, description);
            MemorySegment postOps = Dnnl.create(a, "dnnl_post_ops_create", description, o -> dnnl_post_ops_create(o), p -> dnnl_post_ops_destroy(p));
            Dnnl.check(dnnl_post_ops_append_binary(postOps, max ? dnnl_binary_max() : dnnl_binary_min(), src), "dnnl_post_ops_append_binary", description);
            Dnnl.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "dnnl_primitive_attr_set_post_ops", description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_binary_primitive_desc_create", o -> dnnl_binary_primitive_desc_create(o, engine, dnnl_binary_mul(), src, slopeDesc, src, attr));
            // x is read twice (SRC_0 and the post-op's operand), so the output gets its own buffer.
            op.inputKinds = new int[] {DNNL_ARG_SRC_0(), DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE() | DNNL_ARG_SRC_1()};
            op.inputDescs = new MemorySegment[] {src, src};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            op.constant(DNNL_ARG_SRC_1(), slopeDesc, slope);
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return op.inputDesc(i); }
            @Override public MemorySegment outputDesc() { return op.outputDesc(); }
            @Override public long scratchpadBytes() { return op.scratchpadBytes(); }
            @Override public String description() { return op.description(); }
            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                return op.bind(new MemorySegment[] {inputs[0], inputs[0]}, output, scratchpad);
            }
            @Override public void close() { op.close(); }
        };
    }
}
