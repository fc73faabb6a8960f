package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.OpModels.floats;
import static dev.jdnn.graph.op.OpModels.ints;
import static dev.jdnn.graph.op.OpModels.node;
import static dev.jdnn.graph.op.OpModels.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small plan on two threads whose larger primitives fork is also prepared on one thread and the faster is
 * kept (timed at prepare; {@code -Djdnn.parallel.planThreads=timed|forked|one}). Whichever runs, the result
 * must be the Java backend's, through both the returning and the caller's-tensor paths, and the
 * caller's-tensor path must allocate nothing in steady state. The oracle is the Java backend, node by node.
 */
class PlanThreadsTest {
    @TempDir
    Path dir;

    private static final Session.Options TWO_THREADS = Session.Options.defaults().withThreads(2);
    private static final Session.Options JAVA = Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none());

    /** x[1,3,64,64] → Conv(16 filters, 3×3, pad 1) → Relu → Conv(8 filters, 1×1) → y[1,8,64,64]: the first conv is large enough to fork. */
    private Path model() throws IOException {
        Random r = new Random(5);
        float[] w1 = new float[16 * 3 * 3 * 3], w2 = new float[8 * 16];
        for (int i = 0; i < w1.length; i++) w1[i] = (float) r.nextGaussian() * 0.3f;
        for (int i = 0; i < w2.length; i++) w2[i] = (float) r.nextGaussian() * 0.3f;
        GraphProto g = GraphProto.newBuilder().addInput(value("x", 1, -1, 3, 64, 64))
                .addInitializer(floats("w1", w1, 16, 3, 3, 3)).addInitializer(floats("w2", w2, 8, 16, 1, 1))
                .addNode(node("Conv", List.of("x", "w1"), List.of("c"), ints("pads", 1, 1, 1, 1)))
                .addNode(node("Relu", List.of("c"), List.of("r")))
                .addNode(node("Conv", List.of("r", "w2"), List.of("y")))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
        return OpModels.write(dir, "small.onnx", 13, g);
    }

    private static Tensor input() {
        Random r = new Random(11);
        float[] v = new float[3 * 64 * 64];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, 1, 3, 64, 64);
    }

    /** Runs {@code body} with -Djdnn.parallel.planThreads={@code how}, restoring the previous value. */
    private static void with(String how, Runnable body) {
        String before = System.getProperty("jdnn.parallel.planThreads");
        System.setProperty("jdnn.parallel.planThreads", how);
        try {
            body.run();
        } finally {
            if (before == null) System.clearProperty("jdnn.parallel.planThreads");
            else System.setProperty("jdnn.parallel.planThreads", before);
        }
    }

    private static String explain(Session s) {
        return String.join("\n", s.explain(Map.of("x", new long[] {1, 3, 64, 64}), List.of("y")));
    }

    /** Both paths agree with Java; the caller's-tensor path allocates nothing per run once warm. */
    private static void assertRunsLikeJava(Model m, Session s, Tensor x, String what) {
        var threadBean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (Session java = m.session(JAVA); Result want = java.run(Map.of("x", x), List.of("y"));
             Result got = s.run(Map.of("x", x), List.of("y")); Tensor out = Tensor.zeros(1, 8, 64, 64)) {
            float[] expected = want.get("y").toArray();
            BatchSplitTest.assertClose(expected, got.get("y").toArray(), what + ", returned");
            Map<String, Tensor> inputs = Map.of("x", x), outputs = Map.of("y", out);
            for (int i = 0; i < 300; i++) s.run(inputs, outputs);
            long perRun = Long.MAX_VALUE;
            for (int window = 0; window < 3 && perRun > 0; window++) {
                long before = threadBean.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 200; i++) s.run(inputs, outputs);
                perRun = Math.min(perRun, (threadBean.getCurrentThreadAllocatedBytes() - before) / 200);
            }
            BatchSplitTest.assertClose(expected, out.toArray(), what + ", into the caller's tensor");
            assertEquals(0, perRun, what + ": bytes allocated per steady-state run");
        }
    }

    @Test
    void forcedOneThreadRunsThePlanPreparedForOneThread() throws IOException {
        try (Model m = Model.load(model()); Tensor x = input()) {
            with("one", () -> {
                try (Session s = m.session(TWO_THREADS)) {
                    String plan = explain(s);
                    assertTrue(plan.contains("threads the whole plan runs on one thread"), plan);
                    assertFalse(plan.contains("[1 thread: too small to split]"), "the one-thread plan has nothing to mark:\n" + plan);
                    assertRunsLikeJava(m, s, x, "one thread");
                    List<String> profile = s.profile(Map.of("x", x), List.of("y"), 3);
                    assertTrue(profile.stream().anyMatch(l -> l.contains("conv")), String.join("\n", profile));
                }
            });
        }
    }

    @Test
    void forcedForkingKeepsThePlanForAllThreads() throws IOException {
        try (Model m = Model.load(model()); Tensor x = input()) {
            with("forked", () -> {
                try (Session s = m.session(TWO_THREADS)) {
                    String plan = explain(s);
                    assertTrue(plan.lines().noneMatch(l -> l.startsWith("threads ")), plan);
                    assertTrue(plan.contains("[1 thread: too small to split]"), "the Relu-fused 1×1 conv is small:\n" + plan);
                    assertRunsLikeJava(m, s, x, "forked");
                }
            });
        }
    }

    @Test
    void timedChoiceIsReportedAndEitherWayExact() throws IOException {
        try (Model m = Model.load(model()); Tensor x = input()) {
            with("timed", () -> {
                try (Session s = m.session(TWO_THREADS)) {
                    String plan = explain(s);
                    assertTrue(plan.lines().anyMatch(l -> l.startsWith("threads ") && l.contains("timed at prepare")), plan);
                    assertRunsLikeJava(m, s, x, "timed");
                }
                try (Session s = m.session(TWO_THREADS.withThreads(1))) {
                    assertFalse(explain(s).contains("threads "), "one thread: nothing to choose");
                }
            });
        }
    }

    @Test
    void unknownSettingIsAnError() throws IOException {
        try (Model m = Model.load(model())) {
            with("sometimes", () -> {
                try (Session s = m.session(TWO_THREADS)) {
                    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> explain(s));
                    assertTrue(e.getMessage().contains("jdnn.parallel.planThreads"), e.getMessage());
                }
            });
        }
    }
}
