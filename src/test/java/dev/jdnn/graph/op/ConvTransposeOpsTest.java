package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.ConvPoolTesting.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

/**
 * ConvTranspose against independent oracles: PyTorch's nn.ConvTranspose1d/2d (committed fixtures from
 * src/test/python/gen_convtranspose_fixtures.py), ONNX's node tests run at op level, and the Java
 * reference against oneDNN (node by node and lowered, with a fused activation) on a sweep of
 * geometries, plus the BatchNormalization folding helper and the attribute errors.
 */
class ConvTransposeOpsTest {
    static final Path FIXTURES = Fixtures.ROOT.resolve("convtranspose");
    static final int OPSET = 17;

    static Node convT(Map<String, Object> attributes, boolean bias) {
        return node("ConvTranspose", bias ? 3 : 2, 1, attributes);
    }

    record Case(String name, long[] x, long k, long[] kernel, long[] stride, long[] pad, long[] outputPadding, long[] dilation,
                long group, boolean bias, boolean bn) {
        static Case parse(String line) {
            String[] f = line.trim().split("\\s+");
            return new Case(f[0], longs(f[1]), Long.parseLong(f[2]), longs(f[3]), longs(f[4]), longs(f[5]), longs(f[6]), longs(f[7]),
                    Long.parseLong(f[8]), Boolean.parseBoolean(f[9]), f[10].equals("bn"));
        }

        Map<String, Object> attributes() {
            long[] pads = new long[2 * pad.length];
            for (int i = 0; i < pad.length; i++) pads[i] = pads[i + pad.length] = pad[i];
            return attrs("strides", stride, "pads", pads, "output_padding", outputPadding, "dilations", dilation, "group", group,
                    "kernel_shape", kernel);
        }

        float[] npy(String name) {
            return Fixtures.array(FIXTURES.resolve(this.name).resolve(name + ".npy"));
        }

        Value value(String name) {
            return new Value.Floats(Fixtures.tensor(FIXTURES.resolve(this.name).resolve(name + ".npy")));
        }
    }

    static long[] longs(String csv) {
        return Arrays.stream(csv.split(",")).mapToLong(Long::parseLong).toArray();
    }

    static List<Case> cases() throws IOException {
        return Files.readAllLines(FIXTURES.resolve("cases.txt")).stream().filter(l -> !l.startsWith("#") && !l.isBlank()).map(Case::parse).toList();
    }

