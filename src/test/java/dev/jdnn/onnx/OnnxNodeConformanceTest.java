package dev.jdnn.onnx;

import dev.jdnn.Backend;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.op.Registry;
import dev.jdnn.onnx.proto.OnnxProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.TestAbortedException;

/**
 * ONNX's own backend node tests (Debian's libonnx-testdata, installed by .ci/run): every test whose
 * graph uses only operators jdnn supports (at the test's opset) runs on both backends and must match
 * ONNX's expected outputs within ONNX's tolerance (|a − b| ≤ 1e-7 + 1e-3·|b|; integer and bool outputs
 * exactly). A test is skipped, with the reason, only when it needs something jdnn declares unsupported
 * (an element type jdnn does not hold, 3-D convolution, an attribute mode). {@code -Djdnn.conformance.filter=REGEX}
 * runs only the test directories whose name matches.
 */
class OnnxNodeConformanceTest {
    static final Path NODE_TESTS = OnnxNodeTests.NODE_TESTS;
    static final java.util.regex.Pattern FILTER = System.getProperty("jdnn.conformance.filter", "").isEmpty() ? null
            : java.util.regex.Pattern.compile(System.getProperty("jdnn.conformance.filter"));

    @TestFactory
    Stream<DynamicTest> onnxNodeTests() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(NODE_TESTS), NODE_TESTS + " is absent: install Debian's libonnx-testdata (.ci/run does)");
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(NODE_TESTS).sorted()) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                Path model = dir.resolve("model.onnx");
                if (!Files.isRegularFile(model) || !Files.isDirectory(dir.resolve("test_data_set_0"))) continue;
                OnnxProto.ModelProto proto;
                try (InputStream in = Files.newInputStream(model)) {
                    proto = OnnxProto.ModelProto.parseFrom(in);
                }
                if (proto.getGraph().getNodeCount() == 0) continue;
                if (FILTER != null && !FILTER.matcher(dir.getFileName().toString()).matches()) continue;
                int opset = OnnxNodeTests.opset(proto);
                boolean supported = proto.getGraph().getNodeList().stream().allMatch(n -> Registry.get(n.getOpType(), opset) != null);
                if (!supported) continue;
                // Native compiled (oneDNN layouts, native ops), native node by node, and the Java reference.
                tests.add(DynamicTest.dynamicTest(dir.getFileName() + " on NATIVE compiled", () -> recorded(dir, Backend.NATIVE, Optimizations.all())));
                tests.add(DynamicTest.dynamicTest(dir.getFileName() + " on NATIVE node by node", () -> recorded(dir, Backend.NATIVE, Optimizations.none())));
                tests.add(DynamicTest.dynamicTest(dir.getFileName() + " on JAVA", () -> recorded(dir, Backend.JAVA, Optimizations.none())));
            }
        }
        return tests.stream();
    }

    /** Outcome per test directory and configuration, for the summary written after the run. */
    static final Map<String, String> OUTCOMES = new java.util.concurrent.ConcurrentSkipListMap<>();

    static void recorded(Path dir, Backend backend, Optimizations optimizations) throws IOException {
        String key = dir.getFileName() + "\t" + backend + "/" + optimizations;
        try {
            OnnxNodeTests.runCase(dir, backend, optimizations);
            OUTCOMES.put(key, "pass");
        } catch (TestAbortedException e) {
            OUTCOMES.put(key, "skip: " + reason(e.getMessage()));
            throw e;
        } catch (IOException | RuntimeException | AssertionError e) {
            OUTCOMES.put(key, "fail");
            throw e;
        }
    }

    /** A skip message reduced to its reason, so skips can be counted by reason. */
    static String reason(String message) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(element type|dtype) (\\w+)").matcher(String.valueOf(message));
        if (m.find()) return "element type " + m.group(2) + " not supported";
        m = java.util.regex.Pattern.compile("of type (\\w+) is not supported").matcher(String.valueOf(message));
        if (m.find()) return "element type " + m.group(1) + " not supported for this op";
        String text = String.valueOf(message).replaceAll("node [^:]*:", "node:").replaceAll("\\[[^]]*]", "[..]");
        return text.length() > 110 ? text.substring(0, 110) : text;
    }

    /**
     * Writes target/conformance-summary.txt: per configuration, how many test directories passed, and the
     * skips counted by reason (the README quotes it).
     */
    @org.junit.jupiter.api.AfterAll
    static void summary() throws IOException {
        if (OUTCOMES.isEmpty()) return;
        Map<String, Map<String, Integer>> byConfig = new java.util.TreeMap<>();
        for (Map.Entry<String, String> e : OUTCOMES.entrySet()) {
            String config = e.getKey().substring(e.getKey().indexOf('\t') + 1);
            byConfig.computeIfAbsent(config, k -> new java.util.TreeMap<>()).merge(e.getValue(), 1, Integer::sum);
        }
        StringBuilder b = new StringBuilder("ONNX backend node tests (libonnx-testdata) with only operators jdnn runs, per configuration:\n");
        byConfig.forEach((config, counts) -> {
            b.append(config).append(":\n");
            counts.forEach((outcome, n) -> b.append(String.format(java.util.Locale.ROOT, "  %5d  %s%n", n, outcome)));
        });
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "conformance-summary.txt"), b);
        System.out.print(b);
    }
}
