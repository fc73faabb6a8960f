package dev.jdnn.ops.eltwise;

import dev.jdnn.Tensor;
import java.util.Arrays;

/** Plain-loop twin of {@link NativeEltwise}: {@code dst[i] = f(src[i])}. */
public final class ReferenceEltwise {
    private ReferenceEltwise() {}

    public static void run(EltwiseAlgorithm algorithm, float alpha, float beta, Tensor src, Tensor dst) {
        if (!Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("src " + Tensor.format(src.shape()) + " and dst " + Tensor.format(dst.shape()) + " differ");
        }
        long n = src.elementCount();
        for (long i = 0; i < n; i++) dst.setFlat(i, algorithm.apply(src.getFlat(i), alpha, beta));
    }
}
