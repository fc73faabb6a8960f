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

    /** A fresh JVM whose override points nowhere: one clear line, exit 2, no stack trace. */
    @Test
    void badLibraryOverrideInAFreshJvm() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Djdnn.dnnl.library=/nonexistent/libdnnl.so.3", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "info"));
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.waitFor(), out + err);
        assertTrue(err.contains("/nonexistent/libdnnl.so.3"), err);
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

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "run --model nope.onnx --output-dir /tmp/x | model file nope.onnx does not exist",
        "run --model MODEL --input x=INPUT --output-dir /tmp/x | the model has no input 'x'",
        "run --model MODEL --output-dir /tmp/x | missing --input input=FILE.npy",
        "run --model MODEL --input input=src/test/resources/fixtures/npy/f32_2x3x4.npy --output-dir /tmp/x | has shape [2, 3, 4], the model declares",
        "run --model MODEL --input input=INPUT --output-dir /tmp/x --tap nosuch | no tensor named 'nosuch'",
        "run --model MODEL --input input=INPUT --output-dir /tmp/x --backend gpu | --backend must be native or java",
        "run --model MODEL --input input=src/test/resources/fixtures/npy/f64_2x2.npy --output-dir /tmp/x | dtype <f8 is not supported",
        "names --model MODEL --bogus 1 | unknown option --bogus"})
    void errorsAreOneLineWithExitCode2(String command, String message) {
        String[] args = command.replace("MODEL", GOOGLENET.resolve("model.onnx").toString())
                .replace("INPUT", GOOGLENET.resolve("input.npy").toString()).trim().split(" ");
        Result r = run(args);
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(message), r.err());
    }
}
