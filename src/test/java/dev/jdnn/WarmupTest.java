package dev.jdnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Plan;
import dev.jdnn.graph.Value;
import dev.jdnn.graph.op.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The warm-up's tiny CNN is only worth running if it takes the compiled native path the first real plan of an
 * image classifier takes (conv chains with folded batch norm, native concat, scale-shift batch norm, pools, the
 * inner-product classifier): every node native, and its result what the Java reference computes.
 */
class WarmupTest {
    @Test
    void tinyCnnCompilesEveryNodeNativelyAndMatchesTheJavaReference() {
        List<Value> constants = new ArrayList<>();
        try {
            Graph graph = Warmup.tinyCnn(constants);
            long[] shape = {1, 16, 8, 8};
            try (Plan compiled = new Plan(graph, Map.of("x", shape), Map.of(), Set.of("y"), new Op.Context(Backend.NATIVE, 13), Optimizations.all(), Limits.DEFAULT);
                 Plan java = new Plan(graph, Map.of("x", shape), Set.of("y"), new Op.Context(Backend.JAVA, 13));
                 Tensor x = Tensor.zeros(shape)) {
                assertTrue(compiled.compiled());
                String explain = String.join("\n", compiled.explain());
                assertFalse(explain.lines().anyMatch(l -> l.startsWith("java ")), explain);
                for (String layer : List.of("conv 16->16 k3x3", "concat of 2", "scale-shift", "MaxPool", "AveragePool", "inner_product")) {
                    assertTrue(explain.contains(layer), layer + " in\n" + explain);
                }
                for (long i = 0; i < x.elementCount(); i++) x.setFlat(i, (float) Math.sin(i * 0.1));
                float[] got, expected;
                try (Tensor y = ((Value.Floats) compiled.run(Map.of("x", x)).get("y")).tensor();
                     Tensor reference = ((Value.Floats) java.run(Map.of("x", x)).get("y")).tensor()) {
                    got = y.toArray();
                    expected = reference.toArray();
                }
                assertEquals(10, got.length);
                for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], 1e-4 * Math.max(1, Math.abs(expected[i])), "y[" + i + "]");
            }
        } finally {
            for (Value v : constants) if (v instanceof Value.Floats f) f.tensor().close();
        }
    }

    @Test
    void runningTheTinyPlanTwiceSucceeds() {
        Warmup.runTinyPlan();
        Warmup.runTinyPlan();
    }
}
