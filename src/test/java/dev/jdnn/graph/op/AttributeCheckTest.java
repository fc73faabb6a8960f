package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Model;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One case per malformed attribute (the ONNX spec's ranges): each one-node model must be refused, on every
 * backend, with an {@link IllegalArgumentException} whose message names the node, the op, the attribute
 * and the offending value — never a truncated int, a silently odd output or an ArithmeticException.
 */
class AttributeCheckTest {
    static final long HUGE = 1L << 40;

    /** A one-node model: float input x, optional float weight w (an initializer), attributes. */
    record Case(String op, long[] x, long[] w, String attribute, String value, List<AttributeProto> attributes) {
        @Override public String toString() {
            return op + " " + attribute + "=" + value;
        }
    }

    static Case c(String op, long[] x, long[] w, String attribute, String value, AttributeProto... attributes) {
        return new Case(op, x, w, attribute, value, List.of(attributes));
    }

    static AttributeProto i(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static long[] s(long... d) {
        return d;
    }

    static Stream<Case> cases() {
        long[] img = s(1, 2, 8, 8), w = s(4, 2, 3, 3), small = s(1, 2, 3, 3);
        return Stream.of(
                // The four cases from issue 14.
                c("Conv", img, w, "pads", "1099511627776", ints("pads", HUGE, 0, 0, 0)),
                c("MaxPool", img, null, "kernel_shape", "0", ints("kernel_shape", 0, 0)),
                c("MaxPool", small, null, "pads", "100", ints("kernel_shape", 2, 2), ints("pads", 100, 100, 100, 100)),
                c("MaxPool", img, null, "strides", "0", ints("kernel_shape", 2, 2), ints("strides", 0, 0)),
                // Pools
                c("AveragePool", img, null, "pads", "2", ints("kernel_shape", 2, 2), ints("pads", 2, 0, 0, 0)),
                c("AveragePool", img, null, "kernel_shape", "1099511627776", ints("kernel_shape", HUGE, 1)),
                c("MaxPool", img, null, "dilations", "0", ints("kernel_shape", 2, 2), ints("dilations", 0, 1)),
                c("MaxPool", img, null, "strides", "1099511627776", ints("kernel_shape", 2, 2), ints("strides", HUGE, 1)),
                c("MaxPool", img, null, "pads", "-1", ints("kernel_shape", 2, 2), ints("pads", -1, 0, 0, 0)),
                c("LpPool", img, null, "kernel_shape", "-3", ints("kernel_shape", -3, 2)),
                c("MaxPool", img, null, "ceil_mode", "2", ints("kernel_shape", 2, 2), i("ceil_mode", 2)),
                // Conv
                c("Conv", img, w, "strides", "0", ints("strides", 0, 1)),
                c("Conv", img, w, "strides", "1099511627776", ints("strides", HUGE, 1)),
                c("Conv", img, w, "dilations", "-1", ints("dilations", -1, 1)),
                c("Conv", img, w, "dilations", "1099511627776", ints("dilations", HUGE, 1)),
                c("Conv", img, w, "group", "3", i("group", 3)),
                c("Conv", img, w, "group", "0", i("group", 0)),
                c("Conv", img, w, "pads", "-2", ints("pads", 0, -2, 0, 0)),
                c("Conv", img, w, "kernel_shape", "5", ints("kernel_shape", 5, 5)),
                c("ConvTranspose", img, s(2, 4, 3, 3), "strides", "0", ints("strides", 0, 1)),
                c("ConvTranspose", img, s(2, 4, 3, 3), "dilations", "0", ints("dilations", 0, 1)),
                c("ConvTranspose", img, s(2, 4, 3, 3), "group", "4", i("group", 4)),
                c("ConvTranspose", img, s(2, 4, 3, 3), "output_padding", "1099511627776", ints("output_padding", HUGE, 0)),
                c("ConvTranspose", img, s(2, 4, 3, 3), "pads", "1099511627776", ints("pads", HUGE, 0, 0, 0)),
                // Axes
                c("Softmax", img, null, "axis", "4", i("axis", 4)),
                c("LogSoftmax", img, null, "axis", "-5", i("axis", -5)),
                c("Hardmax", img, null, "axis", "9", i("axis", 9)),
                c("Concat", img, null, "axis", "4", i("axis", 4)),
                c("Flatten", img, null, "axis", "5", i("axis", 5)),
                c("Split", img, null, "axis", "7", i("axis", 7)),
                c("ArgMax", img, null, "axis", "4", i("axis", 4)),
                c("ReduceMean", img, null, "axes", "9", ints("axes", 9)),
                c("ReduceMax", img, null, "keepdims", "2", i("keepdims", 2)),
                c("LpNormalization", img, null, "axis", "6", i("axis", 6)),
                c("LpNormalization", img, null, "p", "3", i("p", 3)),
                c("Transpose", img, null, "perm", "[0, 0, 1, 2]", ints("perm", 0, 0, 1, 2)),
                c("Transpose", img, null, "perm", "9", ints("perm", 0, 1, 2, 9)),
                c("LayerNormalization", img, s(8), "axis", "8", i("axis", 8)),
                // Sizes
                c("LRN", img, null, "size", "0", i("size", 0)),
                c("LRN", img, null, "size", "1099511627776", i("size", HUGE)),
                c("DepthToSpace", s(1, 8, 2, 2), null, "blocksize", "0", i("blocksize", 0)),
                c("DepthToSpace", s(1, 8, 2, 2), null, "blocksize", "1099511627776", i("blocksize", HUGE)),
                c("SpaceToDepth", img, null, "blocksize", "-2", i("blocksize", -2)),
                c("SpaceToDepth", img, null, "blocksize", "1099511627776", i("blocksize", HUGE)),
                c("Gemm", s(4, 4), s(4, 4), "transA", "2", i("transA", 2)),
                c("Trilu", img, null, "upper", "5", i("upper", 5)),
                c("ArgMin", img, null, "select_last_index", "7", i("select_last_index", 7)));
        }

    static Stream<Arguments> runs() {
        List<Arguments> all = new ArrayList<>();
        cases().forEach(a -> {
            for (Config config : Config.values()) all.add(Arguments.of(a, config));
        });
        return all.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("runs")
    void malformedAttributeIsRefusedNamingNodeOpAttributeAndValue(Case c, Config config, @TempDir Path dir) throws Exception {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(input("x", FLOAT, c.x())).addOutput(output("y"));
        List<String> in = new ArrayList<>(List.of("x"));
        if (c.op().equals("Concat")) in.add("x");
        if (c.w() != null) {
            long n = 1;
            for (long d : c.w()) n *= d;
            g.addInitializer(floats("w", c.w(), new float[(int) n]));
            in.add("w");
        }
        g.addNode(node(c.op(), in, List.of("y"), c.attributes().toArray(AttributeProto[]::new)).toBuilder().setName("bad_node").build());
        try (Model m = Model.load(write(dir, "m.onnx", 17, g.build()));
             Tensor x = Tensor.zeros(c.x());
             Session s = m.session(config.options())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x), List.of("y")).close());
            String msg = e.getMessage();
            assertTrue(msg.contains("bad_node"), "node name missing: " + msg);
            assertTrue(msg.contains(c.op()), "op missing: " + msg);
            assertTrue(msg.contains(c.attribute()), "attribute missing: " + msg);
            assertTrue(msg.contains(c.value()), "value missing: " + msg);
        }
    }
}
