package dev.jdnn.spark;

import dev.jdnn.Model;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the driver needs to know about a model to plan a job (inputs, outputs, which tensor names exist for a
 * batch shape), read once per model file version and kept, so that repeated {@code transform} calls (a loop over
 * datasets, streaming micro-batches) do not load the weights on the driver each time. The weights are not kept.
 */
record ModelFacts(Map<String, long[]> inputs, List<String> outputs) {

    private record ShapesKey(ModelFile file, String input, List<Long> batchShape) {}

    private static final Map<ModelFile, ModelFacts> FACTS = new ConcurrentHashMap<>();
    private static final Map<ShapesKey, Set<String>> TENSORS = new ConcurrentHashMap<>();

    /** The facts of the model at {@code file} (read on first use of this version of the file). */
    static ModelFacts of(Path file) {
        return FACTS.computeIfAbsent(ModelFile.of(file), v -> {
            try (Model model = Model.load(v.path())) {
                return new ModelFacts(model.inputs(), model.outputs());
            }
        });
    }

    /**
     * The tensor names of the model at {@code file} when {@code input} has {@code batchShape}.
     *
     * @throws RuntimeException from shape inference when the model does not take that shape
     */
    static Set<String> tensorNames(Path file, String input, long[] batchShape) {
        ShapesKey key = new ShapesKey(ModelFile.of(file), input, Arrays.stream(batchShape).boxed().toList());
        return TENSORS.computeIfAbsent(key, k -> {
            try (Model model = Model.load(k.file().path())) {
                return Set.copyOf(model.tensorShapes(Map.of(input, batchShape)).keySet());
            }
        });
    }
}
