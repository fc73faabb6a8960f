package dev.jdnn.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What users expect of a command line: help everywhere, suggestions for typos, exit codes, quiet progress in logs. */
class CliConventionsTest {
    static final Path MODEL = Path.of("src/test/resources/fixtures/models/googlenet_eval/model.onnx");

    static MainTest.Result run(String... args) {
        return MainTest.run(args);
    }

    static Stream<String> commands() {
        return Main.COMMANDS.keySet().stream().filter(c -> !c.equals("help"));
    }

    @ParameterizedTest
    @MethodSource("commands")
    void everyCommandPrintsItsUsageForHelpAndExits0(String command) {
        for (List<String> args : List.of(List.of(command, "--help"), List.of(command, "-h"), List.of("help", command))) {
            MainTest.Result r = run(args.toArray(String[]::new));
            assertEquals(0, r.code(), args + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: jdnn " + command + " "), args + ": " + r.out());
            assertTrue(r.out().contains("--help"), r.out());
            assertEquals("", r.err(), args.toString());
        }
    }

    /** Every command that computes takes the same {@code --threads} (0 = all processors) and refuses a negative count by name. */
    @ParameterizedTest
    @MethodSource("commands")
    void threadsMeansTheSameInEveryCommand(String command) {
        MainTest.Result help = run(command, "--help");
        if (!help.out().contains("--threads")) return;   // info, names, ops: nothing to compute
        assertTrue(help.out().replaceAll("\\s+", " ").contains("0 = all processors (default)"), command + ": " + help.out());
        List<String> args = new java.util.ArrayList<>(List.of(command, "--threads", "-1"));
        if (!command.equals("demo")) args.addAll(List.of("--model", MODEL.toString()));
        if (command.equals("run")) args.addAll(List.of("--output-dir", "target/no-output"));
        if (command.equals("classify") || command.equals("segment")) args.add("no-such-image.png");
        MainTest.Result negative = run(args.toArray(String[]::new));
        assertEquals(2, negative.code(), command + ": " + negative.err());
        assertTrue(negative.err().contains("--threads"), command + ": " + negative.err());
    }

    @Test
    void helpListsEveryCommand() {
        for (String[] args : new String[][] {{"help"}, {"--help"}, {"-h"}}) {
            MainTest.Result r = run(args);
            assertEquals(0, r.code(), r.err());
            commands().forEach(c -> assertTrue(r.out().contains("\n  " + c + " "), c + " missing from:\n" + r.out()));
        }
    }

    @Test
    void noCommandIsAUsageErrorWithTheOverviewOnStderr() {
        MainTest.Result r = run();
        assertEquals(2, r.code());
        assertEquals("", r.out());
        assertTrue(r.err().contains("Usage: jdnn"), r.err());
        assertTrue(r.err().contains("missing COMMAND"), r.err());
    }

    @Test
    void versionThroughTheFastPathAndThroughPicocliAgree() {
        MainTest.Result fast = run("--version");
        assertEquals(0, fast.code(), fast.err());
        assertTrue(fast.out().startsWith("jdnn " + dev.jdnn.Jdnn.version() + "\n"), fast.out());
        assertEquals(fast.out(), run("-V").out());
        MainTest.Result slow = viaPicocli("--version");
        assertEquals(0, slow.code(), slow.err());
        assertEquals(fast.out(), slow.out());
    }

    @Test
    void infoThroughTheFastPathAndThroughPicocliAgree() {
        MainTest.Result fast = run("info");
        MainTest.Result slow = viaPicocli("info");
        assertEquals(0, fast.code(), fast.err());
        assertEquals(fast.code(), slow.code());
        assertEquals(fast.out(), slow.out());
        assertEquals(fast.err(), slow.err());
    }

    static MainTest.Result viaPicocli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.parseAndRun(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), () -> false, false);
        return new MainTest.Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "rnu                                   | jdnn: unknown command 'rnu'; did you mean run? (./jdnn help)",
        "expalin                               | jdnn: unknown command 'expalin'; did you mean explain?",
        "help nmaes                            | jdnn: unknown command 'nmaes'; did you mean names?",
        "bnech --model x                       | did you mean bench?",
        "run --modle m.onnx --output-dir o     | jdnn run: unknown option '--modle'; did you mean --model? (./jdnn run --help)",
        "run --model m.onnx --outptu-dir o     | unknown option '--outptu-dir'; did you mean --output-dir?",
        "bench --model m.onnx --iteratoins 3   | unknown option '--iteratoins'; did you mean --iterations?",
        "bench --model m.onnx --compare-ort=x1 | '--compare-ort'",
        "bench --model m.onnx --thread=2       | unknown option '--thread=2'; did you mean --threads?",
        "names --model m.onnx --inptu-shape a=1 | did you mean --input-shape?"})
    void misspeltWordsGetTheNearestSuggestion(String command, String expected) {
        MainTest.Result r = run(command.trim().split(" +"));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(expected), r.err());
    }

    @Test
    void failureMessagesAreOneLine() {
        assertEquals("first; second", Main.message(new IllegalArgumentException("first\n  second\n")));
        assertEquals("java.lang.NullPointerException: x", Main.message(new NullPointerException("x")), "unexpected exceptions keep their type");
        assertEquals("no such file", Main.message(new Main.CliException("no such file")));
    }

    @Test
    void farOffWordsGetNoSuggestion() {
        MainTest.Result r = run("names", "--model", "m.onnx", "--frobnicate", "1");
        assertEquals(2, r.code());
        assertFalse(r.err().contains("did you mean"), r.err());
        assertFalse(run("zzzz").err().contains("did you mean"));
    }

    @Test
    void suggestionDistanceCountsEditsAndSwaps() {
        assertEquals(0, Suggestions.distance("model", "model"));
        assertEquals(1, Suggestions.distance("modle", "model"), "a swap of neighbours is one edit");
        assertEquals(1, Suggestions.distance("mode", "model"));
        assertEquals(2, Suggestions.distance("mdoe", "model"));
        assertEquals(5, Suggestions.distance("", "model"));
        assertEquals(java.util.Optional.of("--output-dir"), Suggestions.nearest("--out", List.of("--model", "--output-dir", "--tap")), "unique prefix");
        assertEquals(java.util.Optional.empty(), Suggestions.nearest("--t", List.of("--tap", "--threads")), "ambiguous prefix");
    }

    /** Stderr is a buffer here, as in a captured log: no carriage returns, one progress line at the end. */
    @Test
    void benchProgressIsOneLineAtTheEndWhenStderrIsNotATerminal() {
        MainTest.Result r = run("bench", "--model", MODEL.toString(), "--warmup", "2", "--iterations", "5", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("\r"), r.err());
        assertFalse(r.out().contains("\r") || r.out().contains("running"), "progress never goes to stdout: " + r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("bench model.onnx: 7/7 in "), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("jdnn (native)") && l.contains("p50")), r.out());
    }

    @Test
    void progressOnATerminalRedrawsOneLineAndEndsIt() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (Progress p = new Progress(err, true, "work", 4)) {
            for (int i = 0; i < 4; i++) p.advance(1);
        }
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("\rwork [") && s.endsWith("\n"), s);
        assertEquals(1, s.chars().filter(c -> c == '\n').count(), "one line, redrawn in place: " + s);
        String last = s.substring(s.lastIndexOf('\r') + 1);
        assertTrue(last.startsWith("work [" + "#".repeat(30) + "] 4/4 "), last);
    }

    @Test
    void progressOffATerminalIsSilentUntilTheEnd() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Progress p = new Progress(err, false, "work", 10);
        p.advance(3);
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
        p.close();
        p.close();
        assertTrue(bytes.toString(StandardCharsets.UTF_8).matches("work: 3/10 in \\d+\\.\\d s\n"), bytes.toString(StandardCharsets.UTF_8));
    }

    /**
     * A fresh JVM through the real entry point: with stderr on a pipe there is no carriage return and one
     * summary line; under a pseudo-terminal (util-linux {@code script}) the bar is redrawn in place.
     */
    @Test
    void aFreshJvmDrawsTheBarOnlyOnATerminal() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "bench", "--model", MODEL.toString(), "--warmup", "0", "--iterations", "3", "--threads", "1");
        Process piped = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(piped.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, piped.waitFor(), err);
        assertFalse(err.contains("\r"), err);
        assertTrue(err.strip().lines().anyMatch(l -> l.startsWith("bench model.onnx: 3/3 in ")), err);

        Path script = Path.of("/usr/bin/script");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(script), "util-linux script (a pseudo-terminal) is not installed");
        String quoted = String.join(" ", command.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList());
        Process tty = new ProcessBuilder(script.toString(), "-qec", quoted + " > /dev/null", "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        tty.getOutputStream().close();
        String screen = new String(tty.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, tty.waitFor(), screen);
        assertTrue(screen.contains("\rbench model.onnx ["), "live bar on a terminal: " + screen);
        assertTrue(screen.contains("] 3/3 "), screen);
    }

    /** Surefire's forked JVM has stderr on a pipe: the libc check must say so (System.console() alone might not). */
    @Test
    void stderrOnAPipeIsNotATerminal() {
        assertFalse(Progress.stderrIsTerminal());
    }
}
