package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/** LRN (AlexNet, GoogLeNet v1): local response normalisation across channels; Java only. */
public final class Lrn implements Op {
    static void register(Registry.Table t) {
        t.add("LRN", 1, new Lrn());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        in.requireFloat(0, node, "X");
        return lrn(node, in.require(0, node, "X"));
    }

    /** LRN across channels: {@code y = x / (bias + alpha/size · Σ x²)^beta} over [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]. */
    static Step lrn(Node node, long[] x) {
        if (x.length < 3) throw error(node, "input " + format(x) + " must be N×C×spatial...");
        long size = node.attributes().getInt("size", -1);
        if (!node.attributes().has("size")) throw error(node, "attribute size is required");
        Checks.positive(node, "size", size);
        double alpha = node.attributes().getFloat("alpha", 1e-4f);
        double beta = node.attributes().getFloat("beta", 0.75f);
        double bias = node.attributes().getFloat("bias", 1f);
        int n = (int) x[0], c = (int) x[1];
        int spatial = (int) (count(x) / ((long) n * c));
        int before = (int) ((size - 1) / 2), after = (int) (size - 1 - before);
        return step(x, in -> {
            float[] src = floats(in, 0, node).toArray();
            float[] dst = new float[src.length];
            for (int b = 0; b < n; b++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < spatial; i++) {
                        double sum = 0;
                        for (int j = Math.max(0, ch - before); j <= Math.min(c - 1, ch + after); j++) {
                            double v = src[(b * c + j) * spatial + i];
                            sum += v * v;
                        }
                        int at = (b * c + ch) * spatial + i;
                        dst[at] = (float) (src[at] / Math.pow(bias + alpha / size * sum, beta));
                    }
                }
            }
            return result(dst, x);
        });
    }
}
