package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.IfTest.graph;
import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Limits;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Plan;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.OnnxLoader;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    /**
     * x 4 float; trips = Cast(ReduceMax(x)) (computed: the Loop runs in the tail); y = Relu(x) (outer scope).
     * Loop(trips, "", acc = 0 [4]), a body of {@code step} (see the tests): acc ← acc + step; scan: acc after each
     * iteration. Outputs final acc (4) and the scans trips×4.
     */
    static Path manyTrips(Path dir, String file, List<NodeProto> step, TensorProto... outer) throws IOException {
        GraphProto.Builder body = GraphProto.newBuilder().setName("body")
                .addInput(input("i", INT64)).addInput(input("c", TensorProto.DataType.BOOL_VALUE)).addInput(input("acc_in", FLOAT, 4))
                .addNode(node("Identity", List.of("c"), List.of("c_out")))
                .addNode(node("Cast", List.of("i"), List.of("fi"), IfTest.intAttr("to", FLOAT)));
        step.forEach(body::addNode);
        body.addNode(node("Add", List.of("acc_in", "step"), List.of("acc_out")))
                .addNode(node("Identity", List.of("acc_out"), List.of("scan")))
                .addOutput(output("c_out")).addOutput(output("acc_out")).addOutput(output("scan"));
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 4))
                .addInitializer(floats("zeros", new long[] {4}, 0, 0, 0, 0)).addAllInitializer(List.of(outer))
                .addNode(node("Relu", List.of("x"), List.of("y")))
                .addNode(node("ReduceMax", List.of("x"), List.of("top"), IfTest.intAttr("keepdims", 0)))
                .addNode(node("Cast", List.of("top"), List.of("trips"), IfTest.intAttr("to", INT64)))
                .addNode(NodeProto.newBuilder().setOpType("Loop").setName("loop").addAllInput(List.of("trips", "", "zeros"))
                        .addAllOutput(List.of("acc", "steps")).addAttribute(graph("body", body.build())))
                .addOutput(output("acc")).addOutput(output("steps")).build();
        return write(dir, file, 13, g);
    }

    /** Runs {@code plan} on x and checks acc and steps against {@code step(i, y)} summed in float, as the body computes. */
    static void check(Plan plan, float[] x, java.util.function.BiFunction<Integer, Float, Float> step, String what) {
        int trips = (int) Math.max(Math.max(x[0], x[1]), Math.max(x[2], x[3]));
        float[] acc = new float[4], steps = new float[trips * 4];
        for (int i = 0; i < trips; i++) {
            for (int k = 0; k < 4; k++) {
                acc[k] += step.apply(i, Math.max(0, x[k]));
                steps[i * 4 + k] = acc[k];
            }
        }
        try (Tensor xt = Tensor.of(x, 4)) {
            Map<String, Value> r = plan.run(Map.of("x", xt));
            try {
                Tensor a = ((Value.Floats) r.get("acc")).tensor(), s = ((Value.Floats) r.get("steps")).tensor();
                assertArrayEquals(acc, a.toArray(), 0f, what + ": acc");
                assertArrayEquals(new long[] {trips, 4}, s.shape(), what + ": steps' shape");
                assertArrayEquals(steps, s.toArray(), 0f, what + ": steps");
            } finally {
                r.values().forEach(OnnxLoader::release);
            }
        }
    }

    static Plan tailPlan(OnnxLoader.Loaded loaded) {
        return new Plan(loaded.graph(), Map.of("x", new long[] {4}), Map.of(), Set.of("acc", "steps"),
                new Op.Context(Backend.NATIVE, loaded.opset()), Optimizations.all(), Limits.DEFAULT, true);
    }

    /**
     * A body whose shapes stay the same is prepared once, for 150 iterations and again for a second run of the
     * plan with other values and 90 iterations (the Loop runs in the tail, prepared anew each run); the results
     * are the body's arithmetic done here. Once the plan is closed its body plans are gone and using them throws.
     */
    @Test
    void aBodyIsPreparedOnceForManyIterationsAndRuns(@TempDir Path dir) throws IOException {
        Path file = manyTrips(dir, "many.onnx", List.of(node("Mul", List.of("y", "fi"), List.of("step"))));
        OnnxLoader.Loaded loaded = OnnxLoader.load(file);
        try (var weights = loaded.weights()) {
            Plan plan = tailPlan(loaded);
            try (plan) {
                check(plan, new float[] {1, -2, 150.5f, 0.5f}, (i, y) -> y * i, "150 trips");
                assertEquals(1, plan.loopBodies().prepared(), "body plans prepared for 150 iterations of one shape");
                assertEquals(149, plan.loopBodies().reused());
                check(plan, new float[] {90, 3, -1, 2.25f}, (i, y) -> y * i, "90 trips, second run");
                assertEquals(1, plan.loopBodies().prepared(), "body plans prepared over two runs");
                assertEquals(149 + 90, plan.loopBodies().reused());
                assertTrue(String.join("\n", plan.explain()).contains("Loop bodies so far: 1 plan(s) prepared, reused for 239 iterations"), plan.explain().toString());
            }
            Node loop = loaded.graph().nodes().stream().filter(n -> n.opType().equals("Loop")).findFirst().orElseThrow();
            assertThrows(IllegalStateException.class, () -> plan.loopBodies().take(loop, "x"));
            try (Tensor xt = Tensor.of(new float[] {3, 0, 0, 0}, 4)) {
                assertThrows(IllegalStateException.class, () -> plan.run(Map.of("x", xt)));
            }
        }
    }

    /**
     * A body whose output shape depends on the iteration number (Range(0, i + 1)) cannot be prepared without it:
     * the node is marked once and every iteration is prepared for its values, as before; the results are right.
     */
    @Test
    void aBodyThatNeedsItsValuesIsPreparedPerIteration(@TempDir Path dir) throws IOException {
        List<NodeProto> step = List.of(
                node("Add", List.of("fi", "one"), List.of("end")),
                node("Range", List.of("zero", "end", "one"), List.of("r")),
                node("ReduceSum", List.of("r"), List.of("tri"), IfTest.intAttr("keepdims", 0)),
                node("Mul", List.of("y", "tri"), List.of("step")));
        // The body reads zero and one (float scalars) from the enclosing graph.
        Path file = manyTrips(dir, "range.onnx", step, floats("zero", new long[0], 0), floats("one", new long[0], 1));
        OnnxLoader.Loaded loaded = OnnxLoader.load(file);
        try (var weights = loaded.weights(); Plan plan = tailPlan(loaded)) {
            check(plan, new float[] {12, -2, 3, 0.5f}, (i, y) -> y * (i * (i + 1) / 2f), "12 trips");
            check(plan, new float[] {1, 7, 3, 0.5f}, (i, y) -> y * (i * (i + 1) / 2f), "7 trips");
            assertEquals(0, plan.loopBodies().prepared(), "no body plan kept: it needs the iteration number's value");
            Node loop = loaded.graph().nodes().stream().filter(n -> n.opType().equals("Loop")).findFirst().orElseThrow();
            assertTrue(plan.loopBodies().valueDependent(loop));
        }
    }

    /** Body plans kept across runs, the value-bound iterations and the Session's configurations free everything they make. */
    @Test
    void loopBodiesLeakNothing(@TempDir Path dir) throws Exception {
        Path many = manyTrips(dir, "many.onnx", List.of(node("Mul", List.of("y", "fi"), List.of("step"))));
        Path range = manyTrips(dir, "range.onnx", List.of(node("Add", List.of("fi", "one"), List.of("end")),
                node("Range", List.of("zero", "end", "one"), List.of("r")), node("ReduceSum", List.of("r"), List.of("tri"), IfTest.intAttr("keepdims", 0)),
                node("Mul", List.of("y", "tri"), List.of("step"))), floats("zero", new long[0], 0), floats("one", new long[0], 1));
        dev.jdnn.LeakLog.assertLeaksNothing(() -> {
            for (Path file : List.of(many, range)) {
                OnnxLoader.Loaded loaded = OnnxLoader.load(file);
                try (var weights = loaded.weights(); Plan plan = tailPlan(loaded)) {
                    for (int run = 0; run < 2; run++) {
                        try (Tensor xt = Tensor.of(new float[] {5, -1, 2, 3}, 4)) {
                            plan.run(Map.of("x", xt)).values().forEach(OnnxLoader::release);
                        }
                    }
                }
                for (Config c : Config.values()) {
                    try (Model m = Model.load(file); Session s = m.session(c.options()); Tensor xt = Tensor.of(new float[] {4, 0, 1, 2}, 4);
                         Result r = s.run(Map.of("x", xt), List.of("acc", "steps"))) {
                        assertEquals(2, r.names().size());
                    }
                }
            }
        });
    }
}
