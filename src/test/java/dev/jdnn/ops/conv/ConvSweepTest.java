package dev.jdnn.ops.conv;

import static dev.jdnn.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Native convolution and fused ConvBn against the Java reference over a sweep of shapes and options. */
class ConvSweepTest {

    static List<Conv2dParams> sweep() {
        List<Conv2dParams> all = new ArrayList<>();
        int[][] channelGroups = {{3, 8, 1}, {8, 8, 8}, {16, 24, 4}, {17, 5, 1}, {32, 64, 1}};
        int[][] kernels = {{1, 1}, {3, 3}, {5, 3}};
        for (int[] cg : channelGroups) {
            for (int[] k : kernels) {
                for (int stride = 1; stride <= 2; stride++) {
                    Conv2dParams p = Conv2dParams.of(cg[0], cg[1], k[0], k[1]).withGroups(cg[2]).withStride(stride, stride)
                            .withPadding(k[0] / 2, k[1] / 2, (k[0] - 1) / 2 + stride - 1, k[1] / 2);
                    all.add(p);
                    if (k[0] > 1) all.add(p.withDilation(2, 1));
                }
            }
        }
        return all;
    }

    static float[] random(Random r, long n) {
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sweep")
    void nativeMatchesReference(Conv2dParams p) {
        Random r = new Random(p.hashCode());
        long[] in = {2, p.inChannels(), 11, 9};
        Conv2d conv = new Conv2d(p, random(r, p.weightCount()), r.nextBoolean() ? random(r, p.outChannels()) : null);
        try (Tensor x = Tensor.of(random(r, 2L * p.inChannels() * 11 * 9), in);
             Tensor expected = Tensor.zeros(p.outputShape(in));
             Tensor got = Tensor.zeros(p.outputShape(in));
             NativeConv2d compiled = new NativeConv2d(conv, in, NativeConv2d.PostOps.NONE)) {
            ReferenceConv2d.run(conv, x, expected);
            compiled.run(x, null, got);
            assertClose(expected.toArray(), got.toArray(), 1e-4, p.toString());
            float[] first = got.toArray();
            compiled.run(x, null, got);
            assertArrayEquals(first, got.toArray(), 0f, "repeated execution is deterministic");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sweep")
    void fusedMatchesReferenceChain(Conv2dParams p) {
        Random r = new Random(31L * p.hashCode());
        long[] in = {2, p.inChannels(), 8, 10};
        int k = p.outChannels();
        Conv2d conv = new Conv2d(p, random(r, p.weightCount()), r.nextBoolean() ? random(r, k) : null);
        float[] var = new float[k];
        for (int i = 0; i < k; i++) var[i] = 0.2f + r.nextFloat();
        try (BatchNorm bn = new BatchNorm(k).setWeight(random(r, k)).setBias(random(r, k))
                .setRunningMean(random(r, k)).setRunningVar(var);
             ConvBn fused = new ConvBn(conv, bn, BatchNormMode.EVAL, true, true);
             Tensor x = Tensor.of(random(r, 2L * p.inChannels() * 80), in);
             Tensor residual = Tensor.of(random(r, fused.outputShape(in)[0] * k * fused.outputShape(in)[2] * fused.outputShape(in)[3]),
                     fused.outputShape(in));
             Tensor reference = fused.forward(x, residual, Backend.JAVA);
             Tensor got = fused.forward(x, residual, Backend.NATIVE)) {
            assertClose(reference.toArray(), got.toArray(), 1e-4, p.toString());
        }
    }
}
