package dev.jdnn.cli;

import dev.jdnn.Model;
import dev.jdnn.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./jdnn names}: every tensor name of a model with its shape, for {@code --tap}. */
@Command(name = "names", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Lists every tensor name with its shape (symbolic dims taken as 1; any of them, batch, height, width or sequence, "
                + "can be set with --input-shape)."})
final class NamesCommand extends Subcommand {
    @Option(names = "--model", required = true, paramLabel = "M.onnx", description = "the ONNX model")
    Path model;

    @Option(names = "--input-shape", paramLabel = "NAME=1,3,224,224", description = "the shape of an input; repeatable")
    List<String> inputShapes = new ArrayList<>();

    @Override
    public Integer call() {
        existing(model, "model");
        try (Model m = Model.load(model)) {
            Map<String, long[]> given = inputShapes(m, inputShapes);
            Map<String, long[]> all;
            try {
                all = m.tensorShapes(given);
            } catch (dev.jdnn.graph.op.DataDependentException e) {
                // Shapes from a data-dependent node on are only known when the model runs (a plan's tail).
                all = m.tensorShapes(given, true);
                out.println("# " + e.getMessage().replaceAll(":.*", "") + " and the tensors after it have shapes that depend on the data: not listed");
            }
            Set<String> outputs = new HashSet<>(m.outputs());
            for (Map.Entry<String, long[]> e : all.entrySet()) {
                String kind = m.inputs().containsKey(e.getKey()) ? "input" : outputs.contains(e.getKey()) ? "output" : "";
                out.println(e.getKey() + "\t" + Tensor.format(e.getValue()) + (kind.isEmpty() ? "" : "\t" + kind));
            }
        }
        return Main.OK;
    }
}
