package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/**
 * MeanVarianceNormalization (opsets 9, 13): X (float32) normalised over {@code axes} (default
 * {@code [0, 2, 3]}: per channel of an N×C×H×W tensor, over the batch and the plane; negative axes count
 * from the end), as ONNX's function body defines it:
 * <pre>
 *   mean = ReduceMean(X, axes)       var = ReduceMean(X², axes) − mean²
 *   Y = (X − mean) / (√var + 1e-9)   (the 1e-9 is added to the standard deviation, not the variance)
 * </pre>
 * The Java reference computes the statistics in double with two passes ({@code var = mean((X − mean)²)},
 * equal in exact arithmetic to the body's {@code E[X²] − E[X]²} and never negative), rounding Y once.
 */
public final class MeanVarianceNormalization implements Op {
    /** Added to the standard deviation by the ONNX function body (opsets 9 and 13). */
    static final double EPSILON = 1e-9;

    static void register(Registry.Table t) {
        t.add("MeanVarianceNormalization", 9, new MeanVarianceNormalization());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        in.requireFloat(0, node, "X");
        boolean[] reduced = axes(node, x.length);
        int size = arraySize(x, node);
        // For each element, the index of its statistics group: its coordinates on the kept axes, row-major.
        long[] groupStride = new long[x.length];
        long groups = 1;
        for (int d = x.length - 1; d >= 0; d--) {
            groupStride[d] = reduced[d] ? 0 : groups;
            if (!reduced[d]) groups *= x[d];
        }
        int groupCount = (int) groups;
        return step(x, inputs -> {
            float[] v = floats(inputs, 0, node).toArray();
            int[] group = groupOf(x, groupStride, size);
            double[] mean = new double[groupCount], sq = new double[groupCount];
            int[] n = new int[groupCount];
            for (int i = 0; i < size; i++) {
                mean[group[i]] += v[i];
                n[group[i]]++;
            }
            for (int g = 0; g < groupCount; g++) mean[g] /= n[g];
            for (int i = 0; i < size; i++) {
                double d = v[i] - mean[group[i]];
                sq[group[i]] += d * d;
            }
            double[] inv = new double[groupCount];
            for (int g = 0; g < groupCount; g++) inv[g] = 1 / (Math.sqrt(sq[g] / n[g]) + EPSILON);
            for (int i = 0; i < size; i++) v[i] = (float) ((v[i] - mean[group[i]]) * inv[group[i]]);
            return result(v, x);
        });
    }

    /** Which axes of a rank-{@code rank} X the node reduces: its {@code axes} attribute, default [0, 2, 3]. */
    static boolean[] axes(Node node, int rank) {
        long[] axes = node.attributes().getInts("axes", new long[] {0, 2, 3});
        if (axes.length == 0) throw error(node, "axes must not be empty");
        boolean[] reduced = new boolean[rank];
        for (long a : axes) {
            int axis = Checks.axis(node, "axes " + format(axes) + ": axis", a, rank);
            if (reduced[axis]) throw error(node, "axes " + format(axes) + " names axis " + axis + " twice");
            reduced[axis] = true;
        }
        return reduced;
    }

    /** For each element of a row-major {@code shape}, {@code Σ coordinate[d]·groupStride[d]}. */
    private static int[] groupOf(long[] shape, long[] groupStride, int size) {
        int[] group = new int[size];
        long[] coord = new long[shape.length];
        long g = 0;
        for (int i = 0; i < size; i++) {
            group[i] = (int) g;
            for (int d = shape.length - 1; d >= 0; d--) {
                coord[d]++;
                g += groupStride[d];
                if (coord[d] < shape[d]) break;
                g -= groupStride[d] * coord[d];
                coord[d] = 0;
            }
        }
        return group;
    }
}
