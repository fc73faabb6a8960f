package dev.jdnn.cli;

import dev.jdnn.Model;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every {@code ./jdnn} command shares: the output streams {@link Main} hands it (System.out/err,
 * or buffers in tests), whether stderr is a terminal (live progress bars), and usage errors (exit code 2).
 * A command's {@code call()} returns its exit code.
 */
abstract class Subcommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    PrintStream out = System.out;
    PrintStream err = System.err;
    private BooleanSupplier terminal = () -> false;

    final void attach(PrintStream out, PrintStream err, BooleanSupplier terminal) {
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    /** A usage error: the command line itself is wrong (exit code 2, one line naming the option). */
    final ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** {@code value}, if at least {@code min}; else a usage error naming the option. */
    final int atLeast(int value, int min, String option) {
        if (value < min) throw usage(option + " must be a whole number >= " + min + ", got " + value);
        return value;
    }

    /** A progress bar on stderr for {@code total} steps: live only when stderr is a terminal. */
    final Progress progress(String label, int total) {
        return new Progress(err, terminal.getAsBoolean(), label, total);
    }

    /** An existing regular file, else a failure naming it (exit code 1). */
    static Path existing(Path file, String what) {
        if (!Files.isRegularFile(file)) throw new Main.CliException(what + " file " + file + " does not exist");
        return file;
    }

    /** {@code NAME=VALUE} of a repeatable option such as {@code --input} or {@code --input-shape}. */
    final String[] nameValue(String spec, String option) {
        int eq = spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) throw usage(option + " " + spec + ": expected NAME=VALUE");
        return new String[] {spec.substring(0, eq), spec.substring(eq + 1)};
    }

    /** The model's declared input shapes (symbolic dims as 1), overridden by {@code --input-shape NAME=d1,d2,...}. */
    final Map<String, long[]> inputShapes(Model model, List<String> overrides) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        model.inputs().forEach((name, declared) -> {
            long[] s = declared.clone();
            for (int i = 0; i < s.length; i++) if (s[i] < 0) s[i] = 1;
            shapes.put(name, s);
        });
        for (String spec : overrides) {
            String[] kv = nameValue(spec, "--input-shape");
            if (!shapes.containsKey(kv[0])) throw usage("the model has no input '" + kv[0] + "'; its inputs are " + shapes.keySet());
            try {
                long[] dims = Arrays.stream(kv[1].split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
                if (Arrays.stream(dims).anyMatch(d -> d < 1)) throw new NumberFormatException();
                shapes.put(kv[0], dims);
            } catch (NumberFormatException e) {
                throw usage("--input-shape " + spec + ": expected NAME=d1,d2,... with every dimension >= 1");
            }
        }
        return shapes;
    }
}
