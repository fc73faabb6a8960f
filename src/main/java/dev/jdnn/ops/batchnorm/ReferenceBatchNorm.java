package dev.jdnn.ops.batchnorm;

import dev.jdnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain-loop twin of {@link NativeBatchNorm}. The tensor is read as {@code N×C×S} (S = product of
 * spatial dims); statistics are accumulated in double, two-pass (mean, then squared deviations).
 */
final class ReferenceBatchNorm implements BatchNormKernel {
    static final ReferenceBatchNorm INSTANCE = new ReferenceBatchNorm();

    private ReferenceBatchNorm() {}

    @Override
    public void normalize(Tensor x, Tensor y, float[] mean, float[] var, float[] gamma, float[] beta, float eps) {
        MemorySegment src = x.segment();
        MemorySegment dst = y.segment();
        long n = x.dim(0);
        int c = (int) x.dim(1);
        long s = x.elementCount() / (n * c);
        for (int ch = 0; ch < c; ch++) {
            // y = γ·(x − μ)/√(σ² + ε) + β, evaluated in the same order PyTorch's CPU kernel folds it: x·α + b
            double invStd = 1.0 / Math.sqrt((double) var[ch] + eps);
            double alpha = gamma[ch] * invStd;
            double shift = beta[ch] - mean[ch] * alpha;
            for (long in = 0; in < n; in++) {
                long base = (in * c + ch) * s;
                for (long i = 0; i < s; i++) {
                    float v = src.getAtIndex(ValueLayout.JAVA_FLOAT, base + i);
                    dst.setAtIndex(ValueLayout.JAVA_FLOAT, base + i, (float) (v * alpha + shift));
                }
            }
        }
    }

    @Override
    public void normalizeWithBatchStatistics(Tensor x, Tensor y, float[] gamma, float[] beta, float eps,
                                             float[] meanOut, float[] varOut) {
        MemorySegment src = x.segment();
        long n = x.dim(0);
        int c = (int) x.dim(1);
        long s = x.elementCount() / (n * c);
        double count = (double) n * s;
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (long in = 0; in < n; in++) {
                long base = (in * c + ch) * s;
                for (long i = 0; i < s; i++) sum += src.getAtIndex(ValueLayout.JAVA_FLOAT, base + i);
            }
            double mean = sum / count;
            double squares = 0;
            for (long in = 0; in < n; in++) {
                long base = (in * c + ch) * s;
                for (long i = 0; i < s; i++) {
                    double d = src.getAtIndex(ValueLayout.JAVA_FLOAT, base + i) - mean;
                    squares += d * d;
                }
            }
            meanOut[ch] = (float) mean;
            varOut[ch] = (float) (squares / count); // biased: divide by M, not M − 1
        }
        normalize(x, y, meanOut, varOut, gamma, beta, eps);
    }
}
