package dev.jdnn.cli;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Npy;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import java.io.IOException;
import java.io.PrintStream;
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

/** {@code ./jdnn run} and {@code ./jdnn names}. */
final class RunCommand {
    static final Set<String> OPTIONS = Set.of("model", "input", "output-dir", "tap", "backend", "threads", "optimizations", "autotune", "winograd");
    static final Set<String> NAMES_OPTIONS = Set.of("model", "input-shape");
    static final Set<String> EXPLAIN_OPTIONS = Set.of("model", "input-shape", "tap", "threads", "optimizations", "profile", "autotune", "winograd");

    private RunCommand() {}

    static int run(Args args, PrintStream out) {
        Path modelFile = existing(args.required("model"), "model");
        Path outDir = Path.of(args.required("output-dir"));
        Backend backend = backend(args.one("backend", "native"));
        int threads = threads(args.one("threads", "0"));
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        Optimizations optimizations = BenchCommand.optimizations(args);
        try (Model model = Model.load(modelFile); Session session = model.session(new Session.Options(backend, threads, optimizations))) {
            for (String spec : args.all("input")) {
                String[] kv = split(spec, "--input");
                if (!model.inputs().containsKey(kv[0])) {
                    throw new Main.CliException("the model has no input '" + kv[0] + "'; its inputs are " + model.inputs().keySet());
                }
                if (inputs.containsKey(kv[0])) throw new Main.CliException("input '" + kv[0] + "' given twice");
                inputs.put(kv[0], readNpy(existing(kv[1], "input " + kv[0])));
            }
            for (String name : model.inputs().keySet()) {
                if (!inputs.containsKey(name)) throw new Main.CliException("missing --input " + name + "=FILE.npy");
            }
            Set<String> requested = new LinkedHashSet<>(model.outputs());
            requested.addAll(args.all("tap"));
            long start = System.nanoTime();
            try (Result result = session.run(inputs, new ArrayList<>(requested))) {
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
                out.printf(Locale.ROOT, "ran %s on %s in %.1f ms (first run: includes preparing the model)%n", modelFile.getFileName(),
                        backend.name().toLowerCase(Locale.ROOT), ms);
            }
        } catch (IOException e) {
            throw new Main.CliException("cannot write to " + outDir + ": " + e.getMessage());
        } finally {
            inputs.values().forEach(Tensor::close);
        }
        return Main.OK;
    }

    static int names(Args args, PrintStream out) {
        Path modelFile = existing(args.required("model"), "model");
        try (Model model = Model.load(modelFile)) {
            Map<String, long[]> shapes = inputShapes(model, args);
            Map<String, long[]> all = model.tensorShapes(shapes);
            Set<String> outputs = new HashSet<>(model.outputs());
            for (Map.Entry<String, long[]> e : all.entrySet()) {
                String kind = model.inputs().containsKey(e.getKey()) ? "input" : outputs.contains(e.getKey()) ? "output" : "";
                out.println(e.getKey() + "\t" + Tensor.format(e.getValue()) + (kind.isEmpty() ? "" : "\t" + kind));
            }
        }
        return Main.OK;
    }

