package dev.jdnn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Backend;
import dev.jdnn.Limits;
import dev.jdnn.Tensor;
import dev.jdnn.graph.op.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link Plan#reserveFrameMemory()} allocates a compiled plan's first frame ahead of its first run (the session
 * does it while prepare waits for the background work): the first run must compute in that memory exactly what
 * the Java reference computes, later runs reuse it, and a plan closed before any run frees it and refuses runs.
 */
class ReservedFrameMemoryTest {
    private static final long[] X = {1, 8, 6, 6};

    /** Conv 3×3 (8→8, pad 1) + ReLU, global average pool: 1×8×6×6 → 1×8×1×1. */
    private static Graph graph(List<Tensor> owned) {
        Tensor w = Tensor.zeros(8, 8, 3, 3), b = Tensor.zeros(8);
        owned.add(w);
        owned.add(b);
        for (long i = 0; i < w.elementCount(); i++) w.setFlat(i, (float) Math.cos(i * 0.3) * 0.1f);
        for (long i = 0; i < b.elementCount(); i++) b.setFlat(i, 0.05f * i - 0.2f);
        List<Node> nodes = List.of(
                new Node("conv", "Conv", List.of("x", "w", "b"), List.of("c"), new Attributes(Map.of("pads", new long[] {1, 1, 1, 1}, "kernel_shape", new long[] {3, 3}))),
                new Node("relu", "Relu", List.of("c"), List.of("r"), new Attributes(Map.of())),
                new Node("gap", "GlobalAveragePool", List.of("r"), List.of("y"), new Attributes(Map.of())));
        return new Graph(Map.of("x", X), List.of("y"), nodes, Map.of("w", new Value.Floats(w), "b", new Value.Floats(b)));
    }

    private static float[] run(Plan plan, Tensor x) {
        try (Tensor y = ((Value.Floats) plan.run(Map.of("x", x)).get("y")).tensor()) {
            return y.toArray();
        }
    }

    @Test
    void theFirstRunComputesInTheReservedFrameAndAPlanClosedUnusedFreesIt() {
        List<Tensor> owned = new ArrayList<>();
        try (Tensor x = Tensor.zeros(X)) {
            for (long i = 0; i < x.elementCount(); i++) x.setFlat(i, (float) Math.sin(i * 0.17));
            Graph graph = graph(owned);
            float[] expected;
            try (Plan java = new Plan(graph, Map.of("x", X), Set.of("y"), new Op.Context(Backend.JAVA, 13))) {
                expected = run(java, x);
            }
            try (Plan compiled = new Plan(graph, Map.of("x", X), Map.of(), Set.of("y"), new Op.Context(Backend.NATIVE, 13), Optimizations.all(), Limits.DEFAULT)) {
                assertTrue(compiled.compiled());
                long before = compiled.nativeBytes();
                compiled.reserveFrameMemory();
                compiled.reserveFrameMemory();   // once only
                assertEquals(before, compiled.nativeBytes(), "the reserved frame is the one frame a plan counts before its first run");
                for (int run = 0; run < 2; run++) {
                    float[] got = run(compiled, x);
                    for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-5 * Math.max(1, Math.abs(expected[i])), "run " + run + " y[" + i + "]");
                }
                assertEquals(before, compiled.nativeBytes(), "the first run used the reserved frame rather than a second one");
            }
            Plan unused = new Plan(graph, Map.of("x", X), Map.of(), Set.of("y"), new Op.Context(Backend.NATIVE, 13), Optimizations.all(), Limits.DEFAULT);
            unused.reserveFrameMemory();
            unused.close();
            unused.close();
            unused.reserveFrameMemory();   // closed: nothing to reserve for
            assertThrows(IllegalStateException.class, () -> unused.run(Map.of("x", x)));
        } finally {
            owned.forEach(Tensor::close);
        }
    }
}
