package dev.jdnn.graph.op;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * Range (11+): {@code out[i] = start + i·delta} for {@code i < max(⌈(limit − start)/delta⌉, 0)}, from three
 * scalars of one numeric type, which the output keeps (float32, int64, int32, int8, uint8; ONNX's spec
 * loop, in the type's own arithmetic). The length depends on the values, and jdnn fixes shapes when a plan
 * is prepared, so the three inputs must be known then (constants, folded from shapes, or small graph inputs
 * the session specialises the plan on: {@link DataDependentException}).
 */
public final class Range implements Op {
    static void register(Registry.Table t) {
        t.add("Range", 11, new Range());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        String[] names = {"start", "limit", "delta"};
        DataType type = in.type(0);
        for (int i = 0; i < 3; i++) {
            long[] s = in.require(i, node, names[i]);
            if (Ops.count(s) != 1 || s.length > 1) throw Ops.error(node, names[i] + " must be a scalar, got shape " + Ops.format(s));
            if (in.type(i) != type) throw Ops.error(node, names[i] + " is " + in.type(i).onnxName() + ", start is " + type.onnxName());
            if (!in.isConstant(i)) {
                throw new DataDependentException(node.opType() + " node " + node.label() + ": " + names[i]
                        + " must be known when the plan is prepared, since the output length depends on it (an initializer, computable from shapes, or a small graph input)");
            }
        }
        if (type == DataType.BOOL) throw Ops.error(node, "bool ranges are not supported (ONNX allows numeric types only)");
        Value result = range(in.constant(0), in.constant(1), in.constant(2), node);   // for its shape only
        long[] shape = result.shape();
        if (result instanceof Value.Floats f) f.tensor().close();   // (a float range holds native memory)
        return Ops.step(shape, type, v -> range(v.get(0), v.get(1), v.get(2), node));
    }

    static Value range(Value start, Value limit, Value delta, Node node) {
        if (start instanceof Value.Floats s) {
            float a = s.tensor().getFlat(0);
            float b = ((Value.Floats) limit).tensor().getFlat(0);
            float d = ((Value.Floats) delta).tensor().getFlat(0);
            if (d == 0 || Float.isNaN(d)) throw Ops.error(node, "delta must be non-zero, got " + d);
            int n = length(Math.ceil(((double) b - a) / d), node);
            float[] out = new float[n];
            for (int i = 0; i < n; i++) out[i] = a + i * d;
            return Ops.result(out, new long[] {n});
        }
        Value.Longs s = (Value.Longs) start;
        long a = s.view()[0], b = ((Value.Longs) limit).view()[0], d = ((Value.Longs) delta).view()[0];
        if (d == 0) throw Ops.error(node, "delta must be non-zero");
        // ⌈(b − a)/d⌉ exactly; if b − a overflows int64 the length is far beyond any array anyway.
        long span = b - a;
        boolean overflow = ((b ^ a) & (b ^ span)) < 0;
        int n = length(overflow ? Math.ceil(((double) b - (double) a) / d) : (double) Math.ceilDiv(span, d), node);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = a + i * d; // the constructor wraps narrow types
        return Ops.result(s.type(), out, new long[] {n});
    }

    private static int length(double n, Node node) {
        if (Double.isNaN(n)) throw Ops.error(node, "start, limit and delta give no finite length");
        if (n <= 0) return 0;
        if (n > Integer.MAX_VALUE - 8) throw Ops.error(node, "range of " + (long) n + " elements is more than jdnn's Java kernels hold");
        return Ops.arraySize(new long[] {(long) n}, node);   // and within the session's maxTensorBytes
    }
}