    /** PyTorch fixtures on the Java reference, node-by-node oneDNN (constant and runtime weights) and lowered. */
    @TestFactory
    Stream<DynamicTest> torchFixtures() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases()) {
            tests.add(DynamicTest.dynamicTest(c.name(), () -> {
                List<Value> values = new ArrayList<>(List.of(c.value("x"), c.value("w")));
                if (c.bias()) values.add(c.value("b"));
                Node node = convT(c.attributes(), c.bias());
                float[] want = c.npy("y");
                try {
                    Inputs constW = inputs(values, false, true, true);
                    Inputs runtimeW = inputs(values, false, false, false);
                    Fixtures.assertClose(want, runFloats(ConvTranspose.INSTANCE, node, constW, values, Backend.JAVA, OPSET), 1e-5, c.name() + " JAVA");
                    Fixtures.assertClose(want, runFloats(ConvTranspose.INSTANCE, node, constW, values, Backend.NATIVE, OPSET), 1e-5, c.name() + " NATIVE");
                    Fixtures.assertClose(want, runFloats(ConvTranspose.INSTANCE, node, runtimeW, values, Backend.NATIVE, OPSET), 1e-5,
                            c.name() + " NATIVE runtime weights");
                    long[] outShape = ConvTranspose.geometry(node, constW).outputShape();
                    Tensor x = ((Value.Floats) values.get(0)).tensor();
                    Fixtures.assertClose(want, runLowered(ConvTranspose.INSTANCE, node, constW, x, outShape, null, OPSET), 1e-5, c.name() + " lowered");
                    assertNull(ConvTranspose.INSTANCE.lower(node, runtimeW, null), "no lowering with runtime weights");
                } finally {
                    close(values);
                }
            }));
        }
        return tests.stream();
    }

    /** The fused activation runs inside the deconvolution: relu(convT(x)) and clip(convT(x); -0.5, 0.5). */
    @Test
    void loweredWithFusedActivation() throws IOException {
        Case c = cases().stream().filter(k -> k.name().equals("all_combined")).findFirst().orElseThrow();
        List<Value> values = new ArrayList<>(List.of(c.value("x"), c.value("w"), c.value("b")));
        try {
            Node node = convT(c.attributes(), true);
            Inputs in = inputs(values, false, true, true);
            long[] outShape = ConvTranspose.geometry(node, in).outputShape();
            float[] y = c.npy("y");
            for (PostOp p : List.of(new PostOp(EltwiseAlgorithm.RELU, 0f, 0f), new PostOp(EltwiseAlgorithm.CLIP, -0.5f, 0.5f))) {
                float[] want = new float[y.length];
                for (int i = 0; i < y.length; i++) want[i] = p.algorithm().apply(y[i], p.alpha(), p.beta());
                float[] got = runLowered(ConvTranspose.INSTANCE, node, in, ((Value.Floats) values.get(0)).tensor(), outShape, p, OPSET);
                Fixtures.assertClose(want, got, 1e-5, "fused " + p);
            }
        } finally {
            close(values);
        }
    }

    /** foldBatchNorm: the folded ConvTranspose equals PyTorch's bn(convT(x)) and the unfused Java BN of the Java convT. */
    @TestFactory
    Stream<DynamicTest> batchNormFolding() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases()) {
            if (!c.bn()) continue;
            tests.add(DynamicTest.dynamicTest(c.name(), () -> {
                float[] w = c.npy("w");
                float[] b = c.bias() ? c.npy("b") : null;
                float[] gamma = c.npy("bn_weight"), beta = c.npy("bn_bias"), mean = c.npy("bn_mean"), var = c.npy("bn_var");
                double eps = c.npy("bn_eps")[0];
                long[] wShape = new long[c.kernel().length + 2];
                wShape[0] = c.x()[1];
                wShape[1] = c.k() / c.group();
                System.arraycopy(c.kernel(), 0, wShape, 2, c.kernel().length);
                ConvTranspose.Folded f = ConvTranspose.foldBatchNorm(w, wShape, (int) c.group(), b, gamma, beta, mean, var, eps);
                List<Value> folded = new ArrayList<>(List.of(c.value("x"), floats(f.weights(), wShape), floats(f.bias(), c.k())));
                List<Value> plain = new ArrayList<>(List.of(c.value("x"), c.value("w")));
                if (c.bias()) plain.add(c.value("b"));
                try {
                    Node foldedNode = convT(c.attributes(), true);
                    float[] got = runFloats(ConvTranspose.INSTANCE, foldedNode, inputs(folded, false, true, true), folded, Backend.JAVA, OPSET);
                    Fixtures.assertClose(c.npy("bn_y"), got, 1e-5, c.name() + " folded vs PyTorch bn(convT)");
                    float[] gotNative = runFloats(ConvTranspose.INSTANCE, foldedNode, inputs(folded, false, true, true), folded, Backend.NATIVE, OPSET);
                    Fixtures.assertClose(c.npy("bn_y"), gotNative, 1e-5, c.name() + " folded NATIVE vs PyTorch bn(convT)");
                    // Unfused on Java: convT, then BN per output channel in double.
                    float[] y = runFloats(ConvTranspose.INSTANCE, convT(c.attributes(), c.bias()), inputs(plain, false, true, true), plain, Backend.JAVA, OPSET);
                    int k = (int) c.k();
                    int per = y.length / (int) c.x()[0] / k;
                    float[] unfused = new float[y.length];
                    for (int i = 0; i < y.length; i++) {
                        int ch = (i / per) % k;
                        unfused[i] = (float) ((y[i] - mean[ch]) / Math.sqrt(var[ch] + eps) * gamma[ch] + beta[ch]);
                    }
                    Fixtures.assertClose(unfused, got, 1e-5, c.name() + " folded vs unfused Java");
                    // The compiled plan's chain: BN folded and ReLU fused into one deconvolution.
                    Inputs plainIn = inputs(plain, false, true, true);
                    assertTrue(ConvTranspose.chainable(convT(c.attributes(), c.bias()), plainIn));
                    List<Value> bn = new ArrayList<>(List.of(c.value("x"), floats(gamma, c.k()), floats(beta, c.k()), floats(mean, c.k()), floats(var, c.k())));
                    Node bnNode = node("BatchNormalization", 5, 1, attrs("epsilon", (float) eps));
                    float[] relu = c.npy("bn_y");
                    for (int i = 0; i < relu.length; i++) relu[i] = Math.max(0, relu[i]);
                    try (Tensor in = Tensor.copyOf(((Value.Floats) plain.get(0)).tensor());
                         dev.jdnn.graph.NativeOp chain = ConvTranspose.lowerChain(convT(c.attributes(), c.bias()), plainIn, bnNode, bn,
                                 new PostOp(EltwiseAlgorithm.RELU, 0f, 0f))) {
                        assertTrue(chain.description().contains("(folded)"), chain.description());
                        Fixtures.assertClose(relu, runNative(chain, in, ConvTranspose.geometry(convT(c.attributes(), c.bias()), plainIn).outputShape()), 1e-5,
                                c.name() + " lowerChain relu(bn(convT))");
                    } finally {
                        close(bn);
                    }
                } finally {
                    close(folded);
                    close(plain);
                }
            }));
        }
        return tests.stream();
    }

    /** ONNX's ConvTranspose node tests at op level: Java, node-by-node native and lowered. */
    @TestFactory
    Stream<DynamicTest> onnxNodeTests() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : nodeTests("test_convtranspose.*")) {
            for (String mode : List.of("JAVA", "NATIVE", "LOWERED")) {
                tests.add(DynamicTest.dynamicTest(name + " " + mode, () -> {
                    try (NodeCase t = nodeCase(name)) {
                        Inputs in = inputs(t.inputs(), false, true, true);
                        float[] want = ((Value.Floats) t.expected().get(0)).tensor().toArray();
                        float[] got = switch (mode) {
                            case "JAVA" -> runFloats(ConvTranspose.INSTANCE, t.node(), in, t.inputs(), Backend.JAVA, t.opset());
                            case "NATIVE" -> runFloats(ConvTranspose.INSTANCE, t.node(), in, t.inputs(), Backend.NATIVE, t.opset());
                            default -> {
                                long[] shape = ConvTranspose.geometry(t.node(), in).outputShape();
                                assertArrayEquals(t.expected().get(0).shape(), shape, "output shape");
                                yield runLowered(ConvTranspose.INSTANCE, t.node(), in, ((Value.Floats) t.inputs().get(0)).tensor(), shape, null, t.opset());
                            }
                        };
                        if (got == null) throw new TestAbortedException("not lowered");
                        assertNear(want, got, 1e-3, 1e-7, name + " " + mode);
                    }
                }));
            }
        }
        return tests.stream();
    }

    /**
     * Java reference vs oneDNN over geometries the fixtures do not cover: output_shape (smaller and
     * larger than natural), auto_pad SAME_UPPER/SAME_LOWER/VALID, asymmetric pads, 3-D, depthwise.
     */
    @TestFactory
    Stream<DynamicTest> nativeMatchesJava() {
        record Sweep(String name, long[] x, long[] w, boolean bias, Map<String, Object> attributes) {}
        List<Sweep> sweeps = List.of(
                new Sweep("output_shape_smaller", new long[] {1, 3, 4, 5}, new long[] {3, 2, 3, 3}, true,
                        attrs("strides", new long[] {2, 2}, "output_shape", new long[] {8, 9})),
                new Sweep("output_shape_larger", new long[] {2, 2, 3, 3}, new long[] {2, 3, 3, 3}, false,
                        attrs("strides", new long[] {3, 2}, "output_shape", new long[] {10, 8})),
                // Extended by 3 ≥ stride 2 on the width: oneDNN refuses, so Java runs it (node by node) and lower declines.
                new Sweep("output_shape_far_java_only", new long[] {1, 2, 3, 3}, new long[] {2, 2, 3, 3}, true,
                        attrs("strides", new long[] {2, 2}, "output_shape", new long[] {8, 10})),
                new Sweep("output_shape_full_rank", new long[] {1, 2, 3, 3}, new long[] {2, 2, 2, 2}, true,
                        attrs("strides", new long[] {2, 2}, "output_shape", new long[] {1, 2, 5, 6})),
                new Sweep("same_upper_s2", new long[] {1, 2, 5, 4}, new long[] {2, 3, 3, 3}, true, attrs("strides", new long[] {2, 2}, "auto_pad", "SAME_UPPER")),
                new Sweep("same_lower_s2", new long[] {1, 2, 5, 4}, new long[] {2, 3, 3, 3}, true, attrs("strides", new long[] {2, 2}, "auto_pad", "SAME_LOWER")),
                new Sweep("same_upper_k1_s3", new long[] {1, 2, 4, 4}, new long[] {2, 2, 1, 1}, false, attrs("strides", new long[] {3, 3}, "auto_pad", "SAME_UPPER")),
                new Sweep("valid_ignores_pads", new long[] {1, 2, 4, 4}, new long[] {2, 2, 3, 3}, true, attrs("auto_pad", "VALID", "strides", new long[] {2, 1})),
                new Sweep("asym_pads_dil", new long[] {2, 4, 5, 6}, new long[] {4, 2, 3, 2}, true,
                        attrs("pads", new long[] {0, 2, 3, 1}, "dilations", new long[] {2, 3}, "strides", new long[] {2, 3}, "group", 2L)),
                new Sweep("depthwise_op", new long[] {1, 6, 4, 4}, new long[] {6, 1, 3, 3}, true,
                        attrs("group", 6L, "strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}, "output_padding", new long[] {1, 1})),
                new Sweep("conv3d", new long[] {1, 2, 3, 4, 3}, new long[] {2, 2, 2, 3, 2}, true,
                        attrs("strides", new long[] {2, 1, 2}, "pads", new long[] {1, 0, 0, 0, 1, 1}, "dilations", new long[] {1, 2, 1})),
                new Sweep("conv3d_groups", new long[] {1, 4, 2, 3, 3}, new long[] {4, 3, 2, 2, 2}, false,
                        attrs("group", 2L, "output_padding", new long[] {1, 0, 1}, "strides", new long[] {2, 2, 2})),
                new Sweep("conv1d_same_lower", new long[] {3, 2, 7}, new long[] {2, 4, 4}, true, attrs("strides", new long[] {2}, "auto_pad", "SAME_LOWER")),
                new Sweep("big_channels", new long[] {1, 32, 8, 8}, new long[] {32, 16, 4, 4}, true,
                        attrs("strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1})));
        Random r = new Random(7);
        return sweeps.stream().map(s -> DynamicTest.dynamicTest(s.name(), () -> {
            Node node = convT(s.attributes(), s.bias());
            long k = s.w()[1] * (long) s.attributes().getOrDefault("group", 1L);
            List<Value> values = new ArrayList<>(List.of(floats(random(r, s.x()), s.x()), floats(random(r, s.w()), s.w())));
            if (s.bias()) values.add(floats(random(r, new long[] {k}), k));
            try {
                Inputs in = inputs(values, false, true, true);
                long[] shape = ConvTranspose.geometry(node, in).outputShape();
                float[] java = runFloats(ConvTranspose.INSTANCE, node, in, values, Backend.JAVA, OPSET);
                float[] nat = runFloats(ConvTranspose.INSTANCE, node, in, values, Backend.NATIVE, OPSET);
                float[] low = runLowered(ConvTranspose.INSTANCE, node, in, ((Value.Floats) values.get(0)).tensor(), shape, null, OPSET);
                Fixtures.assertClose(java, nat, 1e-5, s.name() + " native vs Java " + Arrays.toString(shape));
                if (s.name().endsWith("java_only")) {
                    assertNull(low, "lowered although oneDNN cannot run it");
                } else {
                    Fixtures.assertClose(java, low, 1e-5, s.name() + " lowered vs Java");
                }
            } finally {
                close(values);
            }
        }));
    }

    /** Hand-computed: 1-D, x = [1, 2], w = [1, 10, 100], stride 2 → [1, 10, 102, 20, 200]; output_shape 7 extends with zeros (+bias). */
    @Test
    void handComputed() {
        List<Value> values = List.of(floats(new float[] {1, 2}, 1, 1, 2), floats(new float[] {1, 10, 100}, 1, 1, 3), floats(new float[] {0.5f}, 1));
        try {
            for (Backend b : Backend.values()) {
                assertArrayEquals(new float[] {1.5f, 10.5f, 102.5f, 20.5f, 200.5f},
                        runFloats(ConvTranspose.INSTANCE, convT(attrs("strides", new long[] {2}), true), inputs(values, false, true, true), values, b, OPSET));
                assertArrayEquals(new float[] {1.5f, 10.5f, 102.5f, 20.5f, 200.5f, 0.5f, 0.5f},
                        runFloats(ConvTranspose.INSTANCE, convT(attrs("strides", new long[] {2}, "output_shape", new long[] {7}), true),
                                inputs(values, false, true, true), values, b, OPSET), b.toString());
                // pads [1, 2]: drop one at the start, two at the end.
                assertArrayEquals(new float[] {10.5f, 102.5f},
                        runFloats(ConvTranspose.INSTANCE, convT(attrs("strides", new long[] {2}, "pads", new long[] {1, 2}), true),
                                inputs(values, false, true, true), values, b, OPSET), b.toString());
            }
        } finally {
            close(values);
        }
    }

    /** Bad attributes and shapes: the message names the node, the attribute and the value. */
    @Test
    void errors() {
        long[] x = {1, 4, 3, 3}, w = {4, 2, 3, 3};
        record Bad(Map<String, Object> attributes, long[] w, long[] bias, String... expected) {}
        List<Bad> bad = List.of(
                new Bad(attrs("strides", new long[] {0, 1}), w, null, "strides", "[0, 1]", ">= 1"),
                new Bad(attrs("strides", new long[] {1}), w, null, "strides", "1 values, expected 2"),
                new Bad(attrs("pads", new long[] {0, -1, 0, 0}), w, null, "pads", "[0, -1, 0, 0]", ">= 0"),
                new Bad(attrs("group", 3L), new long[] {4, 2, 3, 3}, null, "group 3", "does not divide", "4 input channels"),
                new Bad(attrs("group", 0L), w, null, "group 0", ">= 1"),
                new Bad(attrs("dilations", new long[] {1, 0}), w, null, "dilations", "[1, 0]"),
                new Bad(attrs("output_padding", new long[] {-1, 0}), w, null, "output_padding", "[-1, 0]"),
                new Bad(attrs("auto_pad", "SAME"), w, null, "auto_pad SAME"),
                new Bad(attrs("kernel_shape", new long[] {2, 2}), w, null, "kernel_shape [2, 2]", "does not match"),
                new Bad(attrs("output_shape", new long[] {5}), w, null, "output_shape [5]", "2 values"),
                new Bad(attrs("output_shape", new long[] {0, 5}), w, null, "output_shape [0, 5]", ">= 1"),
                new Bad(attrs("pads", new long[] {3, 0, 3, 0}), w, null, "pads 3+3", "no output"),
                new Bad(attrs(), new long[] {3, 2, 3, 3}, null, "W [3, 2, 3, 3]", "4 input channels"),
                new Bad(attrs(), w, new long[] {3}, "B [3]", "2 values"));
        for (Bad b : bad) {
            List<Value> values = new ArrayList<>(List.of(floats(new float[(int) Ops.count(x)], x), floats(new float[(int) Ops.count(b.w())], b.w())));
            if (b.bias() != null) values.add(floats(new float[(int) b.bias()[0]], b.bias()));
            try {
                Node node = convT(b.attributes(), b.bias() != null);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> ConvTranspose.INSTANCE.prepare(node, inputs(values, false, true, true), new Op.Context(Backend.JAVA, OPSET)), b.toString());
                assertTrue(e.getMessage().startsWith("ConvTranspose node t_ConvTranspose: "), e.getMessage());
                for (String part : b.expected()) assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
            } finally {
                close(values);
            }
        }
        // 4 spatial axes: declared unsupported.
        List<Value> v6 = List.of(floats(new float[16], 1, 1, 2, 2, 2, 2), floats(new float[16], 1, 1, 2, 2, 2, 2));
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ConvTranspose.INSTANCE.prepare(convT(attrs(), false), inputs(v6, false, true), new Op.Context(Backend.JAVA, OPSET)));
            assertTrue(e.getMessage().contains("not supported"), e.getMessage());
        } finally {
            close(v6);
        }
    }
}
