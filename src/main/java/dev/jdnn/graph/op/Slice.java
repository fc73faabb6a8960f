package dev.jdnn.graph.op;

import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;

/**
 * Slice: {@code out = data[starts:ends:steps]} along the given axes, any element type (the output keeps it).
 * Opsets 1–9 take {@code starts}, {@code ends}, {@code axes} as attributes (step 1); 10+ take them as
 * inputs, plus {@code steps}. Per axis of size {@code n}, as numpy does: a negative start or end counts
 * from the end ({@code +n}); then with a positive step both clamp to {@code [0, n]}, with a negative step
 * start clamps to {@code [0, n−1]} and end to {@code [−1, n−1]} (so {@code INT64_MAX}/{@code INT64_MIN}
 * mean "to the end"); the axis keeps {@code max(0, ⌈(end − start)/step⌉)} elements.
 * {@code x: d0×…×dr−1 → out: k0×…×kr−1}. Native: a strided copy of plain float32 data ({@link Strided}).
 */
public final class Slice implements Op {
    static void register(Registry.Table t) {
        t.add("Slice", 1, new Slice());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        return plan(node, in, ctx).step(node, in.type(0));
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        return Strided.lower(node, in, lowering, () -> plan(node, in, lowering.context()));
    }

    /** The strided read this node does: checks starts/ends/axes/steps and clamps them against the input shape. */
    static Strided plan(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "data");
        int rank = x.length;
        long[] starts, ends, axes, steps;
        if (ctx.opset() < 10) {
            starts = node.attributes().getInts("starts", null);
            ends = node.attributes().getInts("ends", null);
            axes = node.attributes().getInts("axes", null);
            steps = null;
            if (starts == null || ends == null) throw Ops.error(node, "attributes starts and ends are required (opset " + ctx.opset() + ")");
        } else {
            in.require(1, node, "starts");
            in.require(2, node, "ends");
            starts = in.constantLongs(1, node, "starts");
            ends = in.constantLongs(2, node, "ends");
            axes = in.constantLongs(3, node, "axes");
            steps = in.constantLongs(4, node, "steps");
        }
        if (starts.length != ends.length) {
            throw Ops.error(node, "starts " + Ops.format(starts) + " and ends " + Ops.format(ends) + " differ in length");
        }
        int k = starts.length;
        if (axes == null) {
            if (k > rank) throw Ops.error(node, "starts has " + k + " values, more than the data's rank " + rank);
            axes = new long[k];
            for (int i = 0; i < k; i++) axes[i] = i;
        } else if (axes.length != k) {
            throw Ops.error(node, "axes " + Ops.format(axes) + " has " + axes.length + " values, starts has " + k);
        }
        if (steps == null) {
            steps = new long[k];
            java.util.Arrays.fill(steps, 1);
        } else if (steps.length != k) {
            throw Ops.error(node, "steps " + Ops.format(steps) + " has " + steps.length + " values, starts has " + k);
        }

        long[] start = new long[rank], step = new long[rank], out = x.clone();
        java.util.Arrays.fill(step, 1);
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < k; i++) {
            int a = Ops.axis(axes[i], rank, node);
            if (seen[a]) throw Ops.error(node, "axes " + Ops.format(axes) + " names axis " + a + " twice");
            seen[a] = true;
            if (steps[i] == 0) throw Ops.error(node, "steps " + Ops.format(steps) + " has a 0 (axis " + axes[i] + ")");
            long n = x[a];
            long b = starts[i], e = ends[i], st = steps[i];
            if (b < 0) b += n;
            if (e < 0) e += n;
            if (st > 0) {
                b = clamp(b, 0, n);
                e = clamp(e, 0, n);
            } else {
                b = clamp(b, 0, n - 1);
                e = clamp(e, -1, n - 1);
            }
            // ⌈(e − b)/st⌉ without overflow: |e − b| ≤ n + 1 after clamping, so a larger |step| takes one element.
            long span = e - b;
            long mag = st > 0 ? Math.min(st, n + 2) : Math.min(-(st + 1), n + 1) + 1;
            long count = n == 0 ? 0 : st > 0 ? (span <= 0 ? 0 : (span + mag - 1) / mag) : (span >= 0 ? 0 : (-span + mag - 1) / mag);
            start[a] = count == 0 ? 0 : b;
            step[a] = count <= 1 ? 1 : st;
            out[a] = count;
        }
        long[] inStrides = Ops.strides(x);
        long offset = 0;
        long[] strides = new long[rank];
        for (int d = 0; d < rank; d++) {
            offset += start[d] * inStrides[d];
            strides[d] = step[d] * inStrides[d];
        }
        return new Strided(x, out, out, offset, strides);
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
