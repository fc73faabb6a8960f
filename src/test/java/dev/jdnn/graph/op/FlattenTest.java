package dev.jdnn.graph.op;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Node;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Flatten's output shape with zero-size inputs, as numpy's {@code x.reshape(prod(x.shape[:axis]), prod(x.shape[axis:]))}
 * gives it (worked by hand): RetinaNet's decoded boxes with no box above the threshold are 0×1×4, flattened at
 * axis 1 to 0×4, which torch then splits into four columns.
 */
class FlattenTest {
    @Test
    void zeroSizeInputsKeepTheOtherSidesExtent() {
        record Case(long[] x, long axis, long[] want) {}
        List<Case> cases = List.of(
                new Case(new long[] {0, 1, 4}, 1, new long[] {0, 4}),
                new Case(new long[] {0, 1, 4}, 2, new long[] {0, 4}),
                new Case(new long[] {0, 1, 4}, 0, new long[] {1, 0}),
                new Case(new long[] {2, 0, 3}, 1, new long[] {2, 0}),
                new Case(new long[] {2, 0, 3}, 2, new long[] {0, 3}),
                new Case(new long[] {2, 0, 3}, 3, new long[] {0, 1}),
                new Case(new long[] {2, 5, 3}, -1, new long[] {10, 3}));
        for (Case c : cases) {
            Node node = new Node("flatten", "Flatten", List.of("x"), List.of("y"), new Attributes(Map.of("axis", c.axis())));
            Inputs in = new Inputs(List.<long[]>of(c.x()), List.of(DataType.FLOAT), Arrays.asList((dev.jdnn.graph.Value) null));
            for (Backend backend : Backend.values()) {
                try (Op.Step step = Registry.get("Flatten", 13).prepare(node, in, new Op.Context(backend, 13))) {
                    assertArrayEquals(c.want(), step.outputShapes().get(0), Arrays.toString(c.x()) + " at axis " + c.axis() + " on " + backend);
                }
            }
        }
    }
}
