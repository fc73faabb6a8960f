package dev.jdnn.ops.batchnorm;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.NativeLibrary;
import java.util.Arrays;

/**
 * A batch-normalisation layer over {@code N×C×(spatial…)} tensors with PyTorch's parameters and
 * state ({@code nn.BatchNorm1d/2d/3d}). All state is readable and settable; getters return copies.
 *
 * <p>State, per channel {@code C}: {@code weight} γ and {@code bias} β (only when {@code affine};
 * otherwise γ = 1, β = 0 and the setters refuse), {@code runningMean} and {@code runningVar} (only when
 * {@code trackRunningStats}), and the counter {@code numBatchesTracked}.
 * <p>Forward, with the mode always explicit:
 * <pre>{@code
 * try (BatchNorm bn = new BatchNorm(64)) {
 *     Tensor y = bn.forward(BatchNormMode.TRAIN, x);   // batch stats; running stats updated
 *     float[] mu = bn.lastBatchMean();                  // what the batch was normalised with
 *     Tensor z = bn.forward(BatchNormMode.EVAL, x);    // running stats; the layer does not change
 * }
 * }</pre>
 * Without running statistics ({@code trackRunningStats=false}) both modes use batch statistics, as in
 * PyTorch. Every batch-statistics forward needs more than one value per channel (N·spatial > 1).
 *
 * <p>Backends: {@link Backend#NATIVE} (oneDNN) or {@link Backend#JAVA} (plain loops), chosen per
 * layer ({@link #setBackend}; default native when oneDNN loads) or per call.
 * Thread-safe: forward passes and state access are synchronised. {@link #close()} releases the
 * compiled native primitives; afterwards forward throws.
 */
public final class BatchNorm implements AutoCloseable {

    /** Per-channel statistics a layer can normalise with: a mean and a variance. */
    public record Statistics(float[] mean, float[] variance) {
        public Statistics {
            mean = mean.clone();
            variance = variance.clone();
            if (mean.length != variance.length) {
                throw new IllegalArgumentException("mean has " + mean.length + " channels, variance " + variance.length);
            }
        }

        @Override public float[] mean() { return mean.clone(); }
        @Override public float[] variance() { return variance.clone(); }
    }

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
    private float[] lastMean;           // the last batch-statistics forward's batch mean
    private float[] lastVar;            // ... its biased variance (what it normalised with)
    private float[] lastUnbiasedVar;    // ... its unbiased variance (what went into runningVar)
    private Backend backend = NativeLibrary.isAvailable() ? Backend.NATIVE : Backend.JAVA;
    private NativeBatchNorm nativeKernel; // created on first native use
    private boolean closed;

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

    /** The backend used by forward calls that do not name one. */
    public synchronized Backend backend() { return backend; }

    public synchronized BatchNorm setBackend(Backend value) {
        backend = java.util.Objects.requireNonNull(value, "backend");
        return this;
    }

    /** {@link #forward(BatchNormMode, Tensor, Tensor, Backend)} into a new tensor (the caller closes it), on the layer's backend. */
    public Tensor forward(BatchNormMode mode, Tensor x) {
        return forward(mode, x, backend());
    }

