package dev.jdnn.cli;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Npy;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ./jdnn run}: one run of a model on .npy inputs; writes one .npy per output and tap, and index.tsv. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs a model once on .npy inputs and writes one .npy per output and tap, and index.tsv (tensor name -> file)."})
final class RunCommand extends Subcommand {
    @Option(names = "--model", required = true, paramLabel = "M.onnx", description = "the ONNX model")
    Path model;

    @Option(names = "--input", paramLabel = "NAME=x.npy", description = "an input tensor from a .npy file; one per model input")
    List<String> inputs = new ArrayList<>();

    @Option(names = "--output-dir", required = true, paramLabel = "DIR", description = "where the .npy files and index.tsv go (created if missing)")
    Path outDir;

    @Option(names = "--tap", paramLabel = "TENSOR", description = "also write this intermediate tensor (see ./jdnn names); repeatable")
    List<String> taps = new ArrayList<>();

    @Mixin
    CompileOptions compile;

    @Mixin
    BackendOption backendOption;

    @Mixin
    ThreadsOption threadsOption;

    @Override
    public Integer call() {
        int threads = threadsOption.resolve(this);
        Backend backend = backendOption.backend;
        existing(model, "model");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (Model m = Model.load(model); Session session = m.session(new Session.Options(backend, threads, compile.optimizations()))) {
            for (String spec : inputs) {
                String[] kv = nameValue(spec, "--input");
                if (!m.inputs().containsKey(kv[0])) throw usage("the model has no input '" + kv[0] + "'; its inputs are " + m.inputs().keySet());
                if (tensors.containsKey(kv[0])) throw usage("input '" + kv[0] + "' given twice");
                tensors.put(kv[0], readNpy(existing(Path.of(kv[1]), "input " + kv[0])));
            }
            for (String name : m.inputs().keySet()) {
                if (!tensors.containsKey(name)) throw usage("missing --input " + name + "=FILE.npy");
            }
            Set<String> requested = new LinkedHashSet<>(m.outputs());
            requested.addAll(taps);
            long start = System.nanoTime();
            try (Result result = session.run(tensors, new ArrayList<>(requested))) {
                double ms = (System.nanoTime() - start) / 1e6;
                Files.createDirectories(outDir);
                StringBuilder index = new StringBuilder("# tensor\tfile\tshape\n");
                Set<String> used = new HashSet<>();
                for (String name : requested) {
                    String file = unique(safeFileName(name), used) + ".npy";
                    Tensor t = result.get(name);
                    Npy.write(outDir.resolve(file), t);
                    index.append(name).append('\t').append(file).append('\t').append(Tensor.format(t.shape())).append('\n');
                    out.println(name + " " + Tensor.format(t.shape()) + " -> " + outDir.resolve(file));
                }
                Files.writeString(outDir.resolve("index.tsv"), index);
                out.printf(Locale.ROOT, "ran %s on %s in %.1f ms (first run: includes preparing the model)%n", model.getFileName(),
                        backend.name().toLowerCase(Locale.ROOT), ms);
            }
        } catch (IOException e) {
            throw new Main.CliException("cannot write to " + outDir + ": " + e.getMessage());
        } finally {
            tensors.values().forEach(Tensor::close);
        }
        return Main.OK;
    }

    static String safeFileName(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("^[._]+", "");
        return s.isEmpty() ? "tensor" : s;
    }

    private static String unique(String base, Set<String> used) {
        String name = base;
        for (int i = 2; !used.add(name); i++) name = base + "_" + i;
        return name;
    }

    private static Tensor readNpy(Path file) {
        try {
            return Npy.read(file);
        } catch (NoSuchFileException e) {
            throw new Main.CliException("file " + file + " does not exist");
        } catch (IOException | UncheckedIOException e) {
            throw new Main.CliException(e.getMessage());
        }
    }
}
