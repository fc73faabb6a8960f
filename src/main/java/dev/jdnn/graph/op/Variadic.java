package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Tensor;
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
 * broadcast over their size-1 dimensions, constants bound once. oneDNN's max/min drops a NaN in its first
 * source, so Max/Min go native only as {@code max(C, x)} with a NaN-free constant C (see {@link #chain}).
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
     * The inputs folded into one binary primitive, or null when oneDNN cannot run it (or not exactly).
     * {@code descs}: the runtime inputs' layouts (null: plain, node by node).
     * <ul>
     *   <li>Sum, Mean: the first runtime input with the output's shape is the primitive's first source,
     *       the others (runtime or constant) follow as add post-ops, broadcast; Mean then divides by n
     *       (a div post-op, exact: numpy's float sum divided by n).</li>
     *   <li>Max, Min: oneDNN's max/min returns its second source when the first is NaN (measured on 3.13:
     *       {@code max(NaN, 1) = 1}, {@code max(1, NaN) = NaN}), and a post-op chain carries its accumulator
     *       as the first source, so only {@code max(C, x)} propagates NaN like numpy: one runtime input x
     *       as the second source and the constants folded into one NaN-free C as the first (oneDNN's
     *       reference kernel, since it broadcasts the first source). Two runtime inputs stay in Java.</li>
     * </ul>
     */
    private BinaryPrimitive chain(Node node, Inputs in, long[] out, List<MemorySegment> descs) {
        int n = in.count();
        if (n > 16) return null; // oneDNN post-op chains are short
        int[] runtimeIndex = new int[n];
        int r = 0;
        for (int i = 0; i < n; i++) runtimeIndex[i] = in.isConstant(i) ? -1 : r++;
        if (r == 0) return null;
        List<BinaryPrimitive.Operand> operands = new ArrayList<>();
        String what = node.opType().toLowerCase(java.util.Locale.ROOT);
        if (kind == Kind.MAX || kind == Kind.MIN) {
            if (r != 1) return null;
            List<Value> constants = new ArrayList<>();
            int x = -1;
            for (int i = 0; i < n; i++) {
                if (runtimeIndex[i] >= 0) x = i;
                else constants.add(in.constant(i));
            }
            if (!Arrays.equals(in.shape(x), out)) return null;
            Inputs folded = Inputs.ofValues(constants);
            Broadcast.Plan p = Broadcast.plan(node, folded.shapes(), false);
            float[] c;
            try (Tensor foldedConstant = ((Value.Floats) floats(node, p, constants)).tensor()) {   // only its values are kept
                c = foldedConstant.toArray();
            }
            for (float v : c) if (Float.isNaN(v)) return null;
            operands.add(new BinaryPrimitive.Operand(p.out(), c, -1, null));
            operands.add(new BinaryPrimitive.Operand(in.shape(x), null, 0, descs != null ? descs.get(0) : null));
            return BinaryPrimitive.create(node, what + " (constant first)", out, operands,
                    new int[] {kind == Kind.MAX ? dnnl_binary_max() : dnnl_binary_min()}, List.of());
        }
        int first = -1;
        for (int i = 0; i < n && first < 0; i++) if (runtimeIndex[i] >= 0 && Arrays.equals(in.shape(i), out)) first = i;
        if (first < 0) return null;
        List<Integer> order = new ArrayList<>(List.of(first));
        for (int i = 0; i < n; i++) if (i != first) order.add(i);
        for (int i : order) {
            Value c = in.constant(i);
            float[] data = c instanceof Value.Floats f ? f.tensor().toArray() : null;
            MemorySegment desc = runtimeIndex[i] >= 0 && descs != null ? descs.get(runtimeIndex[i]) : null;
            operands.add(new BinaryPrimitive.Operand(in.shape(i), data, runtimeIndex[i], desc));
        }
        int[] algorithms = new int[operands.size() - 1];
        Arrays.fill(algorithms, dnnl_binary_add());
        if (kind == Kind.MEAN) {
            operands.add(new BinaryPrimitive.Operand(new long[0], new float[] {n}, -1, null));
            algorithms = Arrays.copyOf(algorithms, algorithms.length + 1);
            algorithms[algorithms.length - 1] = dnnl_binary_div();
        }
        return BinaryPrimitive.create(node, what, out, operands, algorithms, List.of());
    }
}
