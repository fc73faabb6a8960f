package dev.jdnn.ops.conv;

import static dev.jdnn.testing.Fixtures.array;
import static dev.jdnn.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;
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
 * Conv2d, BN folding and the fused ConvBn against PyTorch (src/test/python/gen_conv_fixtures.py).
 * Tolerance 1e-4 · max(1, |expected|): float32 sums of up to C/g·R·S products in a different order.
 */
class ConvPyTorchTest {
    static final Path DIR = Fixtures.ROOT.resolve("conv");
    static final double TOLERANCE = 1e-4;

    record Case(String name, long[] input, Conv2dParams params, boolean bias, String fold, boolean residualRelu) {
        @Override public String toString() { return name; }
        Path dir() { return DIR.resolve(name); }
    }

    static int[] ints(String csv) {
        return Stream.of(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        for (String line : Files.readAllLines(DIR.resolve("cases.txt"))) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.trim().split("\\s+");
            long[] input = Stream.of(f[1].split(",")).mapToLong(Long::parseLong).toArray();
            int[] rs = ints(f[3]), stride = ints(f[4]), pads = ints(f[5]), dil = ints(f[6]);
            Conv2dParams p = Conv2dParams.of((int) input[1], Integer.parseInt(f[2]), rs[0], rs[1])
                    .withStride(stride[0], stride[1]).withPadding(pads[0], pads[1], pads[2], pads[3])
                    .withDilation(dil[0], dil[1]).withGroups(Integer.parseInt(f[7]));
            cases.add(new Case(f[0], input, p, Boolean.parseBoolean(f[8]), f[9], f[10].equals("yes")));
        }
        return cases;
    }

    static Stream<Arguments> casesOnBothBackends() throws IOException {
        return cases().stream().flatMap(c -> Stream.of(Arguments.of(c, Backend.NATIVE), Arguments.of(c, Backend.JAVA)));
    }

    static Stream<Case> foldCases() throws IOException {
        return cases().stream().filter(c -> !c.fold().equals("none"));
    }

    static Stream<Arguments> foldCasesOnBothBackends() throws IOException {
        return foldCases().flatMap(c -> Stream.of(Arguments.of(c, Backend.NATIVE), Arguments.of(c, Backend.JAVA)));
    }

    static Conv2d conv(Case c) {
        return new Conv2d(c.params(), array(c.dir().resolve("w.npy")), c.bias() ? array(c.dir().resolve("b.npy")) : null);
    }

    static BatchNorm bn(Case c) {
        int k = c.params().outChannels();
        double eps = array(c.dir().resolve("bn_eps.npy"))[0];
        BatchNorm bn = new BatchNorm(k, BatchNorm.Options.defaults().withEps((float) eps).withAffine(c.fold().equals("affine")));
        if (bn.affine()) bn.setWeight(array(c.dir().resolve("bn_weight.npy"))).setBias(array(c.dir().resolve("bn_bias.npy")));
        return bn.setRunningMean(array(c.dir().resolve("bn_mean.npy"))).setRunningVar(array(c.dir().resolve("bn_var.npy")));
    }

    static void convolve(Conv2d conv, Tensor x, Tensor y, Backend backend) {
        if (backend == Backend.JAVA) {
            ReferenceConv2d.run(conv, x, y);
        } else {
            try (NativeConv2d compiled = new NativeConv2d(conv, x.shape(), NativeConv2d.PostOps.NONE)) {
                compiled.run(x, null, y);
            }
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("casesOnBothBackends")
    void convMatchesPyTorch(Case c, Backend backend) {
        Conv2d conv = conv(c);
        try (Tensor x = Fixtures.tensor(c.dir().resolve("x.npy"));
             Tensor expected = Fixtures.tensor(c.dir().resolve("y.npy"));
             Tensor y = Tensor.zeros(c.params().outputShape(x.shape()))) {
            assertArrayEquals(expected.shape(), y.shape(), "output shape");
            convolve(conv, x, y, backend);
            assertClose(expected.toArray(), y.toArray(), TOLERANCE, c + " on " + backend);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("foldCases")
    void foldingMatchesFuseConvBnEval(Case c) {
        try (BatchNorm bn = bn(c)) {
            Conv2d folded = BnFolding.fold(conv(c), bn, BatchNormMode.EVAL);
            assertClose(array(c.dir().resolve("folded_w.npy")), folded.weights(), 1e-5, "folded weights");
            assertClose(array(c.dir().resolve("folded_b.npy")), folded.bias(), 1e-5, "folded bias");
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("foldCasesOnBothBackends")
    void fusedConvBnMatchesPyTorch(Case c, Backend backend) {
        try (BatchNorm bn = bn(c);
             ConvBn plain = new ConvBn(conv(c), bn, BatchNormMode.EVAL, false, false);
             Tensor x = Fixtures.tensor(c.dir().resolve("x.npy"));
             Tensor y = plain.forward(x, null, backend)) {
            assertClose(array(c.dir().resolve("fused_y.npy")), y.toArray(), TOLERANCE, "conv → BN");
            if (c.residualRelu()) {
                try (ConvBn block = new ConvBn(conv(c), bn, BatchNormMode.EVAL, true, true);
                     Tensor residual = Fixtures.tensor(c.dir().resolve("residual.npy"));
                     Tensor out = block.forward(x, residual, backend)) {
                    assertClose(array(c.dir().resolve("out.npy")), out.toArray(), TOLERANCE, "relu(conv → BN + residual)");
                }
            }
        }
    }
}
