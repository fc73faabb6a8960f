package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.OpModels.attr;
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
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Batch split (Optimizations.batchSplit): with two oneDNN threads a batch of 4 runs as two slices of 2 side
 * by side, one thread each, only when every op treats samples independently. The oracle is the Java backend
 * (node by node, whole batch) and PyTorch's output for a real network; the cross-sample graphs are the ones
 * a split would get wrong, so each of them fails if the safety check lets it through.
 */
class BatchSplitTest {
    @TempDir
    Path dir;

    private static final Session.Options TWO_THREADS = Session.Options.defaults().withThreads(2);
    private static final Session.Options JAVA = Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none());

    /** x[N,3,8,8] → Conv(4 filters, 3×3, pad 1) → c, then {@code tail} nodes ending in y. */
    private Path convThen(String file, List<NodeProto> tail, List<dev.jdnn.onnx.proto.OnnxProto.TensorProto> extra) throws IOException {
        Random r = new Random(7);
        float[] w = new float[4 * 3 * 3 * 3];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.3f;
        GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x", 1, -1, 3, 8, 8))
                .addInitializer(floats("w", w, 4, 3, 3, 3))
                .addNode(node("Conv", List.of("x", "w"), List.of("c"), ints("pads", 1, 1, 1, 1)))
                .addOutput(ValueInfoProto.newBuilder().setName("y"));
        extra.forEach(g::addInitializer);
        tail.forEach(g::addNode);
        return OpModels.write(dir, file, 13, g.build());
    }

    private static Tensor input(long batch) {
        Random r = new Random(11);
        float[] v = new float[(int) (batch * 3 * 8 * 8)];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, batch, 3, 8, 8);
    }

    private static String explain(Model m, Session.Options options, long batch) {
        try (Session s = m.session(options)) {
            return String.join("\n", s.explain(Map.of("x", new long[] {batch, 3, 8, 8}), List.of("y")));
        }
    }

    /** Runs y on {@code options} and on the Java backend and asserts they agree within 1e-5 · max(1, |y|). */
    private static void assertMatchesJava(Model m, Session.Options options, Tensor x, String what) {
        try (Session s = m.session(options); Session java = m.session(JAVA);
             Result got = s.run(Map.of("x", x), List.of("y")); Result want = java.run(Map.of("x", x), List.of("y"))) {
            assertClose(want.get("y").toArray(), got.get("y").toArray(), what);
        }
    }

    /** Asserts {@code got} within 1e-5 · max(1, |want|) of {@code want}, element by element. */
    static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])),
                    what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
        }
    }

    @Test
    void perSampleNetworkSplitsAnEvenBatchAndAgreesWithJava() throws IOException {
        Random r = new Random(3);
        float[] fc = new float[4 * 5];
        for (int i = 0; i < fc.length; i++) fc[i] = (float) r.nextGaussian();
        Path p = convThen("per_sample.onnx", List.of(
                node("Relu", List.of("c"), List.of("r")),
                node("GlobalAveragePool", List.of("r"), List.of("g")),
                node("Flatten", List.of("g"), List.of("f"), attr("axis", 1L)),
                node("Gemm", List.of("f", "fc"), List.of("logits")),
                node("Softmax", List.of("logits"), List.of("y"), attr("axis", 1L))), List.of(floats("fc", fc, 4, 5)));
        try (Model m = Model.load(p); Tensor x4 = input(4); Tensor x3 = input(3)) {
            assertTrue(explain(m, TWO_THREADS, 4).contains("2 parts of 2"), explain(m, TWO_THREADS, 4));
            assertFalse(explain(m, TWO_THREADS, 3).contains("parts of"), "an odd batch cannot be halved");
            assertFalse(explain(m, TWO_THREADS.withThreads(1), 4).contains("parts of"), "one thread: nothing to split");
            assertFalse(explain(m, TWO_THREADS.withOptimizations(Optimizations.all().withBatchSplit(false)), 4).contains("parts of"),
                    "switched off");
            assertMatchesJava(m, TWO_THREADS, x4, "split batch 4");
            assertMatchesJava(m, TWO_THREADS, x3, "whole batch 3");
            // The caller's-tensor path writes each part into its slice of the caller's tensor.
            try (Session s = m.session(TWO_THREADS); Session java = m.session(JAVA); Tensor out = Tensor.zeros(4, 5);
                 Result want = java.run(Map.of("x", x4), List.of("y"))) {
                s.run(Map.of("x", x4), Map.of("y", out));
                assertClose(want.get("y").toArray(), out.toArray(), "runInto, split batch 4");
            }
        }
    }

    /**
     * A split run into the caller's tensors allocates nothing on the Java heap once warm, on the calling thread
     * and on the plan's worker threads (the slice views, their maps and the hand-off are kept between runs), and
     * its result is the Java backend's; new output tensors still get right results (the views are made again).
     */
    @Test
    void splitRunIntoCallerTensorsAllocatesNothing() throws IOException {
        Path p = convThen("split_alloc.onnx", List.of(node("Relu", List.of("c"), List.of("y"))), List.of());
        var threadBean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (Model m = Model.load(p); Tensor x = input(4); Session s = m.session(TWO_THREADS); Session java = m.session(JAVA);
             Result want = java.run(Map.of("x", x), List.of("y")); Tensor out = Tensor.zeros(4, 4, 8, 8)) {
            assertTrue(explain(m, TWO_THREADS, 4).contains("2 parts of 2"), explain(m, TWO_THREADS, 4));
            Map<String, Tensor> inputs = Map.of("x", x), outputs = Map.of("y", out);
            for (int i = 0; i < 300; i++) s.run(inputs, outputs);
            long[] workers = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("jdnn-batch-part"))
                    .mapToLong(Thread::threadId).toArray();
            assertTrue(workers.length >= 1, "the split ran on a worker thread");
            long perRun = Long.MAX_VALUE, workerPerRun = Long.MAX_VALUE;
            for (int window = 0; window < 3 && (perRun > 0 || workerPerRun > 0); window++) {
                long before = threadBean.getCurrentThreadAllocatedBytes(), workersBefore = sum(threadBean.getThreadAllocatedBytes(workers));
                for (int i = 0; i < 200; i++) s.run(inputs, outputs);
                perRun = Math.min(perRun, (threadBean.getCurrentThreadAllocatedBytes() - before) / 200);
                workerPerRun = Math.min(workerPerRun, (sum(threadBean.getThreadAllocatedBytes(workers)) - workersBefore) / 200);
            }
            assertClose(want.get("y").toArray(), out.toArray(), "split runInto");
            assertEquals(0, perRun, "bytes allocated per steady-state split run on the calling thread");
            assertEquals(0, workerPerRun, "bytes allocated per steady-state split run on the worker threads");
            try (Tensor other = Tensor.zeros(4, 4, 8, 8)) {
                s.run(inputs, Map.of("y", other));
                assertClose(want.get("y").toArray(), other.toArray(), "split runInto another output tensor");
            }
        }
    }

    private static long sum(long[] values) {
        long total = 0;
        for (long v : values) total += Math.max(0, v);
        return total;
    }

    /** Graphs that mix samples: a split would change their results, so none may be split. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"softmax over the batch", "minus the batch mean", "batch moved by a transpose", "sum over all axes"})
    void crossSampleOpsAreNeverSplit(String which) throws IOException {
        List<NodeProto> tail = switch (which) {
            case "softmax over the batch" -> List.of(node("Softmax", List.of("c"), List.of("y"), attr("axis", 0L)));
            case "minus the batch mean" -> List.of(
                    node("ReduceMean", List.of("c"), List.of("mean"), ints("axes", 0), attr("keepdims", 1L)),
                    node("Sub", List.of("c", "mean"), List.of("y")));
            // [N,4,8,8] → [8,4,N,8]: softmax along N (axis 2), then back: mixes samples with dim 0 never N inside.
            case "batch moved by a transpose" -> List.of(
                    node("Transpose", List.of("c"), List.of("t"), ints("perm", 2, 1, 0, 3)),
                    node("Softmax", List.of("t"), List.of("s"), attr("axis", 2L)),
                    node("Transpose", List.of("s"), List.of("y"), ints("perm", 2, 1, 0, 3)));
            case "sum over all axes" -> List.of(
                    node("ReduceSum", List.of("c"), List.of("total"), attr("keepdims", 1L)),
                    node("Mul", List.of("c", "total"), List.of("y")));
            default -> throw new AssertionError(which);
        };
        try (Model m = Model.load(convThen("mix.onnx", tail, List.of())); Tensor x = input(4)) {
            assertFalse(explain(m, TWO_THREADS, 4).contains("parts of"), which + ":\n" + explain(m, TWO_THREADS, 4));
            assertMatchesJava(m, TWO_THREADS, x, which);
        }
    }

    /** A real network (MobileNetV3, PyTorch 1.13's output for a batch of 2): split, and still within 1e-4 of PyTorch. */
    @Test
    void mobileNetV3SplitMatchesPyTorch() throws IOException {
        Path d = Fixtures.ROOT.resolve("models/mobilenet_v3_eval");
        try (Model m = Model.load(d.resolve("model.onnx")); Session s = m.session(TWO_THREADS);
             Tensor x = Fixtures.tensor(d.resolve("input.npy")); Tensor want = Fixtures.tensor(d.resolve("output.npy"))) {
            String plan = String.join("\n", s.explain(Map.of("input", x.shape()), List.of("output")));
            assertTrue(plan.contains("2 parts of 1"), plan);
            try (Result r = s.run(Map.of("input", x), List.of("output"))) {
                float[] got = r.get("output").toArray(), expected = want.toArray();
                for (int i = 0; i < got.length; i++) {
                    assertTrue(Math.abs(got[i] - expected[i]) <= 1e-4 * Math.max(1, Math.abs(expected[i])),
                            "output " + i + ": " + got[i] + " vs PyTorch " + expected[i]);
                }
            }
        }
    }
}
