package dev.jdnn.cli;

import dev.jdnn.Jdnn;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.NativeLibrary;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code ./jdnn} command line. Errors are one line on stderr and exit code 2; a stack trace only
 * with {@code --verbose}.
 */
public final class Main {
    static final int OK = 0;
    static final int USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command and returns its exit code (the testable entry point). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> list = Arrays.asList(args);
        boolean verbose = list.contains("--verbose");
        String[] rest = list.stream().filter(a -> !a.equals("--verbose")).toArray(String[]::new);
        if (rest.length == 0 || rest[0].equals("help") || rest[0].equals("--help") || rest[0].equals("-h")) {
            usage(out);
            return rest.length == 0 ? USAGE : OK;
        }
        String[] commandArgs = Arrays.copyOfRange(rest, 1, rest.length);
        try {
            return switch (rest[0]) {
                case "info" -> info(out);
                case "ops" -> ops(out);
                case "demo" -> DemoCommand.run(Args.parse(commandArgs, DemoCommand.OPTIONS), out);
                case "run" -> RunCommand.run(Args.parse(commandArgs, RunCommand.OPTIONS), out);
                case "names" -> RunCommand.names(Args.parse(commandArgs, RunCommand.NAMES_OPTIONS), out);
                case "bench" -> BenchCommand.run(Args.parse(commandArgs, BenchCommand.OPTIONS), out);
                case "explain" -> RunCommand.explain(Args.parse(commandArgs, RunCommand.EXPLAIN_OPTIONS), out);
                default -> {
                    err.println("jdnn: unknown command '" + rest[0] + "' (try ./jdnn help)");
                    yield USAGE;
                }
            };
        } catch (CliException | IllegalArgumentException | IllegalStateException | UnsupportedOperationException
                 | dev.jdnn.onnx.OnnxFormatException | dev.jdnn.dnnl.DnnlException | dev.jdnn.dnnl.NativeLibraryException e) {
            err.println("jdnn: " + e.getMessage());
            if (verbose) e.printStackTrace(err);
            return USAGE;
        } catch (RuntimeException e) {
            err.println("jdnn: " + e);
            if (verbose) e.printStackTrace(err);
            return USAGE;
        }
    }

    /** Every operator jdnn runs, with the opsets each implementation accepts and the class that holds it. */
    static int ops(PrintStream out) {
        var entries = dev.jdnn.graph.op.Registry.entries();
        int count = 0;
        for (var e : entries.entrySet()) {
            if (e.getKey().startsWith("jdnn.")) continue; // internal ops that rewrites produce
            for (var entry : e.getValue()) {
                out.printf(java.util.Locale.ROOT, "%-28s opsets %-8s %s%n", e.getKey(), entry.range(), entry.op().getClass().getSimpleName());
            }
            count++;
        }
        out.println(count + " ONNX operators (default domain, opsets " + dev.jdnn.graph.op.Registry.MIN_OPSET + "-" + dev.jdnn.graph.op.Registry.MAX_OPSET + ")");
        return OK;
    }

    static void usage(PrintStream out) {
        out.println("""
                jdnn %s - CNN inference for the JVM on oneDNN

                usage: ./jdnn <command> [options] [--verbose]
                  demo        [--threads T] [--iterations I]
                              runs the embedded GoogLeNet on native (fused, unfused) and Java, checks each against
                              PyTorch's output and its conv1.bn hook, and prints their latencies
                  info        jdnn and oneDNN versions, library path, ISA, threads
                  ops         every ONNX operator jdnn runs, with its opsets
                  run         --model M.onnx --input NAME=x.npy [--input ...] --output-dir DIR
                              [--tap TENSOR ...] [--backend native|java] [--threads N] [--optimizations all|unfused|none]
                              writes one .npy per output and tap, and index.tsv (tensor name -> file)
                  names       --model M.onnx [--input-shape NAME=1,3,224,224 ...]
                              lists every tensor name with its shape (symbolic dims taken as 1; any of them, batch,
                              height, width or sequence, can be set with --input-shape)
                  explain     --model M.onnx [--input-shape NAME=8,3,224,224 ...] [--tap TENSOR ...] [--optimizations ...]
                              what the native backend runs: fused convs and their oneDNN kernels (or Winograd, and
                              why), reorders, Java fallbacks, activation memory per run
                              (run, explain and bench take [--winograd off|exact|fast]: 3×3 convs as Winograd where
                              timing at prepare finds it faster; exact = F(2×2,3×3), fast adds F(4×4,3×3))
                  bench       --model M.onnx [--batch N] [--threads T] [--warmup W] [--iterations I]
                              [--backend native|java] [--optimizations all|unfused|none] [--compare-ort]
                              latency p50/p90/p99, throughput, GFLOP/s; optionally ONNX Runtime side by side
                  help        this text
                """.formatted(Jdnn.version()));
    }

    static int info(PrintStream out) {
        out.println("jdnn version:    " + Jdnn.version());
        out.println("java:            " + System.getProperty("java.vm.name") + " " + Runtime.version());
        try {
            NativeLibrary.load();
        } catch (RuntimeException e) {
            out.println("oneDNN:          not available: " + e.getMessage());
            throw new CliException("oneDNN could not be loaded: " + e.getMessage());
        }
        out.println("oneDNN version:  " + Dnnl.version());
        out.println("oneDNN library:  " + NativeLibrary.loadedPath());
        out.println("oneDNN ISA:      " + Dnnl.effectiveIsa());
        out.println("threads:         " + Dnnl.threads() + " (of " + Runtime.getRuntime().availableProcessors() + " processors)");
        return OK;
    }

    /** A user error: printed as one line, exit code 2. */
    public static final class CliException extends RuntimeException {
        public CliException(String message) {
            super(message);
        }
    }
}