    /** {@link #forward(BatchNormMode, Tensor, Tensor, Backend)} into a new tensor (the caller closes it). */
    public Tensor forward(BatchNormMode mode, Tensor x, Backend on) {
        Tensor y = Tensor.zeros(x.shape());
        try {
            forward(mode, x, y, on);
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /**
     * Normalises {@code x} ({@code N×C×(spatial…)}, C = {@link #numFeatures()}) into {@code y} (same
     * shape; may be {@code x} itself).
     * <ul>
     *   <li>{@code EVAL} with running statistics: {@code y = γ·(x − runningMean)/√(runningVar + ε) + β}; no state changes.</li>
     *   <li>{@code TRAIN}, or any mode without running statistics: normalises with the batch's mean and
     *       biased variance over N and spatial (M values per channel); records them (see
     *       {@link #lastBatchMean()}). In {@code TRAIN} with running statistics it also increments
     *       {@code numBatchesTracked} and sets {@code running ← (1−m)·running + m·batch} with the
     *       <em>unbiased</em> variance {@code var·M/(M−1)}; m = momentum, or 1/numBatchesTracked when momentum is null.</li>
     * </ul>
     *
     * @throws IllegalArgumentException for a wrong rank, channel count or output shape, or M ≤ 1 with batch statistics
     * @throws IllegalStateException if this layer or a tensor is closed
     */
    public synchronized void forward(BatchNormMode mode, Tensor x, Tensor y, Backend on) {
        java.util.Objects.requireNonNull(mode, "mode");
        checkInput(x, y);
        float eps = (float) options.eps();
        float[] gamma = weight();
        float[] beta = bias();
        if (mode == BatchNormMode.EVAL && options.trackRunningStats()) {
            kernel(on).normalize(x, y, runningMean, runningVar, gamma, beta, eps);
            return;
        }
        long perChannel = x.elementCount() / x.dim(1);
        if (perChannel <= 1) {
            throw new IllegalArgumentException("Expected more than 1 value per channel when training, got input size "
                    + Tensor.format(x.shape()) + " (batch statistics need N·spatial > 1)");
        }
        float[] mean = new float[numFeatures];
        float[] var = new float[numFeatures];
        kernel(on).normalizeWithBatchStatistics(x, y, gamma, beta, eps, mean, var);
        float[] unbiased = new float[numFeatures];
        for (int c = 0; c < numFeatures; c++) unbiased[c] = (float) ((double) var[c] * perChannel / (perChannel - 1));
        lastMean = mean;
        lastVar = var;
        lastUnbiasedVar = unbiased;
        if (mode == BatchNormMode.TRAIN && options.trackRunningStats()) {
            numBatchesTracked++;
            double m = options.momentum() == null ? 1.0 / numBatchesTracked : options.momentum();
            for (int c = 0; c < numFeatures; c++) {
                runningMean[c] = (float) ((1 - m) * runningMean[c] + m * mean[c]);
                runningVar[c] = (float) ((1 - m) * runningVar[c] + m * unbiased[c]);
            }
        }
    }

    /**
     * Normalises {@code x} with the given statistics and this layer's γ, β and ε, changing nothing
     * in the layer: e.g. apply the running statistics (or the last batch's) to another tensor while
     * training. The caller closes the result.
     */
    public Tensor apply(Statistics statistics, Tensor x, Backend on) {
        Tensor y = Tensor.zeros(x.shape());
        try {
            synchronized (this) {
                checkInput(x, y);
                if (statistics.mean.length != numFeatures) {
                    throw new IllegalArgumentException("statistics have " + statistics.mean.length + " channels, layer has " + numFeatures);
                }
                for (int c = 0; c < numFeatures; c++) {
                    if (!(statistics.variance[c] >= 0)) throw new IllegalArgumentException("variance[" + c + "] = " + statistics.variance[c] + " is negative or NaN");
                }
                kernel(on).normalize(x, y, statistics.mean, statistics.variance, weight(), bias(), (float) options.eps());
            }
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /** The running statistics as a {@link Statistics} (throws without running statistics). */
    public synchronized Statistics runningStatistics() {
        return new Statistics(requireRunning("runningMean", runningMean), runningVar);
    }

    /** The last batch's mean and biased variance, i.e. what its forward normalised with. */
    public synchronized Statistics lastBatchStatistics() {
        return new Statistics(requireLast(lastMean), lastVar);
    }

    /** Mean of the last batch-statistics forward, per channel. */
    public synchronized float[] lastBatchMean() { return requireLast(lastMean).clone(); }
    /** Biased variance (÷M) of the last batch-statistics forward: what it normalised with. */
    public synchronized float[] lastBatchVariance() { return requireLast(lastVar).clone(); }
    /** Unbiased variance (÷(M−1)) of the last batch-statistics forward: what the running variance was updated with. */
    public synchronized float[] lastBatchUnbiasedVariance() { return requireLast(lastUnbiasedVar).clone(); }

    private static float[] requireLast(float[] value) {
        if (value == null) {
            throw new IllegalStateException("no batch statistics yet: run forward(TRAIN, ...) (or any forward without running statistics) first");
        }
        return value;
    }

    private void checkInput(Tensor x, Tensor y) {
        if (closed) throw new IllegalStateException(this + " is closed");
        if (x.isClosed()) throw new IllegalStateException("input " + x + " is closed");
        if (y.isClosed()) throw new IllegalStateException("output " + y + " is closed");
        long[] shape = x.shape();
        if (shape.length < 2) {
            throw new IllegalArgumentException("batch norm input must be N×C×(spatial…) with rank >= 2, got " + Tensor.format(shape));
        }
        if (shape[1] != numFeatures) {
            throw new IllegalArgumentException("input " + Tensor.format(shape) + " has " + shape[1]
                    + " channels (axis 1), this batch norm has " + numFeatures);
        }
        if (x.elementCount() == 0) throw new IllegalArgumentException("input " + Tensor.format(shape) + " is empty");
        if (!Arrays.equals(shape, y.shape())) {
            throw new IllegalArgumentException("output " + Tensor.format(y.shape()) + " must have the input's shape " + Tensor.format(shape));
        }
    }

    private BatchNormKernel kernel(Backend on) {
        if (java.util.Objects.requireNonNull(on, "backend") == Backend.JAVA) return ReferenceBatchNorm.INSTANCE;
        if (nativeKernel == null) nativeKernel = new NativeBatchNorm();
        return nativeKernel;
    }

    /** Releases compiled native primitives; idempotent. State stays readable; forward throws afterwards. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (nativeKernel != null) nativeKernel.close();
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
