package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Add, Sub, Mul, Div element-wise with numpy (multidirectional) broadcasting:
 * {@code [N,C,H,W] ⊙ [1,C,1,1] → [N,C,H,W]}, {@code [3,1] ⊙ [1,4] → [3,4]}. Both inputs have one element type.
 * <ul>
 *   <li>float32: IEEE single precision (each result rounded once; x/0 is ±inf or NaN);</li>
 *   <li>int64, int32, int8, uint8: two's-complement wrap-around as the type stores it
 *       ({@link DataType#wrap}: uint8 200 + 100 = 44); Div truncates toward zero (C, ONNX Runtime), and an
 *       integer division by zero is an error naming the node.</li>
 * </ul>
 * Native (float32, rank 1-6, at least one runtime input): one oneDNN binary primitive; the operand with the
 * output's shape is its first source (swapped for Add/Mul; Sub swapped computes {@code −(b − a)}, exact), the
 * other broadcast over its size-1 dimensions (per-channel {@code [1,C,1,1]} constants, SE-block
 * {@code [N,C,1,1]} scales at run time), constants bound once. Compiled, a constant scalar operand of
 * Add/Sub/Mul is oneDNN's {@code linear} eltwise instead ({@code alpha·x + beta}, exact for these).
 */
public final class Binary implements Op {
    private enum Kind { ADD, SUB, MUL, DIV }

    private final Kind kind;

    private Binary(Kind kind) {
        this.kind = kind;
    }

    static void register(Registry.Table t) {
        t.add("Add", 1, new Binary(Kind.ADD));
        t.add("Sub", 1, new Binary(Kind.SUB));
        t.add("Mul", 1, new Binary(Kind.MUL));
        t.add("Div", 1, new Binary(Kind.DIV));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.require(0, node, "A");
        in.require(1, node, "B");
        DataType t = Broadcast.sameType(node, in, 0, 2);
        Broadcast.requireNumeric(node, t);
        Broadcast.Plan p = Broadcast.plan(node, Broadcast.shapes(in, 0, 2), false);
        if (t != DataType.FLOAT) return step(p.out(), t, inputs -> integers(node, p, t, inputs));
        if (ctx.backend() == Backend.NATIVE) {
            BinaryPrimitive chain = chain(node, in, p.out(), null, List.of());
            if (chain != null) return chain.step(p.out(), runtimeInputs(in), node);
        }
        return step(p.out(), inputs -> floats(node, p, inputs));
    }

    private Value floats(Node node, Broadcast.Plan p, List<Value> inputs) {
        float[] a = Broadcast.floats(inputs.get(0), node), b = Broadcast.floats(inputs.get(1), node), r = new float[p.count()];
        for (int i = 0; i < r.length; i++) {
            float x = a[p.at(0, i)], y = b[p.at(1, i)];
            r[i] = switch (kind) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
            };
        }
        return result(r, p.out());
    }

    private Value integers(Node node, Broadcast.Plan p, DataType t, List<Value> inputs) {
        long[] a = Broadcast.longs(inputs.get(0), node), b = Broadcast.longs(inputs.get(1), node), r = new long[p.count()];
        for (int i = 0; i < r.length; i++) {
            long x = a[p.at(0, i)], y = b[p.at(1, i)];
            r[i] = switch (kind) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> {
                    if (y == 0) throw error(node, "integer division by zero (B[" + p.at(1, i) + "] = 0, " + t.onnxName() + ")");
                    yield x / y; // truncates toward zero; Long.MIN_VALUE / -1 wraps to itself
                }
            };
        }
        return new Value.Longs(t, p.out(), r); // wraps to the type
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.type(0) != DataType.FLOAT || in.type(1) != DataType.FLOAT || lowering.runtimeDescs().isEmpty()) return null;
        long[] out = lowering.output();
        if (lowering.runtimeDescs().size() == 1 && lowering.fused() == null) {
            NativeOp linear = scalarLinear(node, in, out, lowering.desc(0));
            if (linear != null) return linear;
        }
        List<float[]> eltwise = new ArrayList<>();
        if (lowering.fused() != null) {
            PostOp f = lowering.fused();
            eltwise.add(new float[] {f.algorithm().dnnl(), f.alpha(), f.beta()});
        }
        return chain(node, in, out, lowering.runtimeDescs(), eltwise);
    }

    private static int[] runtimeInputs(Inputs in) {
        List<Integer> r = new ArrayList<>();
        for (int i = 0; i < 2; i++) if (!in.isConstant(i)) r.add(i);
        return r.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The node as one oneDNN binary primitive, or null if oneDNN cannot run it. The operand with the
     * output's shape goes first (oneDNN is fastest broadcasting its second source): Add and Mul commute;
     * {@code a − b} with only b full-shaped is {@code −(b − a)} (a linear post-op, exact); Div with only b
     * full-shaped (e.g. {@code 1 / x}) broadcasts oneDNN's first source.
     *
     * @param descs the runtime inputs' layouts (null: plain, node by node)
     */
    private BinaryPrimitive chain(Node node, Inputs in, long[] out, List<MemorySegment> descs, List<float[]> eltwise) {
        int[] runtimeIndex = new int[2];
        int r = 0;
        for (int i = 0; i < 2; i++) runtimeIndex[i] = in.isConstant(i) ? -1 : r++;
        if (r == 0) return null;
        boolean aFull = Arrays.equals(in.shape(0), out), bFull = Arrays.equals(in.shape(1), out);
        boolean swap = !aFull && bFull && kind != Kind.DIV;
        List<float[]> post = new ArrayList<>();
        if (swap && kind == Kind.SUB) post.add(new float[] {dnnl_eltwise_linear(), -1f, 0f});
        post.addAll(eltwise);
        List<BinaryPrimitive.Operand> operands = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            int i = swap ? 1 - k : k;
            Value c = in.constant(i);
            float[] data = c instanceof Value.Floats f ? f.tensor().toArray() : null;
            MemorySegment desc = runtimeIndex[i] >= 0 && descs != null ? descs.get(runtimeIndex[i]) : null;
            operands.add(new BinaryPrimitive.Operand(in.shape(i), data, runtimeIndex[i], desc));
        }
        int alg = switch (kind) {
            case ADD -> dnnl_binary_add();
            case SUB -> dnnl_binary_sub();
            case MUL -> dnnl_binary_mul();
            case DIV -> dnnl_binary_div();
        };
        String what = kind.name().toLowerCase(java.util.Locale.ROOT) + (swap && kind == Kind.SUB ? " (as -(b - a))" : "");
        return BinaryPrimitive.create(node, what, out, operands, new int[] {alg}, post);
    }

    /**
     * {@code x·c}, {@code x + c}, {@code x − c}, {@code c − x} with a constant scalar c (x with the
     * output's shape), as oneDNN's {@code linear} eltwise ({@code alpha·x + beta}), exact for these
     * (one rounding, like the plain op). Division is left to the binary ({@code x·(1/c)} is not {@code x/c}).
     */
    private NativeOp scalarLinear(Node node, Inputs in, long[] out, MemorySegment desc) {
        int runtime = in.isConstant(0) ? 1 : 0;
        if (!(in.constant(1 - runtime) instanceof Value.Floats c) || c.tensor().elementCount() != 1) return null;
        if (!Arrays.equals(in.shape(runtime), out) || kind == Kind.DIV) return null;
        float v = c.tensor().getFlat(0);
        PostOp linear = switch (kind) {
            case MUL -> new PostOp(EltwiseAlgorithm.LINEAR, v, 0f);
            case ADD -> new PostOp(EltwiseAlgorithm.LINEAR, 1f, v);
            default -> runtime == 0 ? new PostOp(EltwiseAlgorithm.LINEAR, 1f, -v) : new PostOp(EltwiseAlgorithm.LINEAR, -1f, v);
        };
        return Primitives.eltwise(node, linear, out, desc);
    }
}
