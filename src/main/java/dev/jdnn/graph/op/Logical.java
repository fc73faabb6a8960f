package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * And, Or, Xor on bool tensors with multidirectional broadcasting ({@code [1,4,1,6] ⊙ [3,1,5,6] → [3,4,5,6]}),
 * and Not (one bool input, same shape). Output bool. Java only (bool masks).
 */
public final class Logical implements Op {
    private enum Kind { AND, OR, XOR, NOT }

    private final Kind kind;

    private Logical(Kind kind) {
        this.kind = kind;
    }

    static void register(Registry.Table t) {
        t.add("And", 7, new Logical(Kind.AND));
        t.add("Or", 7, new Logical(Kind.OR));
        t.add("Xor", 7, new Logical(Kind.XOR));
        t.add("Not", 1, new Logical(Kind.NOT));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        int n = kind == Kind.NOT ? 1 : 2;
        for (int i = 0; i < n; i++) {
            in.require(i, node, kind == Kind.NOT ? "X" : i == 0 ? "A" : "B");
            if (in.type(i) != DataType.BOOL) throw error(node, "input " + i + " must be bool, got " + in.type(i).onnxName());
        }
        if (kind == Kind.NOT) {
            long[] shape = in.shape(0);
            return step(shape, DataType.BOOL, inputs -> {
                long[] x = Broadcast.longs(inputs.get(0), node), r = new long[x.length];
                for (int i = 0; i < r.length; i++) r[i] = x[i] ^ 1;
                return new Value.Longs(DataType.BOOL, shape, r);
            });
        }
        Broadcast.Plan p = Broadcast.plan(node, Broadcast.shapes(in, 0, 2), false);
        return step(p.out(), DataType.BOOL, inputs -> {
            long[] a = Broadcast.longs(inputs.get(0), node), b = Broadcast.longs(inputs.get(1), node), r = new long[p.count()];
            for (int i = 0; i < r.length; i++) {
                long x = a[p.at(0, i)], y = b[p.at(1, i)];
                r[i] = switch (kind) {
                    case AND -> x & y;
                    case OR -> x | y;
                    default -> x ^ y;
                };
            }
            return new Value.Longs(DataType.BOOL, p.out(), r);
        });
    }
}
