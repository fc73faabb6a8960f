package dev.jdnn.ops.batchnorm;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BatchNormErrorsTest {

    static String message(Runnable r, Class<? extends Throwable> type) {
        return assertThrows(type, r::run).getMessage();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void badInputsAreRejectedWithMessages(Backend backend) {
        try (BatchNorm bn = new BatchNorm(3).setBackend(backend)) {
            try (Tensor wrongC = Tensor.zeros(2, 4, 2, 2)) {
                assertTrue(message(() -> bn.forward(BatchNormMode.EVAL, wrongC), IllegalArgumentException.class)
                        .contains("has 4 channels (axis 1), this batch norm has 3"));
            }
            try (Tensor rank1 = Tensor.zeros(3)) {
                assertTrue(message(() -> bn.forward(BatchNormMode.EVAL, rank1), IllegalArgumentException.class).contains("rank >= 2"));
            }
            try (Tensor single = Tensor.of(new float[] {1, 2, 3}, 1, 3)) {
                String m = message(() -> bn.forward(BatchNormMode.TRAIN, single), IllegalArgumentException.class);
                assertTrue(m.contains("Expected more than 1 value per channel when training"), m);
                assertEquals(0, bn.numBatchesTracked(), "a refused forward changes nothing");
                bn.forward(BatchNormMode.EVAL, single).close(); // eval with running stats is fine for M = 1
            }
            try (Tensor x = Tensor.zeros(2, 3, 2, 2); Tensor y = Tensor.zeros(2, 3, 2, 1)) {
                assertTrue(message(() -> bn.forward(BatchNormMode.EVAL, x, y, backend), IllegalArgumentException.class).contains("must have the input's shape"));
            }
            Tensor closed = Tensor.zeros(2, 3, 2, 2);
            closed.close();
            assertThrows(IllegalStateException.class, () -> bn.forward(BatchNormMode.EVAL, closed));
        }
    }

    @Test
    void oneValuePerChannelIsAnErrorWithoutRunningStatsEvenInEval() {
        try (BatchNorm bn = new BatchNorm(2, BatchNorm.Options.defaults().withTrackRunningStats(false));
             Tensor single = Tensor.of(new float[] {1, 2}, 1, 2, 1)) {
            assertThrows(IllegalArgumentException.class, () -> bn.forward(BatchNormMode.EVAL, single));
        }
    }

    @Test
    void parametersAreValidated() {
        BatchNorm bn = new BatchNorm(3);
        assertTrue(message(() -> bn.setWeight(new float[2]), IllegalArgumentException.class).contains("needs 3 values"));
        assertTrue(message(() -> bn.setRunningVar(new float[] {1, -1, 1}), IllegalArgumentException.class).contains("runningVar[1]"));
        assertTrue(message(() -> bn.setBias(new float[] {0, Float.NaN, 0}), IllegalArgumentException.class).contains("bias[1]"));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm(0));
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.Options.defaults().withEps(0));
        assertThrows(IllegalArgumentException.class, () -> BatchNorm.Options.defaults().withMomentum(1.5));
        BatchNorm noAffine = new BatchNorm(3, BatchNorm.Options.defaults().withAffine(false));
        assertTrue(message(() -> noAffine.setWeight(new float[3]), IllegalStateException.class).contains("affine=false"));
        assertArrayEquals(new float[] {1, 1, 1}, noAffine.weight());
        BatchNorm noStats = new BatchNorm(3, BatchNorm.Options.defaults().withTrackRunningStats(false));
        assertTrue(message(noStats::runningMean, IllegalStateException.class).contains("trackRunningStats=false"));
        assertTrue(message(bn::lastBatchMean, IllegalStateException.class).contains("no batch statistics yet"));
    }

    @Test
    void closedLayerThrowsAndCloseIsIdempotent() {
        BatchNorm bn = new BatchNorm(3).setBackend(Backend.NATIVE);
        try (Tensor x = Tensor.zeros(2, 3, 2, 2)) {
            bn.forward(BatchNormMode.EVAL, x).close();
            bn.close();
            bn.close();
            assertThrows(IllegalStateException.class, () -> bn.forward(BatchNormMode.EVAL, x));
            assertEquals(3, bn.runningMean().length, "state stays readable");
        }
    }

    @Test
    void nativePrimitivesAreCompiledOncePerShapeAndMode() {
        try (BatchNorm bn = new BatchNorm(3).setBackend(Backend.NATIVE); Tensor x = Tensor.zeros(2, 3, 4, 4)) {
            for (int i = 0; i < 3; i++) {
                bn.forward(BatchNormMode.EVAL, x).close();
                bn.forward(BatchNormMode.TRAIN, x).close();
            }
            bn.forward(BatchNormMode.EVAL, x, x, Backend.NATIVE); // in place is allowed
        }
        NativeBatchNorm kernel = new NativeBatchNorm();
        try (Tensor x = Tensor.zeros(2, 3, 4, 4); Tensor y = Tensor.zeros(2, 3, 4, 4)) {
            float[] ones = {1, 1, 1};
            float[] zeros = {0, 0, 0};
            for (int i = 0; i < 3; i++) kernel.normalize(x, y, zeros, ones, ones, zeros, 1e-5f);
            assertEquals(1, kernel.compiledCount());
            kernel.normalizeWithBatchStatistics(x, y, ones, zeros, 1e-5f, new float[3], new float[3]);
            assertEquals(2, kernel.compiledCount());
        } finally {
            kernel.close();
        }
    }
}
