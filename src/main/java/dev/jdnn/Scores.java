package dev.jdnn;

/**
 * Class scores as classifiers report them: softmax of a logits row and the indices of the best k. One
 * place for {@code dev.jdnn.image.Classifier} and the Spark module's top-k column, so both rank alike.
 */
public final class Scores {
    private Scores() {}

    /** exp(x − max) / Σ exp(x − max), in double: what {@code torch.softmax} gives for float32 logits, to within float rounding. */
    public static float[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        double[] e = new double[logits.length];
        for (int i = 0; i < logits.length; i++) sum += e[i] = Math.exp(logits[i] - max);
        float[] p = new float[logits.length];
        for (int i = 0; i < logits.length; i++) p[i] = (float) (e[i] / sum);
        return p;
    }

    /**
     * Indices of the {@code min(k, values.length)} largest values, largest first, in {@link Float#compare} order
     * (NaN above everything); ties go to the lower index. k passes of selection, no boxing: k is small.
     */
    public static int[] topK(float[] values, int k) {
        int n = Math.min(k, values.length);
        int[] order = new int[n];
        boolean[] taken = new boolean[values.length];
        for (int rank = 0; rank < n; rank++) {
            int best = -1;
            for (int i = 0; i < values.length; i++) {
                if (!taken[i] && (best < 0 || Float.compare(values[i], values[best]) > 0)) best = i;
            }
            taken[best] = true;
            order[rank] = best;
        }
        return order;
    }
}