    /**
     * {@code ./jdnn explain}: what the native backend compiles the model into for these input shapes
     * and requested tensors (the outputs, plus any --tap): fused convolutions with their post-ops and
     * oneDNN kernels, layout reorders, nodes that run in Java, and the activation memory of one run.
     */
    static int explain(Args args, PrintStream out) {
        Path modelFile = existing(args.required("model"), "model");
        int threads = threads(args.one("threads", "0"));
        Optimizations optimizations = BenchCommand.optimizations(args);
        try (Model model = Model.load(modelFile);
             Session session = model.session(new Session.Options(Backend.NATIVE, threads, optimizations))) {
            Map<String, long[]> shapes = inputShapes(model, args);
            List<String> requested = new ArrayList<>(model.outputs());
            requested.addAll(args.all("tap"));
            List<String> lines = session.explain(shapes, requested);
            String profileRuns = args.one("profile", null);
            if (profileRuns != null) {
                Map<String, Tensor> inputs = new LinkedHashMap<>();
                try {
                    java.util.Random random = new java.util.Random(42);
                    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                        dev.jdnn.DataType type = model.inputTypes().getOrDefault(e.getKey(), dev.jdnn.DataType.FLOAT);
                        if (type != dev.jdnn.DataType.FLOAT) {
                            inputs.put(e.getKey(), Tensor.zeros(type, e.getValue())); // indices and masks: zeros are always valid
                            continue;
                        }
                        float[] data = new float[(int) Tensor.elementCount(e.getValue())];
                        for (int i = 0; i < data.length; i++) data[i] = (float) random.nextGaussian();
                        inputs.put(e.getKey(), Tensor.of(data, e.getValue()));
                    }
                    session.profile(inputs, requested, runs(profileRuns)).forEach(out::println);
                } finally {
                    inputs.values().forEach(Tensor::close);
                }
            } else {
                lines.forEach(out::println);
            }
            long[] bytes = session.preparedBytes(shapes, requested);
            out.printf(java.util.Locale.ROOT, "%d instructions (%d native, %d reorders, %d java) for %d graph nodes; optimizations %s%n",
                    lines.stream().filter(l -> !l.startsWith("const")).count(), lines.stream().filter(l -> l.startsWith("native")).count(), lines.stream().filter(l -> l.startsWith("reorder")).count(),
                    lines.stream().filter(l -> l.startsWith("java")).count(), model.operatorCounts().values().stream().mapToInt(Integer::intValue).sum(), optimizations);
            if (bytes[0] >= 0) {
                out.printf(java.util.Locale.ROOT, "activation memory per run: %.1f MiB (%.1f MiB without liveness sharing)%n", bytes[0] / 1048576.0, bytes[1] / 1048576.0);
            }
        }
        return Main.OK;
    }

    /** The model's declared input shapes (symbolic dims as 1), overridden by --input-shape NAME=d1,d2,... */
    private static Map<String, long[]> inputShapes(Model model, Args args) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        model.inputs().forEach((name, declared) -> {
            long[] s = declared.clone();
            for (int i = 0; i < s.length; i++) if (s[i] < 0) s[i] = 1;
            shapes.put(name, s);
        });
        for (String spec : args.all("input-shape")) {
            String[] kv = split(spec, "--input-shape");
            if (!shapes.containsKey(kv[0])) throw new Main.CliException("the model has no input '" + kv[0] + "'; its inputs are " + shapes.keySet());
            try {
                shapes.put(kv[0], java.util.Arrays.stream(kv[1].split(",")).map(String::trim).mapToLong(Long::parseLong).toArray());
            } catch (NumberFormatException e) {
                throw new Main.CliException("--input-shape " + spec + ": expected NAME=d1,d2,...");
            }
        }
        return shapes;
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

    private static String[] split(String spec, String option) {
        int eq = spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) throw new Main.CliException(option + " " + spec + ": expected NAME=VALUE");
        return new String[] {spec.substring(0, eq), spec.substring(eq + 1)};
    }

    private static Path existing(String file, String what) {
        Path p = Path.of(file);
        if (!Files.isRegularFile(p)) throw new Main.CliException(what + " file " + file + " does not exist");
        return p;
    }

    private static Tensor readNpy(Path file) {
        try {
            return Npy.read(file);
        } catch (NoSuchFileException e) {
            throw new Main.CliException("file " + file + " does not exist");
        } catch (IOException e) {
            throw new Main.CliException(e.getMessage());
        } catch (UncheckedIOException e) {
            throw new Main.CliException(e.getMessage());
        }
    }

    private static Backend backend(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "native" -> Backend.NATIVE;
            case "java" -> Backend.JAVA;
            default -> throw new Main.CliException("--backend must be native or java, got '" + name + "'");
        };
    }

    private static int runs(String value) {
        try {
            int n = Integer.parseInt(value);
            if (n < 1) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new Main.CliException("--profile must be a number of runs >= 1, got '" + value + "'");
        }
    }

    private static int threads(String value) {
        try {
            int t = Integer.parseInt(value);
            if (t < 0) throw new NumberFormatException();
            return t;
        } catch (NumberFormatException e) {
            throw new Main.CliException("--threads must be a whole number >= 0, got '" + value + "'");
        }
    }
}
