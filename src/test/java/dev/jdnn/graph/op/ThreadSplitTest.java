package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.OpModels.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A compiled plan with two threads runs primitives too small to split (a 1×1 conv 8→8 over 8×8) on one thread
 * and large ones (a 3×3 conv 16→64 over 64×64, ~75 MFLOP) on both, says so in {@code explain}, gives the
 * Java reference's result, and leaves the calling thread's oneDNN thread count as the session set it.
 */
class ThreadSplitTest {
    @TempDir Path dir;

    /** x 1×16×64×64 → 3×3 conv 16→64 (large) → y; z 1×8×8×8 → 1×1 conv 8→8 (tiny) → v. */
    private Path model() throws IOException {
        Random r = new Random(7);
        float[] big = new float[64 * 16 * 9], small = new float[8 * 8];
        for (int i = 0; i < big.length; i++) big[i] = (float) r.nextGaussian() * 0.1f;
        for (int i = 0; i < small.length; i++) small[i] = (float) r.nextGaussian() * 0.1f;
        GraphProto g = GraphProto.newBuilder().addInput(value("x", 1, 1, 16, 64, 64)).addInput(value("z", 1, 1, 8, 8, 8))
                .addInitializer(floats("w_big", big, 64, 16, 3, 3)).addInitializer(floats("w_small", small, 8, 8, 1, 1))
                .addNode(node("Conv", List.of("x", "w_big"), List.of("y"), ints("pads", 1, 1, 1, 1)))
                .addNode(node("Conv", List.of("z", "w_small"), List.of("v")))
                .addOutput(value("y", 1)).addOutput(value("v", 1)).build();
        return write(dir, "model.onnx", 13, g);
    }

    private static Tensor random(long... shape) {
        Random r = new Random(shape.length * 31L + shape[1]);
        float[] data = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < data.length; i++) data[i] = (float) r.nextGaussian();
        return Tensor.zeros(shape).copyFrom(data);
    }

    @Test
    void smallPrimitivesRunOnOneThreadLargeOnesOnAll() throws IOException {
        // The plan's per-primitive split, not the whole-plan choice timed at prepare (PlanThreadsTest), which could
        // pick one thread for all of this small plan.
        System.setProperty("jdnn.parallel.planThreads", "forked");
        try {
            perPrimitiveSplit();
        } finally {
            System.clearProperty("jdnn.parallel.planThreads");
        }
    }

    private void perPrimitiveSplit() throws IOException {
        Path file = model();
        Map<String, long[]> shapes = Map.of("x", new long[] {1, 16, 64, 64}, "z", new long[] {1, 8, 8, 8});
        List<String> outputs = List.of("y", "v");
        try (Model m = Model.load(file);
             Session two = m.session(new Session.Options(Backend.NATIVE, 2, Optimizations.all()));
             Session one = m.session(new Session.Options(Backend.NATIVE, 1, Optimizations.all()));
             Session java = m.session(new Session.Options(Backend.JAVA, 1, Optimizations.none()));
             Tensor x = random(1, 16, 64, 64); Tensor z = random(1, 8, 8, 8)) {
            Map<String, Tensor> inputs = Map.of("x", x, "z", z);

            List<String> lines = two.explain(shapes, outputs);
            String bigConv = lines.stream().filter(l -> l.contains("16->64")).findFirst().orElseThrow();
            String smallConv = lines.stream().filter(l -> l.contains("8->8")).findFirst().orElseThrow();
            assertFalse(bigConv.contains("1 thread"), bigConv);
            assertTrue(smallConv.contains("1 thread"), smallConv);
            assertTrue(one.explain(shapes, outputs).stream().noneMatch(l -> l.contains("1 thread")), "a one-thread plan marks nothing");

            try (Result want = java.run(inputs, outputs)) {
                for (int run = 0; run < 3; run++) {
                    try (Result got = two.run(inputs, outputs)) {
                        for (String name : outputs) {
                            float[] expected = want.get(name).toArray(), actual = got.get(name).toArray();
                            for (int i = 0; i < expected.length; i++) {
                                assertEquals(expected[i], actual[i], 1e-4 * Math.max(1, Math.abs(expected[i])), name + "[" + i + "] run " + run);
                            }
                        }
                    }
                    assertEquals(2, Dnnl.threads(), "the session's thread count is restored after a one-thread primitive");
                }
            }
        }
    }
}
