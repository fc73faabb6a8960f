package dev.jdnn.cli;

import dev.jdnn.Jdnn;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code ./jdnn} command line (picocli). Every command takes {@code --help}; {@code ./jdnn help CMD}
 * does the same. Exit codes: 0 success, 1 a failure (one line on stderr, the stack trace only with
 * {@code --verbose}), 2 a usage error (one line on stderr naming the nearest option or command when the
 * word was misspelt).
 */
@Command(name = "jdnn", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        header = "CNN inference for the JVM on oneDNN",
        synopsisSubcommandLabel = "COMMAND",
        footer = {"", "Exit codes: 0 success, 1 failure, 2 usage error. './jdnn help COMMAND' or './jdnn COMMAND --help' shows a command's options."})
public final class Main implements Runnable {
    /**
     * Every command, in the order help lists them. Registered lazily: picocli reads a command's
     * annotations by reflection when it is added, so {@code ./jdnn info} adds only info (start-up).
     */
    static final Map<String, Supplier<Object>> COMMANDS = commands();

    static final int OK = 0;
    static final int FAILURE = 1;
    static final int USAGE = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "on a failure, also print the stack trace")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, Progress::stderrIsTerminal));
    }

    /** Runs a command with stderr not a terminal (no live progress bar) and returns its exit code: the testable entry point. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, () -> false);
    }

    /**
     * Runs a command; {@code terminal} says whether err is an interactive terminal (live progress bars),
     * asked only by commands that show progress (the check links libc, which {@code info} need not pay for).
     */
    static int run(String[] args, PrintStream out, PrintStream err, java.util.function.BooleanSupplier terminal) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        List<String> words = Arrays.stream(args).filter(a -> !a.equals("--verbose")).toList();
        // Fast paths past picocli, whose start-up (~170 classes of Java 5 bytecode that class data sharing
        // cannot archive, and their first run) costs ~0.3 s of CPU: the two calls scripts make to probe an
        // installation. Same output and exit codes as through picocli (CliConventionsTest compares them).
        if (words.equals(List.of("info"))) {
            InfoCommand info = new InfoCommand();
            info.attach(out, err, terminal);
            try {
                return info.call();
            } catch (RuntimeException e) {
                return failure(err, "jdnn info: ", e, verbose);
            }
        }
        if (words.equals(List.of("--version")) || words.equals(List.of("-V"))) {
            for (String line : new Version().getVersion()) out.println(line);
            out.flush();
            return OK;
        }
        return parseAndRun(args, out, err, terminal, verbose);
    }

    /** Through picocli, with no fast path. */
    static int parseAndRun(String[] args, PrintStream out, PrintStream err, java.util.function.BooleanSupplier terminal, boolean verbose) {
        CommandLine cli = new CommandLine(new Main());
        String named = Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst().orElse("");
        for (Map.Entry<String, Supplier<Object>> c : COMMANDS.entrySet()) {
            // help, suggestions and the overview need them all; a known command needs only itself
            if (!COMMANDS.containsKey(named) || named.equals("help") || c.getKey().equals(named)) cli.addSubcommand(c.getKey(), c.getValue().get());
        }
        cli.setOut(writer(out)).setErr(writer(err));
        for (CommandLine sub : cli.getSubcommands().values()) {
            if (sub.getCommand() instanceof Subcommand c) c.attach(out, err, terminal);
        }
        cli.setParameterExceptionHandler((e, arguments) -> {
            err.println(usageError(e));
            err.flush();
            return USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parsed) ->
                failure(err, commandLine == cli ? "jdnn: " : "jdnn " + commandLine.getCommandName() + ": ", e, verbose));
        int code = cli.execute(args);
        out.flush();
        return code;
    }

    private static Map<String, Supplier<Object>> commands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("demo", DemoCommand::new);
        m.put("info", InfoCommand::new);
        m.put("ops", OpsCommand::new);
        m.put("run", RunCommand::new);
        m.put("names", NamesCommand::new);
        m.put("explain", ExplainCommand::new);
        m.put("bench", BenchCommand::new);
        m.put("classify", ClassifyCommand::new);
        m.put("segment", SegmentCommand::new);
        m.put("help", CommandLine.HelpCommand::new);
        return m;
    }

    /** Without a command: the overview on stderr, exit 2 (a script that forgot the command must not look successful). */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
        throw new ParameterException(spec.commandLine(), "missing COMMAND");
    }

    /**
     * One line: what was wrong, the nearest option or command if the word looks misspelt, and where
     * the options are listed, e.g. {@code jdnn run: unknown option '--modle'; did you mean --model? (./jdnn run --help)}.
     */
    static String usageError(ParameterException e) {
        CommandLine where = e.getCommandLine();
        boolean top = where.getParent() == null;
        String prefix = top ? "jdnn: " : "jdnn " + where.getCommandName() + ": ";
        String help = top ? "./jdnn help" : "./jdnn " + where.getCommandName() + " --help";
        // picocli checks required options before unknown ones; "--modle x" should be reported as the typo it is
        List<String> unmatched = e instanceof UnmatchedArgumentException u ? u.getUnmatched() : where.getUnmatchedArguments();
        if (!unmatched.isEmpty() && (e instanceof UnmatchedArgumentException || unmatched.get(0).startsWith("-"))) {
            String word = unmatched.get(0);
            boolean option = word.startsWith("-");
            String what = option ? "unknown option '" + word + "'"
                    : top ? "unknown command '" + word + "'" : "unexpected argument '" + word + "'";
            List<String> candidates = option
                    ? where.getCommandSpec().options().stream().filter(o -> !o.hidden()).flatMap(o -> Arrays.stream(o.names())).toList()
                    : top ? List.copyOf(where.getSubcommands().keySet()) : List.of();
            Optional<String> nearest = Suggestions.nearest(word.contains("=") && option ? word.substring(0, word.indexOf('=')) : word, candidates);
            return prefix + what + nearest.map(n -> "; did you mean " + n + "?").orElse("") + " (" + help + ")";
        }
        String message = e.getMessage();
        // picocli's help command: "Unknown subcommand 'rnu'." gets the same suggestion as "./jdnn rnu"
        java.util.regex.Matcher unknown = java.util.regex.Pattern.compile("Unknown subcommand '(.*)'\\.").matcher(message);
        if (unknown.matches()) {
            Optional<String> nearest = Suggestions.nearest(unknown.group(1), List.copyOf(where.getSubcommands().keySet()));
            return prefix + "unknown command '" + unknown.group(1) + "'" + nearest.map(n -> "; did you mean " + n + "?").orElse("") + " (" + help + ")";
        }
        return prefix + message + " (" + help + ")";
    }

    /** A failure: one line on stderr, the stack trace too with --verbose; exit code 1. */
    private static int failure(PrintStream err, String prefix, Exception e, boolean verbose) {
        err.println(prefix + message(e));
        if (verbose) e.printStackTrace(err);
        err.flush();
        return FAILURE;
    }

    static String message(Exception e) {
        String m = e.getMessage();
        boolean expected = e instanceof CliException || e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof UnsupportedOperationException || e instanceof dev.jdnn.onnx.OnnxFormatException
                || e instanceof dev.jdnn.dnnl.DnnlException || e instanceof dev.jdnn.dnnl.NativeLibraryException
                || e instanceof java.io.UncheckedIOException;
        // an unexpected exception keeps its class name: "NullPointerException" says more than a bare message
        String text = expected && m != null && !m.isBlank() ? m.strip() : e.toString();
        return text.replaceAll("\\s*\\R\\s*", "; "); // one line, whatever the exception's message looks like
    }

    private static PrintWriter writer(PrintStream stream) {
        return new PrintWriter(new java.io.OutputStreamWriter(stream, stream.charset()), true);
    }

    /** {@code --version}: jdnn's version and the JVM; never loads oneDNN ({@code ./jdnn info} does). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jdnn " + Jdnn.version(), "java " + System.getProperty("java.vm.name") + " " + Runtime.version()};
        }
    }

    /** A failure the user can act on (a missing file, a model without the named input): one line, exit code 1. */
    public static final class CliException extends RuntimeException {
        public CliException(String message) {
            super(message);
        }
    }
}
