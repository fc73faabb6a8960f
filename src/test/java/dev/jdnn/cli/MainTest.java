package dev.jdnn.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void infoPrintsVersionsLibraryIsaAndThreads() {
        Result r = run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("oneDNN version:  3.13"), r.out());
        assertTrue(r.out().contains("libdnnl.so.3"), r.out());
        assertTrue(r.out().contains("oneDNN ISA:"), r.out());
        assertTrue(r.out().contains("threads:"), r.out());
    }

    @Test
    void opsListsEveryRegisteredOperatorWithItsOpsets() {
        Result r = run("ops");
        assertEquals(0, r.code(), r.err());
        for (String op : dev.jdnn.graph.op.Registry.supported()) {
            if (!op.startsWith("jdnn.")) assertTrue(r.out().contains(op + " "), op + " missing from:\n" + r.out());
        }
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("Conv ") && l.contains("opsets 7+")), r.out());
        assertFalse(r.out().contains("jdnn."), "internal rewrite ops are not listed");
    }

    @Test
    void demoRunsTheEmbeddedModelOnEveryBackendAndAgreesWithPyTorch() {
        Result r = run("demo", "--threads", "1", "--iterations", "2");
        assertEquals(0, r.code(), r.out() + r.err());
        for (String row : List.of("native, fused", "native, unfused", "native, node by node", "java reference")) {
            String line = r.out().lines().filter(l -> l.startsWith(row)).findFirst().orElseThrow(() -> new AssertionError(row + " missing:\n" + r.out()));
            assertEquals(2, line.split("agrees", -1).length - 1, "output and tap agree: " + line);
        }
        assertTrue(r.out().contains("/conv1/conv/Conv_output_0 [2, 64, 32, 32]"), r.out());
    }

    @Test
    void demoErrorMeasureCatchesNaNAndShapeMismatch() {
        assertEquals(0.5, DemoCommand.relativeError(new float[] {4, 0.5f}, new float[] {2, 0.5f}), 1e-12);
        assertEquals(0.25, DemoCommand.relativeError(new float[] {0.5f}, new float[] {0.25f}), 1e-12);
        assertTrue(Double.isNaN(DemoCommand.relativeError(new float[] {1, 1}, new float[] {Float.NaN, 1})));
        assertEquals(Double.POSITIVE_INFINITY, DemoCommand.relativeError(new float[] {1}, new float[] {1, 1}));
    }

    @Test
    void unknownCommandIsOneLineAndExitCode2() {
        Result r = run("frobnicate");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("frobnicate"));
    }

    /** A fresh JVM whose override points nowhere: one clear line, exit 1 (a failure, not a usage error), no stack trace. */
    @Test
    void badLibraryOverrideInAFreshJvm() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Djdnn.dnnl.library=/nonexistent/libdnnl.so.3", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "info"));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, p.waitFor(), out + err);
        assertTrue(err.contains("/nonexistent/libdnnl.so.3"), err);
        assertEquals(1, err.strip().lines().count(), err);
        assertFalse(err.contains("\tat "), "no stack trace without --verbose: " + err);
    }

    static final Path GOOGLENET = Path.of("src/test/resources/fixtures/models/googlenet_eval");

    @Test
    void runWritesOutputsTapsAndAnIndex(@org.junit.jupiter.api.io.TempDir Path out) throws Exception {
        Result r = run("run", "--model", GOOGLENET.resolve("model.onnx").toString(), "--input", "input=" + GOOGLENET.resolve("input.npy"),
                "--output-dir", out.toString(), "--tap", "/conv1/conv/Conv_output_0", "--backend", "java", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        String index = java.nio.file.Files.readString(out.resolve("index.tsv"));
        assertTrue(index.contains("/conv1/conv/Conv_output_0\tconv1_conv_Conv_output_0.npy\t[2, 64, 32, 32]"), index);
        try (dev.jdnn.Tensor y = dev.jdnn.Npy.read(out.resolve("output.npy"));
             dev.jdnn.Tensor expected = dev.jdnn.Npy.read(GOOGLENET.resolve("output.npy"))) {
            dev.jdnn.testing.Fixtures.assertClose(expected.toArray(), y.toArray(), 1e-4, "CLI output");
        }
    }

    @Test
    void namesListsTensorsWithShapes() {
        Result r = run("names", "--model", GOOGLENET.resolve("model.onnx").toString(), "--input-shape", "input=4,3,64,64");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("input\t[4, 3, 64, 64]\tinput"), r.out());
        assertTrue(r.out().contains("output\t[4, 10]\toutput"), r.out());
        assertTrue(r.out().contains("/conv1/conv/Conv_output_0\t[4, 64, 32, 32]"), r.out());
    }

    /** Exit code 2: the command line itself is wrong; 1: it is well formed but the work failed (a missing file, a tensor the model lacks). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "1 | run --model nope.onnx --output-dir /tmp/x | model file nope.onnx does not exist",
        "2 | run --model MODEL --input x=INPUT --output-dir /tmp/x | the model has no input 'x'",
        "2 | run --model MODEL --output-dir /tmp/x | missing --input input=FILE.npy",
        "2 | run --model MODEL --input input --output-dir /tmp/x | --input input: expected NAME=VALUE",
        "1 | run --model MODEL --input input=src/test/resources/fixtures/npy/f32_2x3x4.npy --output-dir /tmp/x | has shape [2, 3, 4], the model declares",
        "1 | run --model MODEL --input input=INPUT --output-dir /tmp/x --tap nosuch | no tensor named 'nosuch'",
        "2 | run --model MODEL --input input=INPUT --output-dir /tmp/x --backend gpu | '--backend': must be native or java, got 'gpu'",
        "2 | run --model MODEL --input input=INPUT --output-dir /tmp/x --threads -1 | --threads must be a whole number >= 0",
        "2 | run --model MODEL --input input=INPUT --output-dir /tmp/x --threads two | '--threads': 'two' is not an int",
        "2 | run --model MODEL --input input=INPUT | Missing required option: '--output-dir=DIR'",
        "1 | run --model MODEL --input input=src/test/resources/fixtures/npy/f64_2x2.npy --output-dir /tmp/x | dtype <f8 is not supported",
        "2 | bench --model MODEL --optimizations some | must be all, unfused or none, got 'some'",
        "2 | bench --model MODEL --iterations 0 | --iterations must be a whole number >= 1",
        "2 | explain --model MODEL --input-shape input=1,x | --input-shape input=1,x: expected NAME=d1,d2,...",
        "2 | names --model MODEL --input-shape nosuch=1 | the model has no input 'nosuch'",
        "2 | names --model MODEL --bogus 1 | unknown option '--bogus' (./jdnn names --help)",
        "2 | names --model MODEL extra | jdnn names: unexpected argument 'extra'",
        "2 | help nosuch | nosuch"})
    void errorsAreOneLineWithExitCode1ForFailuresAnd2ForUsage(int code, String command, String message) {
        String[] args = command.replace("MODEL", GOOGLENET.resolve("model.onnx").toString())
                .replace("INPUT", GOOGLENET.resolve("input.npy").toString()).trim().split(" ");
        Result r = run(args);
        assertEquals(code, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(message), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --verbose");
    }

    @Test
    void verbosePrintsTheStackTraceOfAFailure() {
        Result r = run("run", "--verbose", "--model", GOOGLENET.resolve("model.onnx").toString(), "--input", "input=" + GOOGLENET.resolve("input.npy"),
                "--output-dir", "/tmp/x", "--tap", "nosuch", "--backend", "java");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("jdnn run: "), r.err());
        assertTrue(r.err().contains("\tat dev.jdnn."), r.err());
    }
}
