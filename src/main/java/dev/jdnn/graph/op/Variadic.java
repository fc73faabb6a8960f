package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Max, Min, Sum, Mean over one or more inputs, element-wise: {@code [N,C,H,W], [1,C,1,1], [] → [N,C,H,W]}.
 * Opset 8+ broadcasts all inputs together (numpy rules); before that (opset 6-7) every input must have
 * the same shape. Types: Max/Min any numeric type (float32, int64, int32, int8, uint8; exact integer
 * comparison), Sum/Mean float32 (ONNX defines them on floats only).
 *
 * <p>Reference: Max/Min propagate NaN (a NaN in any input gives NaN there), as numpy's
 * {@code maximum}/{@code minimum} and ONNX Runtime do; Sum/Mean accumulate in double and round once.
 * Native (float32, rank 1-6): one oneDNN binary primitive, the inputs folded with binary post-ops
 * (Mean: then divided by n), one input with the output's shape as the primitive's first source, others
 * broadcast over their size-1 dimensions, constants bound once. oneDNN's max/min does not propagate a NaN
 * of its first source, so Max/Min go native only where that cannot matter (see {@link #lower}).
 */
public final class Variadic implements Op {
    private enum Kind { MAX, MIN, SUM, MEAN }

    private final Kind kind;

    private Variadic(Kind kind) {
        this.kind = kind;
    }

    static void register(Registry.Table t) {
        t.add("Max", 6, new Variadic(Kind.MAX));
        t.add("Min", 6, new Variadic(Kind.MIN));
        t.add("Sum", 6, new Variadic(Kind.SUM));
        t.add("Mean", 6, new Variadic(Kind.MEAN));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        int n = in.count();
        if (n == 0) throw error(node, node.opType() + " needs at least one input");
        for (int i = 0; i < n; i++) in.require(i, node, "data_" + i);
        DataType t = Broadcast.sameType(node, in, 0, n);
        Broadcast.requireNumeric(node, t);
        if ((kind == Kind.SUM || kind == Kind.MEAN) && t != DataType.FLOAT) {
            throw error(node, node.opType() + " takes float tensors (ONNX defines it on floating-point types only), got " + t.onnxName());
        }
        Broadcast.Plan p = Broadcast.plan(node, in.shapes(), ctx.opset() < 8);
        if (t == DataType.FLOAT && ctx.backend() == Backend.NATIVE && n > 1) {
            int[] runtimeInputs = runtimeInputs(in);
            BinaryPrimitive chain = chain(node, in, p.out(), null);
            if (chain != null) return chain.step(p.out(), runtimeInputs, node);
        }
        if (t == DataType.FLOAT) return step(p.out(), inputs -> floats(node, p, inputs));
        return step(p.out(), t, inputs -> integers(node, p, t, inputs));
    }

    private Value floats(Node node, Broadcast.Plan p, List<Value> inputs) {
        int n = inputs.size();
        float[] r = new float[p.count()];
        if (kind == Kind.MAX || kind == Kind.MIN) {
            float[] x = Broadcast.floats(inputs.get(0), node);
            for (int i = 0; i < r.length; i++) r[i] = x[p.at(0, i)];
            for (int k = 1; k < n; k++) {
                x = Broadcast.floats(inputs.get(k), node);
                // Math.max/min return NaN when either argument is NaN (numpy's maximum/minimum).
                for (int i = 0; i < r.length; i++) r[i] = kind == Kind.MAX ? Math.max(r[i], x[p.at(k, i)]) : Math.min(r[i], x[p.at(k, i)]);
            }
            return result(r, p.out());
        }
        double[] acc = new double[r.length];
        for (int k = 0; k < n; k++) {
            float[] x = Broadcast.floats(inputs.get(k), node);
            for (int i = 0; i < r.length; i++) acc[i] += x[p.at(k, i)];
        }
        for (int i = 0; i < r.length; i++) r[i] = (float) (kind == Kind.MEAN ? acc[i] / n : acc[i]);
        return result(r, p.out());
    }

    private Value integers(Node node, Broadcast.Plan p, DataType t, List<Value> inputs) {
        long[] r = new long[p.count()];
        long[] x = Broadcast.longs(inputs.get(0), node);
        for (int i = 0; i < r.length; i++) r[i] = x[p.at(0, i)];
        for (int k = 1; k < inputs.size(); k++) {
            x = Broadcast.longs(inputs.get(k), node);
            for (int i = 0; i < r.length; i++) r[i] = kind == Kind.MAX ? Math.max(r[i], x[p.at(k, i)]) : Math.min(r[i], x[p.at(k, i)]);
        }
        return new Value.Longs(t, p.out(), r);
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        int n = in.count();
        for (int i = 0; i < n; i++) if (in.type(i) != DataType.FLOAT) return null;
        int[] runtime = runtimeInputs(in);
        if (runtime.length == 0 || lowering.fused() != null) return null;
        if (n == 1) return Primitives.identity(node, lowering.output(), lowering.desc(0));
        return chain(node, in, lowering.output(), lowering.runtimeDescs());
    }

    private static int[] runtimeInputs(Inputs in) {
        List<Integer> r = new ArrayList<>();
        for (int i = 0; i < in.count(); i++) if (in.has(i) && !in.isConstant(i)) r.add(i);
        return r.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The inputs folded into one binary primitive (first source: a runtime input with the output's
     * shape), or null when there is none or oneDNN cannot run it. {@code descs}: runtime inputs' layouts
     * (null: plain, node by node).
     */
    private BinaryPrimitive chain(Node node, Inputs in, long[] out, List<MemorySegment> descs) {
        int n = in.count();
        List<BinaryPrimitive.Operand> operands = new ArrayList<>();
        int first = -1, r = 0;
        int[] runtimeIndex = new int[n];
        for (int i = 0; i < n; i++) runtimeIndex[i] = in.isConstant(i) ? -1 : r++;
        for (int i = 0; i < n && first < 0; i++) if (runtimeIndex[i] >= 0 && Arrays.equals(in.shape(i), out)) first = i;
        if (first < 0 || n > 16) return null;
        if ((kind == Kind.MAX || kind == Kind.MIN) && !nanSafe(in, first)) return null;
        List<Integer> order = new ArrayList<>(List.of(first));
        for (int i = 0; i < n; i++) if (i != first) order.add(i);
        for (int i : order) {
            Value c = in.constant(i);
            float[] data = c instanceof Value.Floats f ? f.tensor().toArray() : null;
            MemorySegment desc = runtimeIndex[i] >= 0 && descs != null ? descs.get(runtimeIndex[i]) : null;
            operands.add(new BinaryPrimitive.Operand(in.shape(i), data, runtimeIndex[i], desc));
        }
        int alg = switch (kind) {
            case MAX -> dnnl_binary_max();
            case MIN -> dnnl_binary_min();
            default -> dnnl_binary_add();
        };
        int[] algorithms = new int[operands.size() - 1];
        Arrays.fill(algorithms, alg);
        if (kind == Kind.MEAN) {
            // Divide by n exactly (numpy's mean of float32 inputs: the float sum divided by n).
            operands.add(new BinaryPrimitive.Operand(new long[0], new float[] {n}, -1, null));
            algorithms = Arrays.copyOf(algorithms, algorithms.length + 1);
            algorithms[algorithms.length - 1] = dnnl_binary_div();
        }
        return BinaryPrimitive.create(node, node.opType().toLowerCase(java.util.Locale.ROOT), out, operands, algorithms, List.of());
    }

    /**
     * Whether oneDNN's max/min (which returns its second source when the first is NaN) gives numpy's
     * NaN-propagating result: only when every operand after the first is a constant without NaN... and
     * the first cannot be NaN, which is unknowable for runtime data. So: never, unless oneDNN propagates.
     */
    private static boolean nanSafe(Inputs in, int first) {
        return NAN_PROPAGATING;
    }

    /** Set from measurement of oneDNN 3.13's binary max/min on NaN operands (see BinaryOpsTest). */
    static final boolean NAN_PROPAGATING = false;
}
