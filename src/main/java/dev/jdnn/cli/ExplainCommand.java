package dev.jdnn.cli;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./jdnn explain}: what the native backend compiles the model into for these input shapes
 * and requested tensors (the outputs, plus any --tap): fused convolutions with their post-ops and
 * oneDNN kernels, layout reorders, nodes that run in Java, and the activation memory of one run.
 */
@Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"What the native backend runs: fused convs and their oneDNN kernels, reorders, Java fallbacks, activation memory per run."})
final class ExplainCommand extends Subcommand {
    @Option(names = "--model", required = true, paramLabel = "M.onnx", description = "the ONNX model")
    Path model;

    @Option(names = "--input-shape", paramLabel = "NAME=8,3,224,224", description = "the shape of an input; repeatable")
    List<String> inputShapes = new ArrayList<>();

    @Option(names = "--tap", paramLabel = "TENSOR", description = "also keep this intermediate tensor (it is then not fused away); repeatable")
    List<String> taps = new ArrayList<>();

    @Option(names = "--profile", paramLabel = "RUNS", description = "run the plan RUNS times on random input and show each instruction's time")
    Integer profileRuns;

    @Mixin
    CompileOptions compile;

    @Mixin
    ThreadsOption threadsOption;

    @Override
    public Integer call() {
        int threads = threadsOption.resolve(this);
        if (profileRuns != null) atLeast(profileRuns, 1, "--profile");
        existing(model, "model");
        try (Model m = Model.load(model);
             Session session = m.session(new Session.Options(Backend.NATIVE, threads, compile.optimizations()))) {
            Map<String, long[]> shapes = inputShapes(m, inputShapes);
            List<String> requested = new ArrayList<>(m.outputs());
            requested.addAll(taps);
            List<String> lines = session.explain(shapes, requested);
            if (profileRuns != null) {
                Map<String, Tensor> inputs = new LinkedHashMap<>();
                try {
                    Random random = new Random(42);
                    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                        DataType type = m.inputTypes().getOrDefault(e.getKey(), DataType.FLOAT);
                        if (!type.isFloatingPoint()) {
                            inputs.put(e.getKey(), Tensor.zeros(type, e.getValue())); // indices and masks: zeros are always valid
                            continue;
                        }
                        float[] data = new float[(int) Tensor.elementCount(e.getValue())];
                        for (int i = 0; i < data.length; i++) data[i] = (float) random.nextGaussian();
                        inputs.put(e.getKey(), Tensor.of(data, type, e.getValue()));
                    }
                    session.profile(inputs, requested, profileRuns).forEach(out::println);
                } finally {
                    inputs.values().forEach(Tensor::close);
                }
            } else {
                lines.forEach(out::println);
            }
            long[] bytes = session.preparedBytes(shapes, requested);
            out.printf(Locale.ROOT, "%d instructions (%d native, %d reorders, %d java) for %d graph nodes; optimizations %s%n",
                    lines.stream().filter(l -> !l.startsWith("const")).count(), lines.stream().filter(l -> l.startsWith("native")).count(),
                    lines.stream().filter(l -> l.startsWith("reorder")).count(), lines.stream().filter(l -> l.startsWith("java")).count(),
                    m.operatorCounts().values().stream().mapToInt(Integer::intValue).sum(), compile.optimizations());
            if (bytes[0] >= 0) {
                out.printf(Locale.ROOT, "activation memory per run: %.1f MiB (%.1f MiB without liveness sharing)%n", bytes[0] / 1048576.0, bytes[1] / 1048576.0);
            }
            session.footprint(shapes, requested).forEach(out::println);
        }
        return Main.OK;
    }
}
