package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/**
 * InstanceNormalization: X {@code N×C×D1×…} is normalised per sample and channel over its spatial dims,
 * {@code y = scale[c]·(x − mean)/√(var + ε) + B[c]} (biased variance; scale and B of C values; epsilon
 * default 1e-5). Java, statistics in double.
 */
public final class InstanceNormalization implements Op {
    static void register(Registry.Table t) {
        t.add("InstanceNormalization", 1, new InstanceNormalization());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "input");
        in.requireFloat(0, node, "input");
        if (x.length < 3) throw error(node, "input " + format(x) + " must be N×C×D1×… (rank >= 3)");
        long c = x[1];
        for (int i = 1; i <= 2; i++) {
            String what = i == 1 ? "scale" : "B";
            long[] s = in.require(i, node, what);
            in.requireFloat(i, node, what);
            if (s.length != 1 || s[0] != c) throw error(node, what + " " + format(s) + " must have " + c + " values (one per channel)");
        }
        float eps = node.attributes().getFloat("epsilon", 1e-5f);
        if (!(eps >= 0) || Float.isInfinite(eps)) throw error(node, "epsilon must be a finite value >= 0, got " + eps);
        arraySize(x, node);
        int planes = (int) (x[0] * c), channels = (int) c;
        int spatial = planes == 0 ? 0 : (int) (count(x) / planes);
        return step(x, inputs -> {
            float[] v = floats(inputs, 0, node).toArray();
            float[] scale = floats(inputs, 1, node).toArray(), bias = floats(inputs, 2, node).toArray();
            for (int p = 0; p < planes; p++) {
                int ch = p % channels;
                normalize(v, p * spatial, spatial, eps, scale[ch], bias[ch]);
            }
            return result(v, x);
        });
    }

    /** In place: {@code v[from..from+n) ← (v − mean)/√(var + ε)·scale + shift}, statistics in double. */
    static void normalize(float[] v, int from, int n, float eps, double scale, double shift) {
        double sum = 0;
        for (int j = 0; j < n; j++) sum += v[from + j];
        double mean = sum / n, sq = 0;
        for (int j = 0; j < n; j++) {
            double d = v[from + j] - mean;
            sq += d * d;
        }
        double inv = 1 / Math.sqrt(sq / n + eps);
        for (int j = 0; j < n; j++) v[from + j] = (float) ((v[from + j] - mean) * inv * scale + shift);
    }
}
