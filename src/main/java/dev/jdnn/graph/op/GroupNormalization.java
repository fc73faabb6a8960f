package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.graph.Node;

/**
 * GroupNormalization: X {@code N×C×D1×…}'s channels split into num_groups groups of C/G; each sample's
 * group is normalised over its channels and spatial dims together (biased variance, epsilon default
 * 1e-5), then scaled and shifted. Opset 18: scale and bias hold one value per group; opset 21: one per
 * channel (ONNX changed the meaning; opset 21 also adds stash_type, of which jdnn takes 1, float32).
 * Java, statistics in double.
 */
public final class GroupNormalization implements Op {
    private final boolean perChannel;

    private GroupNormalization(boolean perChannel) {
        this.perChannel = perChannel;
    }

    static void register(Registry.Table t) {
        t.add("GroupNormalization", 18, 20, new GroupNormalization(false));
        t.add("GroupNormalization", 21, new GroupNormalization(true));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        in.requireFloat(0, node, "X");
        if (x.length < 2) throw error(node, "X " + format(x) + " must be N×C×… (rank >= 2)");
        if (!node.attributes().has("num_groups")) throw error(node, "attribute num_groups is required");
        long groups = node.attributes().getInt("num_groups", 0);
        long c = x[1];
        if (groups < 1 || c % groups != 0) throw error(node, "num_groups " + groups + " must be >= 1 and divide the " + c + " channels");
        float eps = node.attributes().getFloat("epsilon", 1e-5f);
        if (!(eps >= 0) || Float.isInfinite(eps)) throw error(node, "epsilon must be a finite value >= 0, got " + eps);
        long stash = node.attributes().getInt("stash_type", 1);
        if (stash != 1) throw error(node, "stash_type " + stash + " is not supported (jdnn computes in float32/double: stash_type 1)");
        long per = perChannel ? c : groups;
        for (int i = 1; i <= 2; i++) {
            String what = i == 1 ? "scale" : "bias";
            long[] s = in.require(i, node, what);
            in.requireFloat(i, node, what);
            if (s.length != 1 || s[0] != per) {
                throw error(node, what + " " + format(s) + " must have " + per + " values (one per " + (perChannel ? "channel" : "group")
                        + " at opset " + ctx.opset() + ")");
            }
        }
        arraySize(x, node);
        int n = (int) x[0], g = (int) groups, channels = (int) c;
        int spatial = n * channels == 0 ? 0 : (int) (count(x) / ((long) n * channels));
        int groupSize = channels / g * spatial;
        return step(x, inputs -> {
            float[] v = floats(inputs, 0, node).toArray();
            float[] scale = floats(inputs, 1, node).toArray(), bias = floats(inputs, 2, node).toArray();
            for (int s = 0; s < n; s++) {
                for (int k = 0; k < g; k++) {
                    int from = (s * g + k) * groupSize;
                    if (!perChannel) {
                        InstanceNormalization.normalize(v, from, groupSize, eps, scale[k], bias[k]);
                        continue;
                    }
                    InstanceNormalization.normalize(v, from, groupSize, eps, 1, 0);
                    for (int j = 0; j < groupSize; j++) {
                        int ch = k * (channels / g) + j / spatial;
                        v[from + j] = v[from + j] * scale[ch] + bias[ch];
                    }
                }
            }
            return result(v, x);
        });
    }
}
