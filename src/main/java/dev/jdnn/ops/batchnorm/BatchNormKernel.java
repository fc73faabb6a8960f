package dev.jdnn.ops.batchnorm;

import dev.jdnn.Tensor;

/**
 * The two computations behind a batch norm, implemented by oneDNN ({@link NativeBatchNorm}) and by
 * plain loops ({@link ReferenceBatchNorm}). Tensors are {@code N×C×(spatial…)}, already checked by
 * {@link BatchNorm}; per-channel arrays have C entries.
 */
interface BatchNormKernel {
    /** {@code y = γ·(x − mean)/√(var + ε) + β} with the given statistics. */
    void normalize(Tensor x, Tensor y, float[] mean, float[] var, float[] gamma, float[] beta, float eps);

    /**
     * Computes the batch's per-channel mean and <em>biased</em> variance (over N and spatial) into
     * {@code meanOut}/{@code varOut}, and normalises {@code x} with them into {@code y}.
     */
    void normalizeWithBatchStatistics(Tensor x, Tensor y, float[] gamma, float[] beta, float eps,
                                      float[] meanOut, float[] varOut);
}
