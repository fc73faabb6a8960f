package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.IfTest.graph;
import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loop in a graph built here, against Java arithmetic, on the three configurations: the trip count computed from
 * the data (so the Loop runs in the plan's data-dependent tail), a carried value, a scan output, and a body that
 * reads a tensor of the enclosing graph by name. ONNX's test_loop11 runs in OnnxNodeConformanceTest.
 */
class LoopTest {
    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE, INT64 = TensorProto.DataType.INT64_VALUE;

    /**
     * x 4 float; trips = ArgMax(x) (int64, computed); y = Relu(x) (outer scope).
     * Loop(trips, "", acc = 0 [4]): acc ← acc + y · i; scan: acc after each step. Outputs final acc (4) and scans trips×4.
     */
    static Path model(Path dir) throws IOException {
        GraphProto body = GraphProto.newBuilder().setName("body")
                .addInput(input("i", INT64)).addInput(input("c", TensorProto.DataType.BOOL_VALUE)).addInput(input("acc_in", FLOAT, 4))
                .addNode(node("Identity", List.of("c"), List.of("c_out")))
                .addNode(node("Cast", List.of("i"), List.of("fi"), IfTest.intAttr("to", FLOAT)))
                .addNode(node("Mul", List.of("y", "fi"), List.of("step")))
                .addNode(node("Add", List.of("acc_in", "step"), List.of("acc_out")))
                .addNode(node("Identity", List.of("acc_out"), List.of("scan")))
                .addOutput(output("c_out")).addOutput(output("acc_out")).addOutput(output("scan")).build();
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 4))
                .addInitializer(floats("zeros", new long[] {4}, 0, 0, 0, 0))
                .addNode(node("Relu", List.of("x"), List.of("y")))
                .addNode(node("ArgMax", List.of("x"), List.of("trips"), IfTest.intAttr("keepdims", 0)))
                .addNode(NodeProto.newBuilder().setOpType("Loop").setName("loop").addAllInput(List.of("trips", "", "zeros"))
                        .addAllOutput(List.of("acc", "steps")).addAttribute(graph("body", body)))
                .addOutput(output("acc")).addOutput(output("steps")).build();
        return write(dir, "loop.onnx", 13, g);
    }

    @Test
    void computedTripCountRunsInTheTailReadingAnOuterTensor(@TempDir Path dir) throws IOException {
        Path file = model(dir);
        float[][] xs = {{1, -2, 5, 0.5f}, {-1, 3, 0, 2}, {7, 1, 2, 3}};
        for (Config c : Config.values()) {
            try (Model m = Model.load(file); Session s = m.session(c.options())) {
                for (float[] x : xs) {
                    int trips = 0;
                    for (int i = 1; i < 4; i++) if (x[i] > x[trips]) trips = i;
                    float[] acc = new float[4];
                    float[] steps = new float[trips * 4];
                    for (int i = 0; i < trips; i++) {
                        for (int k = 0; k < 4; k++) {
                            acc[k] += Math.max(0, x[k]) * i;
                            steps[i * 4 + k] = acc[k];
                        }
                    }
                    try (Tensor xt = Tensor.of(x, 4); Result r = s.run(Map.of("x", xt), List.of("acc", "steps"))) {
                        String what = c + ", " + trips + " trips";
                        assertArrayEquals(acc, r.get("acc").toArray(), 0f, what + ": acc");
                        assertArrayEquals(trips == 0 ? new long[] {0} : new long[] {trips, 4}, r.get("steps").shape(), what + ": steps' shape");
                        assertArrayEquals(steps, r.get("steps").toArray(), 0f, what + ": steps");
                    }
                }
            }
        }
    }

    @Test
    void badLoopsAreRefusedNamingTheNode(@TempDir Path dir) throws IOException {
        GraphProto twoInputs = GraphProto.newBuilder().setName("b").addInput(input("i", INT64)).addInput(input("c", TensorProto.DataType.BOOL_VALUE))
                .addNode(node("Identity", List.of("c"), List.of("c_out"))).addOutput(output("c_out")).build();
        record Case(String what, NodeProto loop, String message) {}
        List<Case> cases = List.of(
                new Case("no body", NodeProto.newBuilder().setOpType("Loop").setName("bad").addAllInput(List.of("m", "", "x")).addOutput("o").build(),
                        "attribute body (a graph) is missing"),
                new Case("body inputs", NodeProto.newBuilder().setOpType("Loop").setName("bad").addAllInput(List.of("m", "", "x")).addOutput("o")
                        .addAttribute(graph("body", twoInputs)).build(), "its body takes 2 inputs"));
        for (Case c : cases) {
            GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 4)).addInitializer(int64s("m", new long[0], 3))
                    .addNode(c.loop()).addOutput(output("o")).build();
            Path file = write(dir, "bad.onnx", 13, g);
            for (Config config : Config.values()) {
                try (Model m = Model.load(file); Session s = m.session(config.options()); Tensor x = Tensor.of(new float[4], 4)) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of("x", x), List.of("o")).close(), c.what());
                    assertTrue(e.getMessage().contains("Loop node bad") && e.getMessage().contains(c.message()), c.what() + " on " + config + ": " + e.getMessage());
                }
            }
        }
    }
}
