package dev.jdnn.ops.batchnorm;

import java.util.Arrays;

/**
 * A batch-normalisation layer over {@code N×C×(spatial…)} tensors with PyTorch's parameters and
 * state ({@code nn.BatchNorm1d/2d/3d}). All state is readable and settable; getters return copies.
 *
 * <p>State, per channel {@code C}: {@code weight} γ and {@code bias} β (only when {@code affine};
 * otherwise γ = 1, β = 0 and the setters refuse), {@code runningMean} and {@code runningVar} (only when
 * {@code trackRunningStats}), and the counter {@code numBatchesTracked}.
 * Thread-safe: state access is synchronised.
 */
public final class BatchNorm {

    /**
     * PyTorch's constructor options. {@code momentum} null means a cumulative moving average
     * ({@code m = 1/numBatchesTracked}), as {@code momentum=None} in PyTorch.
     */
    public record Options(double eps, Double momentum, boolean affine, boolean trackRunningStats) {
        public Options {
            if (!(eps > 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("eps must be a positive finite number, got " + eps);
            if (momentum != null && !(momentum >= 0 && momentum <= 1)) {
                throw new IllegalArgumentException("momentum must be in [0, 1] or null (cumulative average), got " + momentum);
            }
        }

        /** PyTorch's defaults: eps 1e-5, momentum 0.1, affine, tracking running statistics. */
        public static Options defaults() {
            return new Options(1e-5, 0.1, true, true);
        }

        public Options withEps(double value) { return new Options(value, momentum, affine, trackRunningStats); }
        public Options withMomentum(Double value) { return new Options(eps, value, affine, trackRunningStats); }
        public Options withAffine(boolean value) { return new Options(eps, momentum, value, trackRunningStats); }
        public Options withTrackRunningStats(boolean value) { return new Options(eps, momentum, affine, value); }
    }

    private final int numFeatures;
    private final Options options;
    private final float[] weight;       // null unless affine
    private final float[] bias;         // null unless affine
    private final float[] runningMean;  // null unless trackRunningStats
    private final float[] runningVar;   // null unless trackRunningStats
    private long numBatchesTracked;

    /** A layer with PyTorch's initial state: γ = 1, β = 0, running mean 0, running variance 1. */
    public BatchNorm(int numFeatures, Options options) {
        if (numFeatures < 1) throw new IllegalArgumentException("numFeatures must be >= 1, got " + numFeatures);
        this.numFeatures = numFeatures;
        this.options = options;
        this.weight = options.affine() ? filled(numFeatures, 1f) : null;
        this.bias = options.affine() ? new float[numFeatures] : null;
        this.runningMean = options.trackRunningStats() ? new float[numFeatures] : null;
        this.runningVar = options.trackRunningStats() ? filled(numFeatures, 1f) : null;
    }

    public BatchNorm(int numFeatures) {
        this(numFeatures, Options.defaults());
    }

    public int numFeatures() { return numFeatures; }
    public Options options() { return options; }
    public double eps() { return options.eps(); }
    public boolean affine() { return options.affine(); }
    public boolean tracksRunningStats() { return options.trackRunningStats(); }

    /** γ per channel; all ones when not affine. */
    public synchronized float[] weight() { return weight == null ? filled(numFeatures, 1f) : weight.clone(); }
    /** β per channel; all zeros when not affine. */
    public synchronized float[] bias() { return bias == null ? new float[numFeatures] : bias.clone(); }

    /** Running mean per channel; throws when the layer does not track running statistics. */
    public synchronized float[] runningMean() { return requireRunning("runningMean", runningMean).clone(); }
    /** Running (unbiased) variance per channel; throws when the layer does not track running statistics. */
    public synchronized float[] runningVar() { return requireRunning("runningVar", runningVar).clone(); }
    public synchronized long numBatchesTracked() { return numBatchesTracked; }

    public synchronized BatchNorm setWeight(float[] values) { copyInto("weight", requireAffine("weight", weight), values, false); return this; }
    public synchronized BatchNorm setBias(float[] values) { copyInto("bias", requireAffine("bias", bias), values, false); return this; }
    public synchronized BatchNorm setRunningMean(float[] values) { copyInto("runningMean", requireRunning("runningMean", runningMean), values, false); return this; }
    public synchronized BatchNorm setRunningVar(float[] values) { copyInto("runningVar", requireRunning("runningVar", runningVar), values, true); return this; }

    public synchronized BatchNorm setNumBatchesTracked(long value) {
        if (value < 0) throw new IllegalArgumentException("numBatchesTracked must be >= 0, got " + value);
        requireRunning("numBatchesTracked", runningMean);
        numBatchesTracked = value;
        return this;
    }

    private float[] requireAffine(String name, float[] field) {
        if (field == null) throw new IllegalStateException(name + " does not exist: this batch norm was built with affine=false");
        return field;
    }

    private float[] requireRunning(String name, float[] field) {
        if (field == null) {
            throw new IllegalStateException(name + " does not exist: this batch norm was built with trackRunningStats=false");
        }
        return field;
    }

    private void copyInto(String name, float[] target, float[] values, boolean nonNegative) {
        if (values.length != numFeatures) {
            throw new IllegalArgumentException(name + " needs " + numFeatures + " values (one per channel), got " + values.length);
        }
        for (int c = 0; c < values.length; c++) {
            if (!Float.isFinite(values[c]) || (nonNegative && values[c] < 0)) {
                throw new IllegalArgumentException(name + "[" + c + "] = " + values[c] + " is not a valid "
                        + (nonNegative ? "variance (finite, >= 0)" : "finite value"));
            }
        }
        System.arraycopy(values, 0, target, 0, numFeatures);
    }

    private static float[] filled(int n, float value) {
        float[] a = new float[n];
        Arrays.fill(a, value);
        return a;
    }

    @Override
    public String toString() {
        return "BatchNorm(" + numFeatures + ", eps=" + options.eps() + ", momentum=" + options.momentum()
                + ", affine=" + options.affine() + ", trackRunningStats=" + options.trackRunningStats() + ")";
    }
}
