package dev.jdnn.ops.batchnorm;

import static dev.jdnn.testing.Fixtures.array;
import static dev.jdnn.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * jdnn's BatchNorm against real torch.nn.BatchNorm1d/2d/3d (src/test/python/gen_batchnorm_fixtures.py):
 * several train steps (outputs, batch statistics, running statistics and the counter after each),
 * then eval, on both backends. Tolerance: 1e-5 · max(1, |expected|).
 */
class BatchNormPyTorchTest {
    static final Path DIR = Fixtures.ROOT.resolve("batchnorm");
    static final double TOLERANCE = 1e-5;

    record Case(String name, long[] dims, double eps, Double momentum, boolean affine, boolean track, int steps) {
        @Override public String toString() { return name; }
    }

    static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        for (String line : Files.readAllLines(DIR.resolve("cases.txt"))) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.trim().split("\\s+");
            long[] dims = Stream.of(f[1].split(",")).mapToLong(Long::parseLong).toArray();
            cases.add(new Case(f[0], dims, Double.parseDouble(f[2]), f[3].equals("none") ? null : Double.valueOf(f[3]),
                    Boolean.parseBoolean(f[4]), Boolean.parseBoolean(f[5]), Integer.parseInt(f[6])));
        }
        return cases;
    }

    static Stream<Arguments> casesOnBothBackends() throws IOException {
        return cases().stream().flatMap(c -> Stream.of(Arguments.of(c, Backend.NATIVE), Arguments.of(c, Backend.JAVA)));
    }

    static BatchNorm layerFor(Case c) {
        Path dir = DIR.resolve(c.name());
        BatchNorm bn = new BatchNorm((int) c.dims()[1], new BatchNorm.Options(c.eps(), c.momentum(), c.affine(), c.track()));
        if (c.affine()) bn.setWeight(array(dir.resolve("weight.npy"))).setBias(array(dir.resolve("bias.npy")));
        if (c.track()) bn.setRunningMean(array(dir.resolve("running_mean_0.npy"))).setRunningVar(array(dir.resolve("running_var_0.npy")));
        return bn;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("casesOnBothBackends")
    void trainStepsThenEvalMatchPyTorch(Case c, Backend backend) {
        Path dir = DIR.resolve(c.name());
        try (BatchNorm bn = layerFor(c).setBackend(backend)) {
            assertEquals(c.affine(), bn.affine());
            assertEquals(c.track(), bn.tracksRunningStats());
            for (int k = 1; k <= c.steps(); k++) {
                String step = c.name() + " step " + k + " on " + backend;
                try (Tensor x = Fixtures.tensor(dir.resolve("x_" + k + ".npy")); Tensor y = bn.forward(BatchNormMode.TRAIN, x)) {
                    assertClose(array(dir.resolve("y_" + k + ".npy")), y.toArray(), TOLERANCE, step + " output");
                }
                assertClose(array(dir.resolve("batch_mean_" + k + ".npy")), bn.lastBatchMean(), TOLERANCE, step + " batch mean");
                assertClose(array(dir.resolve("batch_var_" + k + ".npy")), bn.lastBatchVariance(), TOLERANCE, step + " batch variance (biased)");
                if (c.track()) {
                    assertClose(array(dir.resolve("running_mean_" + k + ".npy")), bn.runningMean(), TOLERANCE, step + " running mean");
                    assertClose(array(dir.resolve("running_var_" + k + ".npy")), bn.runningVar(), TOLERANCE, step + " running var");
                    assertEquals((long) array(dir.resolve("num_batches_" + k + ".npy"))[0], bn.numBatchesTracked(), step + " numBatchesTracked");
                } else {
                    assertThrows(IllegalStateException.class, bn::runningMean);
                }
            }
            float[] runningMeanBefore = c.track() ? bn.runningMean() : null;
            try (Tensor x = Fixtures.tensor(dir.resolve("x_eval.npy")); Tensor y = bn.forward(BatchNormMode.EVAL, x)) {
                assertClose(array(dir.resolve("y_eval.npy")), y.toArray(), TOLERANCE, c.name() + " eval output on " + backend);
            }
            if (c.track()) assertArrayEquals(runningMeanBefore, bn.runningMean(), 0f, "eval changes nothing");
        }
    }
}
