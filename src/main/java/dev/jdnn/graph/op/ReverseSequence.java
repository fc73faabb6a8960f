package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * ReverseSequence (10+): x (rank ≥ 2, any type) with, for each batch entry b, its first
 * {@code sequence_lens[b]} steps along the time axis reversed and the rest copied. {@code batch_axis}
 * (default 1) and {@code time_axis} (default 0) are 0 and 1 in either order; sequence_lens is int64
 * {@code [batch]}, each in {@code [0, time]}, and may be computed at run time.
 */
public final class ReverseSequence implements Op {
    static void register(Registry.Table t) {
        t.add("ReverseSequence", 10, new ReverseSequence());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "input");
        long[] lensShape = in.require(1, node, "sequence_lens");
        if (x.length < 2) throw error(node, "input must have rank >= 2, got shape " + format(x));
        if (in.type(1) != DataType.INT64) throw error(node, "sequence_lens must be int64, got " + in.type(1).onnxName());
        long batchAxis = node.attributes().getInt("batch_axis", 1), timeAxis = node.attributes().getInt("time_axis", 0);
        if (!(batchAxis == 0 && timeAxis == 1 || batchAxis == 1 && timeAxis == 0)) {
            throw error(node, "batch_axis=" + batchAxis + " and time_axis=" + timeAxis + " must be 0 and 1 in either order");
        }
        long batch = x[(int) batchAxis], time = x[(int) timeAxis];
        if (lensShape.length != 1 || lensShape[0] != batch) {
            throw error(node, "sequence_lens must be 1-D with one length per batch entry (" + batch + "), got shape " + format(lensShape));
        }
        int size = arraySize(x, node);
        long inner = 1;
        for (int d = 2; d < x.length; d++) inner *= x[d];
        // Strides in elements of one step along the batch and the time axis of x [d0, d1, inner...].
        long batchStride = batchAxis == 0 ? x[1] * inner : inner, timeStride = timeAxis == 0 ? x[1] * inner : inner, c = inner;
        return step(x, in.type(0), v -> {
            long[] lens = longs(v, 1, node);
            int[] source = new int[size];
            for (int p = 0; p < size; p++) source[p] = p;
            for (long b = 0; b < batch; b++) {
                long len = lens[(int) b];
                if (len < 0 || len > time) throw error(node, "sequence_lens[" + b + "] = " + len + " is outside [0, " + time + "], the time axis's size");
                for (long t = 0; t < len; t++) {
                    long to = b * batchStride + t * timeStride, from = b * batchStride + (len - 1 - t) * timeStride;
                    for (long e = 0; e < c; e++) source[(int) (to + e)] = (int) (from + e);
                }
            }
            return Indexing.take(v.get(0), source, x);
        });
    }
}
