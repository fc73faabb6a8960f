package dev.jdnn.ops.conv;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;
import org.junit.jupiter.api.Test;

/** Impossible configurations fail in Java with a message, before any native call. */
class ConvErrorsTest {

    static String message(Class<? extends Throwable> type, Runnable r) {
        return assertThrows(type, r::run).getMessage();
    }

    @Test
    void impossibleGeometries() {
        assertTrue(message(IllegalArgumentException.class, () -> Conv2dParams.of(6, 4, 3, 3).withGroups(4))
                .contains("divisible by groups"));
        assertTrue(message(IllegalArgumentException.class, () -> Conv2dParams.of(3, 4, 0, 3)).contains("kernelH must be >= 1"));
        assertTrue(message(IllegalArgumentException.class, () -> Conv2dParams.of(3, 4, 3, 3).withPadding(-1, 0))
                .contains("padding must be >= 0"));
        Conv2dParams big = Conv2dParams.of(3, 4, 7, 7);
        String m = message(IllegalArgumentException.class, () -> big.outputShape(new long[] {1, 3, 5, 5}));
        assertTrue(m.contains("larger than the padded input"), m);
        Conv2dParams dilated = Conv2dParams.of(3, 4, 3, 3).withDilation(3, 3);
        assertTrue(message(IllegalArgumentException.class, () -> dilated.outputShape(new long[] {1, 3, 6, 6})).contains("dilated extent 7"));
        assertTrue(message(IllegalArgumentException.class, () -> Conv2dParams.of(3, 4, 3, 3).outputShape(new long[] {1, 4, 8, 8}))
                .contains("has 4 channels, the convolution expects 3"));
        assertTrue(message(IllegalArgumentException.class, () -> Conv2dParams.of(3, 4, 3, 3).outputShape(new long[] {3, 8, 8}))
                .contains("rank 4"));
    }

    @Test
    void mismatchedWeightsAndTensors() {
        Conv2dParams p = Conv2dParams.of(3, 4, 3, 3).withPadding(1, 1);
        assertTrue(message(IllegalArgumentException.class, () -> new Conv2d(p, new float[10], null)).contains("[4, 3, 3, 3] = 108 values, got 10"));
        assertTrue(message(IllegalArgumentException.class, () -> new Conv2d(p, new float[108], new float[3])).contains("4 values, got 3"));
        Conv2d conv = new Conv2d(p, new float[108], null);
        try (NativeConv2d compiled = new NativeConv2d(conv, new long[] {1, 3, 5, 5}, NativeConv2d.PostOps.NONE);
             Tensor x = Tensor.zeros(1, 3, 5, 6); Tensor y = Tensor.zeros(1, 4, 5, 5)) {
            assertTrue(message(IllegalArgumentException.class, () -> compiled.run(x, null, y)).contains("input [1, 3, 5, 6] does not match"));
            try (Tensor good = Tensor.zeros(1, 3, 5, 5)) {
                assertTrue(message(IllegalArgumentException.class, () -> compiled.run(good, good, y)).contains("without a residual"));
            }
        }
    }

    @Test
    void foldingRefusesTrainingModeAndMissingRunningStats() {
        Conv2d conv = new Conv2d(Conv2dParams.of(2, 3, 1, 1), new float[6], null);
        try (BatchNorm bn = new BatchNorm(3); BatchNorm noStats = new BatchNorm(3, BatchNorm.Options.defaults().withTrackRunningStats(false))) {
            String train = message(IllegalArgumentException.class, () -> BnFolding.fold(conv, bn, BatchNormMode.TRAIN));
            assertTrue(train.contains("TRAIN mode") && train.contains("its own"), train);
            String none = message(IllegalArgumentException.class, () -> BnFolding.fold(conv, noStats, BatchNormMode.EVAL));
            assertTrue(none.contains("trackRunningStats=false"), none);
            assertThrows(IllegalArgumentException.class, () -> new ConvBn(conv, bn, BatchNormMode.TRAIN, false, true));
            try (BatchNorm four = new BatchNorm(4)) {
                assertTrue(message(IllegalArgumentException.class, () -> BnFolding.fold(conv, four, BatchNormMode.EVAL)).contains("4 channels"));
            }
        }
    }

    @Test
    void closedLayersThrow() {
        Conv2d conv = new Conv2d(Conv2dParams.of(2, 3, 1, 1), new float[6], null);
        NativeConv2d compiled = new NativeConv2d(conv, new long[] {1, 2, 4, 4}, NativeConv2d.PostOps.NONE);
        compiled.close();
        compiled.close();
        try (Tensor x = Tensor.zeros(1, 2, 4, 4); Tensor y = Tensor.zeros(1, 3, 4, 4)) {
            assertThrows(IllegalStateException.class, () -> compiled.run(x, null, y));
            try (BatchNorm bn = new BatchNorm(3)) {
                ConvBn fused = new ConvBn(conv, bn, BatchNormMode.EVAL, false, true);
                fused.forward(x, null, Backend.NATIVE).close();
                fused.close();
                fused.close();
                assertThrows(IllegalStateException.class, () -> fused.forward(x, null, Backend.NATIVE));
            }
        }
    }
}
