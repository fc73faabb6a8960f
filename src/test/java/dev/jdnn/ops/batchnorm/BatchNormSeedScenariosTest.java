package dev.jdnn.ops.batchnorm;

import static dev.jdnn.testing.Fixtures.array;
import static dev.jdnn.testing.Fixtures.assertClose;
import static dev.jdnn.testing.Fixtures.maxScaledError;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The seed question "I reproduce BatchNorm2d by hand and get a different answer", as executable checks
 * against PyTorch's own outputs.
 */
class BatchNormSeedScenariosTest {
    static final Path CASE = Fixtures.ROOT.resolve("batchnorm/bn2d_default");

    /** The hand formula y = γ(x − mean)/√(var + ε) + β, written the obvious way, over N×C×H×W. */
    static float[] handFormula(float[] x, long[] dims, float[] mean, float[] var, float[] gamma, float[] beta, float eps) {
        int c = (int) dims[1];
        int spatial = (int) (x.length / dims[0] / c);
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            int ch = (i / spatial) % c;
            y[i] = (float) (gamma[ch] * (x[i] - mean[ch]) / Math.sqrt(var[ch] + eps) + beta[ch]);
        }
        return y;
    }

    /** Per-channel mean and variance of N×C×H×W data, dividing by M (biased) or M − 1 (unbiased). */
    static float[][] batchStatistics(float[] x, long[] dims, boolean unbiased) {
        int c = (int) dims[1];
        int spatial = (int) (x.length / dims[0] / c);
        long m = x.length / c;
        double[] sum = new double[c];
        double[] sq = new double[c];
        for (int i = 0; i < x.length; i++) sum[(i / spatial) % c] += x[i];
        float[] mean = new float[c];
        for (int ch = 0; ch < c; ch++) mean[ch] = (float) (sum[ch] / m);
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - sum[(i / spatial) % c] / m;
            sq[(i / spatial) % c] += d * d;
        }
        float[] var = new float[c];
        for (int ch = 0; ch < c; ch++) var[ch] = (float) (sq[ch] / (unbiased ? m - 1 : m));
        return new float[][] {mean, var};
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void handFormulaWithRunningStatsReproducesEvalButNotTrain(Backend backend) {
        float[] gamma = array(CASE.resolve("weight.npy"));
        float[] beta = array(CASE.resolve("bias.npy"));
        float[] runningMean = array(CASE.resolve("running_mean_0.npy"));
        float[] runningVar = array(CASE.resolve("running_var_0.npy"));
        try (BatchNorm bn = new BatchNorm(3).setBackend(backend);
             Tensor x = Fixtures.tensor(CASE.resolve("x_1.npy"))) {
            bn.setWeight(gamma).setBias(beta).setRunningMean(runningMean).setRunningVar(runningVar);
            long[] dims = x.shape();
            float[] hand = handFormula(x.toArray(), dims, runningMean, runningVar, gamma, beta, 1e-5f);
            try (Tensor eval = bn.forward(BatchNormMode.EVAL, x)) {
                assertClose(hand, eval.toArray(), 1e-6, "eval = hand formula with running stats");
            }

            float[] pytorchTrain = array(CASE.resolve("y_1.npy"));
            assertTrue(maxScaledError(pytorchTrain, hand) > 0.1,
                    "in train mode PyTorch does NOT use the running stats, so the hand formula with them is far off");
            float[][] biased = batchStatistics(x.toArray(), dims, false);
            float[][] unbiased = batchStatistics(x.toArray(), dims, true);
            assertClose(pytorchTrain, handFormula(x.toArray(), dims, biased[0], biased[1], gamma, beta, 1e-5f), 1e-5,
                    "train = hand formula with the batch mean and BIASED variance");
            assertTrue(maxScaledError(pytorchTrain, handFormula(x.toArray(), dims, unbiased[0], unbiased[1], gamma, beta, 1e-5f)) > 1e-4,
                    "the unbiased variance is what updates running_var, not what normalises");

            try (Tensor train = bn.forward(BatchNormMode.TRAIN, x)) {
                assertClose(pytorchTrain, train.toArray(), 1e-5, "jdnn train = PyTorch train");
            }
            assertClose(unbiased[1], bn.lastBatchUnbiasedVariance(), 1e-5, "unbiased variance exposed");
            // running_var ← 0.9·running_var + 0.1·unbiased
            float[] expectedRunningVar = new float[3];
            for (int c = 0; c < 3; c++) expectedRunningVar[c] = 0.9f * runningVar[c] + 0.1f * unbiased[1][c];
            assertClose(expectedRunningVar, bn.runningVar(), 1e-6, "running var update uses the unbiased variance");
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void applyStatisticsToAnotherTensorWithoutChangingTheLayer(Backend backend) {
        try (BatchNorm bn = new BatchNorm(3).setBackend(backend);
             Tensor batch = Fixtures.tensor(CASE.resolve("x_1.npy"));
             Tensor other = Fixtures.tensor(CASE.resolve("x_2.npy"))) {
            bn.setWeight(array(CASE.resolve("weight.npy"))).setBias(array(CASE.resolve("bias.npy")));
            bn.forward(BatchNormMode.TRAIN, batch).close();
            long tracked = bn.numBatchesTracked();
            float[] runningMean = bn.runningMean();
            BatchNorm.Statistics batchStats = bn.lastBatchStatistics();

            try (Tensor withBatchStats = bn.apply(batchStats, other, backend);
                 Tensor withRunning = bn.apply(bn.runningStatistics(), other, backend);
                 Tensor eval = bn.forward(BatchNormMode.EVAL, other)) {
                float[] hand = handFormula(other.toArray(), other.shape(), batchStats.mean(), batchStats.variance(),
                        bn.weight(), bn.bias(), 1e-5f);
                assertClose(hand, withBatchStats.toArray(), 1e-6, "another tensor normalised with the first batch's stats");
                assertArrayEquals(eval.toArray(), withRunning.toArray(), 0f, "running stats applied = eval");
            }
            assertEquals(tracked, bn.numBatchesTracked(), "apply changes no state");
            assertArrayEquals(runningMean, bn.runningMean(), 0f);
            assertArrayEquals(batchStats.mean(), bn.lastBatchMean(), 0f);
        }
    }

    /** The seed's conv → BN pipeline: the same input gives different outputs in train and eval, each PyTorch's. */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void convThenBatchNormInTrainVersusEval(Backend backend) {
        Path dir = Fixtures.ROOT.resolve("batchnorm/seed_conv_bn");
        float[] x = array(dir.resolve("x.npy"));
        float[] w = array(dir.resolve("conv_weight.npy"));
        float[] b = array(dir.resolve("conv_bias.npy"));
        // 3×3 conv, padding 1: 2×3×6×6 (x) 4×3×3×3 → 2×4×6×6, plain loops.
        float[] conv = new float[2 * 4 * 36];
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < 4; k++)
                for (int oh = 0; oh < 6; oh++)
                    for (int ow = 0; ow < 6; ow++) {
                        double acc = b[k];
                        for (int c = 0; c < 3; c++)
                            for (int r = 0; r < 3; r++)
                                for (int s = 0; s < 3; s++) {
                                    int ih = oh + r - 1, iw = ow + s - 1;
                                    if (ih >= 0 && ih < 6 && iw >= 0 && iw < 6) {
                                        acc += x[((n * 3 + c) * 6 + ih) * 6 + iw] * w[((k * 3 + c) * 3 + r) * 3 + s];
                                    }
                                }
                        conv[((n * 4 + k) * 6 + oh) * 6 + ow] = (float) acc;
                    }
        assertClose(array(dir.resolve("conv_out.npy")), conv, 1e-5, "conv");
        try (BatchNorm bn = new BatchNorm(4).setBackend(backend);
             Tensor features = Tensor.of(conv, 2, 4, 6, 6)) {
            bn.setWeight(array(dir.resolve("bn_weight.npy"))).setBias(array(dir.resolve("bn_bias.npy")));
            try (Tensor train = bn.forward(BatchNormMode.TRAIN, features); Tensor eval = bn.forward(BatchNormMode.EVAL, features)) {
                assertClose(array(dir.resolve("y_train.npy")), train.toArray(), 1e-5, "train");
                assertClose(array(dir.resolve("y_eval.npy")), eval.toArray(), 1e-5, "eval after one train step");
                assertTrue(maxScaledError(train.toArray(), eval.toArray()) > 0.1, "train and eval differ on the same input");
            }
            assertClose(array(dir.resolve("running_mean.npy")), bn.runningMean(), 1e-5, "running mean");
            assertClose(array(dir.resolve("running_var.npy")), bn.runningVar(), 1e-5, "running var");
        }
    }
}
