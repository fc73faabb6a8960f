package dev.jdnn.ops.conv;

import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;

/**
 * Folds an eval-mode batch norm into the convolution before it (PyTorch's {@code fuse_conv_bn_weights}):
 * per output channel k, with {@code α_k = γ_k/√(var_k + ε)},
 * {@code w'_k = w_k·α_k} and {@code b'_k = (b_k − mean_k)·α_k + β_k} (b = 0 without a conv bias).
 *
 * <p>Only correct for eval-mode BN with running statistics: folding bakes those statistics into the
 * weights, while a training-mode BN normalises each batch with its own statistics. The layer-level
 * {@link #fold(Conv2d, BatchNorm, BatchNormMode)} refuses anything else.
 */
public final class BnFolding {
    private BnFolding() {}

    /** The pure weight transform. {@code convBias} may be null. Computed in double, rounded once. */
    public static Conv2d fold(Conv2dParams params, float[] weights, float[] convBias,
                              float[] gamma, float[] beta, float[] mean, float[] var, double eps) {
        int k = params.outChannels();
        for (float[] a : new float[][] {gamma, beta, mean, var}) {
            if (a.length != k) throw new IllegalArgumentException("batch norm has " + a.length + " channels, conv outputs " + k);
        }
        if (weights.length != params.weightCount()) {
            throw new IllegalArgumentException("weights must have " + params.weightCount() + " values, got " + weights.length);
        }
        long perChannel = params.weightCount() / k;
        float[] w = new float[weights.length];
        float[] b = new float[k];
        for (int oc = 0; oc < k; oc++) {
            double alpha = gamma[oc] / Math.sqrt((double) var[oc] + eps);
            for (long i = 0; i < perChannel; i++) {
                int at = (int) (oc * perChannel + i);
                w[at] = (float) (weights[at] * alpha);
            }
            double bias = convBias == null ? 0 : convBias[oc];
            b[oc] = (float) ((bias - mean[oc]) * alpha + beta[oc]);
        }
        return new Conv2d(params, w, b);
    }

    /**
     * Folds {@code bn} into {@code conv}. {@code mode} is the mode the pair would run in.
     *
     * @throws IllegalArgumentException for {@link BatchNormMode#TRAIN}, or a batch norm without running statistics
     */
    public static Conv2d fold(Conv2d conv, BatchNorm bn, BatchNormMode mode) {
        if (mode != BatchNormMode.EVAL) {
            throw new IllegalArgumentException("cannot fold a batch norm in " + mode + " mode into a convolution: folding bakes the"
                    + " running statistics into the weights, but in training mode batch norm normalises each batch with its own"
                    + " mean and variance");
        }
        if (!bn.tracksRunningStats()) {
            throw new IllegalArgumentException("cannot fold a batch norm without running statistics (trackRunningStats=false):"
                    + " it normalises with batch statistics in every mode, so there is nothing fixed to fold");
        }
        if (bn.numFeatures() != conv.params().outChannels()) {
            throw new IllegalArgumentException("batch norm has " + bn.numFeatures() + " channels, conv outputs " + conv.params().outChannels());
        }
        return fold(conv.params(), conv.weightsView(), conv.biasView(), bn.weight(), bn.bias(), bn.runningMean(), bn.runningVar(), bn.eps());
    }
}
