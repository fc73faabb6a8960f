package dev.jdnn.graph.op;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.List;

/**
 * Equal, Less, Greater, LessOrEqual, GreaterOrEqual: {@code A ⊙ B} element-wise with multidirectional
 * broadcasting ({@code [3,4,5] vs [5] → [3,4,5]}), output bool. Inputs share one element type; Equal
 * also compares bools, the ordering comparisons take numbers only. Float comparisons are IEEE (a NaN
 * compares false with everything, itself included, as in numpy); integers compare exactly (uint8 is held
 * as 0..255, so its order is right). Java only: the result is a bool mask, which no native op consumes.
 */
public final class Compare implements Op {
    private enum Kind { EQUAL, LESS, GREATER, LESS_OR_EQUAL, GREATER_OR_EQUAL }

    private final Kind kind;

    private Compare(Kind kind) {
        this.kind = kind;
    }

    static void register(Registry.Table t) {
        t.add("Equal", 7, new Compare(Kind.EQUAL));
        t.add("Less", 7, new Compare(Kind.LESS));
        t.add("Greater", 7, new Compare(Kind.GREATER));
        t.add("LessOrEqual", 12, new Compare(Kind.LESS_OR_EQUAL));
        t.add("GreaterOrEqual", 12, new Compare(Kind.GREATER_OR_EQUAL));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.require(0, node, "A");
        in.require(1, node, "B");
        DataType t = Broadcast.sameType(node, in, 0, 2);
        if (kind != Kind.EQUAL) Broadcast.requireNumeric(node, t);
        Broadcast.Plan p = Broadcast.plan(node, Broadcast.shapes(in, 0, 2), false);
        return Ops.step(p.out(), DataType.BOOL, inputs -> compare(node, p, inputs));
    }

    private Value compare(Node node, Broadcast.Plan p, List<Value> inputs) {
        long[] r = new long[p.count()];
        if (inputs.get(0) instanceof Value.Floats) {
            float[] a = Broadcast.floats(inputs.get(0), node), b = Broadcast.floats(inputs.get(1), node);
            for (int i = 0; i < r.length; i++) {
                float x = a[p.at(0, i)], y = b[p.at(1, i)];
                r[i] = holds(x < y ? -1 : x > y ? 1 : x == y ? 0 : UNORDERED) ? 1 : 0;
            }
        } else {
            long[] a = Broadcast.longs(inputs.get(0), node), b = Broadcast.longs(inputs.get(1), node);
            for (int i = 0; i < r.length; i++) r[i] = holds(Long.compare(a[p.at(0, i)], b[p.at(1, i)])) ? 1 : 0;
        }
        return new Value.Longs(DataType.BOOL, p.out(), r);
    }

    /** A comparison with a NaN: neither less, equal nor greater. */
    private static final int UNORDERED = 2;

    /** Whether this comparison holds for {@code order}: negative less, 0 equal, positive greater, or {@link #UNORDERED}. */
    private boolean holds(int order) {
        if (order == UNORDERED) return false;
        return switch (kind) {
            case EQUAL -> order == 0;
            case LESS -> order < 0;
            case GREATER -> order > 0;
            case LESS_OR_EQUAL -> order <= 0;
            case GREATER_OR_EQUAL -> order >= 0;
        };
    }
}
