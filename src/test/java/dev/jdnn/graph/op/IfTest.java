package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.TinyModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
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
 * If in a small graph built here, against the arithmetic done in Java, on the three configurations: branches
 * that read outer-scope tensors (computed ones, a graph input, one two scopes out), a branch initializer, a
 * nested If, and the three ways a plan runs an If — inlined when the condition is known at prepare (a graph
 * input the session specialises on), a Java step choosing between prepared branches when the condition is
 * computed and both branches give the same shapes, and the data-dependent tail when they do not. ONNX's own
 * test_if runs in OnnxNodeConformanceTest, torchvision's batched_nms with its If in DetectionOpsTest.
 */
class IfTest {
    static AttributeProto graph(String name, GraphProto g) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(g).build();
    }

    static NodeProto ifNode(String name, String cond, List<String> outputs, GraphProto then, GraphProto otherwise) {
        return NodeProto.newBuilder().setOpType("If").setName(name).addInput(cond).addAllOutput(outputs)
                .addAttribute(graph("then_branch", then)).addAttribute(graph("else_branch", otherwise)).build();
    }

    static GraphProto branch(String name, List<NodeProto> nodes, String output, TensorProto... initializers) {
        GraphProto.Builder b = GraphProto.newBuilder().setName(name).addAllNode(nodes).addOutput(output(output));
        for (TensorProto t : initializers) b.addInitializer(t);
        return b.build();
    }

    /**
     * x 2×3 float, flag bool scalar; y = Relu(x), positive = ReduceSum(x) > 0.
     * <pre>
     * o1 = If(flag)     then: y + x (2×3)            else: Transpose(y) (3×2)        shape depends on flag
     * o2 = If(positive) then: If(flag) (nested)      else: x − y (2×3)               same shapes: a Java step
     *                         then: −(y · two)   else: |x|      (two: a branch initializer, x: two scopes out)
     * o3 = If(positive) then: Flatten(x) (1×6)       else: x itself (2×3)            shape depends on data: the tail
     * o4 = If(2 + 3 > 4) then: −y                    else: Transpose(x)              known from x's shape: inlined
     * </pre>
     */
    static Path model(Path dir) throws IOException {
        GraphProto nestedThen = branch("nested_then", List.of(node("Mul", List.of("y", "two"), List.of("y2")), node("Neg", List.of("y2"), List.of("r"))),
                "r", floats("two", new long[] {1}, 2f));
        GraphProto nestedElse = branch("nested_else", List.of(node("Abs", List.of("x"), List.of("ax"))), "ax");
        GraphProto g = GraphProto.newBuilder()
                .addInput(input("x", FLOAT, 2, 3)).addInput(input("flag", BOOL))
                .addInitializer(floats("zero", new long[0], 0f))
                .addNode(node("Relu", List.of("x"), List.of("y")))
                .addNode(ifNode("shape_if", "flag", List.of("o1"),
                        branch("t1", List.of(node("Add", List.of("y", "x"), List.of("sum1"))), "sum1"),
                        branch("e1", List.of(node("Transpose", List.of("y"), List.of("yt"), ints("perm", 1, 0))), "yt")))
                .addNode(node("ReduceSum", List.of("x"), List.of("s"), intAttr("keepdims", 0)))
                .addNode(node("Greater", List.of("s", "zero"), List.of("positive")))
                .addNode(ifNode("nested_if", "positive", List.of("o2"),
                        branch("t2", List.of(ifNode("inner", "flag", List.of("inner_out"), nestedThen, nestedElse)), "inner_out"),
                        branch("e2", List.of(node("Sub", List.of("x", "y"), List.of("d"))), "d")))
                .addNode(ifNode("tail_if", "positive", List.of("o3"),
                        branch("t3", List.of(node("Flatten", List.of("x"), List.of("flat"), intAttr("axis", 0))), "flat"),
                        branch("e3", List.of(), "x")))
                .addInitializer(int64s("four", new long[0], 4))
                .addNode(node("Shape", List.of("x"), List.of("x_shape")))
                .addNode(node("ReduceSum", List.of("x_shape"), List.of("dims"), intAttr("keepdims", 0)))
                .addNode(node("Greater", List.of("dims", "four"), List.of("wide")))
                .addNode(ifNode("const_if", "wide", List.of("o4"),
                        branch("t4", List.of(node("Neg", List.of("y"), List.of("ny"))), "ny"),
                        branch("e4", List.of(node("Transpose", List.of("x"), List.of("xt"), ints("perm", 1, 0))), "xt")))
                .addOutput(output("o1")).addOutput(output("o2")).addOutput(output("o3")).addOutput(output("o4")).build();
        return write(dir, "if.onnx", 13, g);
    }

    static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE, BOOL = TensorProto.DataType.BOOL_VALUE;

    @Test
    void branchesReadOuterScopesAndRunInlinedAsJavaStepsOrInTheTail(@TempDir Path dir) throws IOException {
        Path file = model(dir);
        float[][] xs = {{1, -2, 3, 0.5f, -0.25f, 4}, {-1, 2, -3, -0.5f, 0.25f, -4}};
        for (Config c : Config.values()) {
            try (Model m = Model.load(file); Session s = m.session(c.options())) {
                for (float[] x : xs) {
                    for (boolean flag : new boolean[] {true, false}) {
                        // o2 and o4 alone: nothing data dependent, so the plan is not specialised on x and flag: nested_if (and the
                        // inner If in its branch) run as Java steps choosing a prepared branch. With o1 and o3 the session specialises
                        // on the small inputs (every If inlined).
                        try (Tensor xt = Tensor.of(x, 2, 3); Tensor ft = Tensor.ofLongs(new long[] {flag ? 1 : 0}, DataType.BOOL);
                             Result steps = s.run(Map.of("x", xt, "flag", ft), List.of("o2", "o4"));
                             Result r = s.run(Map.of("x", xt, "flag", ft), List.of("o1", "o2", "o3", "o4"))) {
                            String what = c + ", x " + (x[0] > 0 ? "sum > 0" : "sum < 0") + ", flag " + flag;
                            float[] y = new float[6], o1 = new float[6], o2 = new float[6];
                            double sum = 0;
                            for (int i = 0; i < 6; i++) {
                                y[i] = Math.max(0, x[i]);
                                sum += x[i];
                            }
                            for (int i = 0; i < 6; i++) {
                                o1[i] = flag ? y[i] + x[i] : y[(i % 2) * 3 + i / 2];   // Transpose of 2×3: o1[j][k] = y[k][j]
                                o2[i] = sum > 0 ? (flag ? -(y[i] * 2) : Math.abs(x[i])) : x[i] - y[i];
                            }
                            assertArrayEquals(flag ? new long[] {2, 3} : new long[] {3, 2}, r.get("o1").shape(), what + ": o1's shape");
                            assertArrayEquals(o1, r.get("o1").toArray(), 0f, what + ": o1");
                            assertArrayEquals(new long[] {2, 3}, r.get("o2").shape(), what + ": o2's shape");
                            assertArrayEquals(o2, r.get("o2").toArray(), 0f, what + ": o2 (0 and -0 alike: oneDNN negates 0 to 0)");
                            assertArrayEquals(o2, steps.get("o2").toArray(), 0f, what + ": o2 from the Java step");
                            assertArrayEquals(new long[] {2, 3}, steps.get("o4").shape(), what + ": o4's shape (Java step run)");
                            assertArrayEquals(sum > 0 ? new long[] {1, 6} : new long[] {2, 3}, r.get("o3").shape(), what + ": o3's shape");
                            assertArrayEquals(x, r.get("o3").toArray(), what + ": o3");
                            float[] o4 = new float[6];
                            for (int i = 0; i < 6; i++) o4[i] = -y[i];
                            assertArrayEquals(new long[] {2, 3}, r.get("o4").shape(), what + ": o4's shape");
                            assertArrayEquals(o4, r.get("o4").toArray(), 0f, what + ": o4");
                        }
                    }
                }
            }
        }
    }

    @Test
    void preparedBranchesAndInlinedOnesLeakNothing(@TempDir Path dir) throws Exception {
        Path file = model(dir);
        dev.jdnn.LeakLog.assertLeaksNothing(() -> {
            for (Config c : Config.values()) {
                try (Model m = Model.load(file); Session s = m.session(c.options())) {
                    for (boolean flag : new boolean[] {true, false}) {
                        try (Tensor xt = Tensor.of(new float[] {1, -2, 3, 0.5f, -0.25f, 4}, 2, 3);
                             Tensor ft = Tensor.ofLongs(new long[] {flag ? 1 : 0}, DataType.BOOL);
                             Result steps = s.run(Map.of("x", xt, "flag", ft), List.of("o2", "o4"));
                             Result r = s.run(Map.of("x", xt, "flag", ft), List.of("o1", "o2", "o3", "o4"))) {
                            assertEquals(4, r.names().size());
                            assertEquals(2, steps.names().size());
                        }
                    }
                }
            }
        });
    }

    @Test
    void explainShowsTheInlinedBranchTheJavaStepAndTheTail(@TempDir Path dir) throws IOException {
        try (Model m = Model.load(model(dir)); Session s = m.session(Config.COMPILED.options())) {
            Map<String, long[]> shapes = Map.of("x", new long[] {2, 3}, "flag", new long[0]);
            String inlined = String.join("\n", s.explain(shapes, List.of("o4")));
            assertTrue(inlined.contains("if      If node const_if: condition known at prepare (true), its then_branch inlined (1 nodes)"), inlined);
            assertTrue(inlined.lines().anyMatch(l -> l.startsWith("native") && l.contains("eltwise")), "the inlined Neg runs natively:\n" + inlined);
            String step = String.join("\n", s.explain(shapes, List.of("o2")));
            assertTrue(step.lines().anyMatch(l -> l.startsWith("java") && l.contains("nested_if")), step);
            String tail = String.join("\n", s.explain(shapes, List.of("o3")));
            assertTrue(tail.contains("tail    from If node tail_if") && tail.contains("1 If node among them"), tail);
        }
    }

    @Test
    void anUnsupportedOperatorInsideABranchIsRefusedAtLoad(@TempDir Path dir) throws IOException {
        // TfIdfVectorizer: an ONNX operator jdnn does not run (Unique, the example before, is supported now).
        GraphProto unique = branch("u", List.of(node("TfIdfVectorizer", List.of("x"), List.of("uniq"))), "uniq");
        GraphProto neg = branch("n", List.of(node("Neg", List.of("x"), List.of("negated"))), "negated");
        GraphProto g = GraphProto.newBuilder().addInput(input("x", FLOAT, 2)).addInput(input("c", BOOL))
                .addNode(ifNode("outer", "c", List.of("o"), neg, GraphProto.newBuilder().setName("e").addNode(ifNode("inner", "c", List.of("io"), unique, neg))
                        .addOutput(output("io")).build()))
                .addOutput(output("o")).build();
        Path file = write(dir, "unique_in_branch.onnx", 13, g);
        RuntimeException e = assertThrows(dev.jdnn.onnx.OnnxFormatException.class, () -> Model.load(file).close());
        assertTrue(e.getMessage().contains("TfIdfVectorizer") && e.getMessage().contains("uniq"), e.getMessage());
    }

    @Test
    void badIfNodesAreRefusedNamingTheNode(@TempDir Path dir) throws IOException {
        GraphProto one = branch("one", List.of(node("Neg", List.of("x"), List.of("n"))), "n");
        GraphProto two = GraphProto.newBuilder().setName("two").addNode(node("Neg", List.of("x"), List.of("n2")))
                .addOutput(output("n2")).addOutput(output("x")).build();
        record Case(String what, GraphProto g, String message) {}
        List<Case> cases = List.of(
                new Case("float condition", GraphProto.newBuilder().addInput(input("x", FLOAT, 2)).addInput(input("c", FLOAT))
                        .addNode(ifNode("bad", "c", List.of("o"), one, one)).addOutput(output("o")).build(), "it must be bool"),
                new Case("two-element condition", GraphProto.newBuilder().addInput(input("x", FLOAT, 2)).addInput(input("c", BOOL, 2))
                        .addNode(ifNode("bad", "c", List.of("o"), one, one)).addOutput(output("o")).build(), "it must hold one element"),
                new Case("output count", GraphProto.newBuilder().addInput(input("x", FLOAT, 2)).addInput(input("c", BOOL))
                        .addNode(ifNode("bad", "c", List.of("o"), one, two)).addOutput(output("o")).build(), "else_branch returns 2 outputs"),
                new Case("missing branch", GraphProto.newBuilder().addInput(input("x", FLOAT, 2)).addInput(input("c", BOOL))
                        .addNode(NodeProto.newBuilder().setOpType("If").setName("bad").addInput("c").addOutput("o").addAttribute(graph("then_branch", one)))
                        .addOutput(output("o")).build(), "attribute else_branch (a graph) is missing"));
        for (Case c : cases) {
            Path file = write(dir, "bad.onnx", 13, c.g());
            for (Config config : Config.values()) {
                try (Model m = Model.load(file); Session s = m.session(config.options())) {
                    Map<String, long[]> shapes = Map.of("x", new long[] {2}, "c", c.g().getInput(1).getType().getTensorType().getShape().getDimCount() == 0 ? new long[0] : new long[] {2});
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.explain(shapes, List.of("o")), c.what());
                    assertTrue(e.getMessage().contains("If node bad") && e.getMessage().contains(c.message()), c.what() + " on " + config + ": " + e.getMessage());
                }
            }
        }
    }
}
