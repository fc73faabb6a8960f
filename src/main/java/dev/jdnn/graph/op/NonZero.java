package dev.jdnn.graph.op;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * NonZero (9+): the coordinates of the non-zero elements of {@code X} (any element type; NaN counts as
 * non-zero), in row-major order, as int64 {@code [rank, n]} (a scalar counts as rank 1, as numpy does).
 * The output's shape depends on the data, and jdnn fixes shapes when a plan is prepared, so the input
 * must be known then: an initializer, folded from shapes, or a small graph input the session specialises
 * the plan on ({@link DataDependentException}).
 */
public final class NonZero implements Op {
    static void register(Registry.Table t) {
        t.add("NonZero", 9, new NonZero());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.require(0, node, "X");
        Value x = in.constant(0);
        if (x == null) {
            throw DataDependentException.outputShapeDependsOn(node, "X");
        }
        Value.Longs result = nonZero(x, node);
        return Ops.step(result.shape(), DataType.INT64, v -> nonZero(v.get(0), node));
    }

    static Value.Longs nonZero(Value x, Node node) {
        long[] shape = x.shape().length == 0 ? new long[] {1} : x.shape();
        int rank = shape.length;
        int n = Ops.arraySize(shape, node);
        boolean[] nz = new boolean[n];
        int count = 0;
        if (x instanceof Value.Longs l) {
            long[] d = l.view();
            for (int i = 0; i < n; i++) if (nz[i] = d[i] != 0) count++;
        } else {
            float[] d = ((Value.Floats) x).tensor().toArray();
            for (int i = 0; i < n; i++) if (nz[i] = d[i] != 0) count++; // NaN != 0 too
        }
        long[] out = new long[rank * count];
        long[] coord = new long[rank];
        int j = 0;
        for (int i = 0; i < n; i++) {
            if (nz[i]) {
                for (int d = 0; d < rank; d++) out[d * count + j] = coord[d];
                j++;
            }
            for (int d = rank - 1; d >= 0; d--) {
                if (++coord[d] < shape[d]) break;
                coord[d] = 0;
            }
        }
        return Ops.result(DataType.INT64, out, new long[] {rank, count});
    }
}
