package dev.jdnn.onnx;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Weights never reach the heap: a fresh JVM with {@code -Xmx64m} loads ResNet-50 (about 100 MB of weights), keeps
 * under 32 MB of heap in use after loading, and prepares and runs it ({@link HeapProbe}). The model is
 * torchvision's ResNet-50 export: the benchmark's {@code models/resnet50.onnx} (bench/python/gen_bench_models.py,
 * 224×224) or CI's zoo export {@code target/zoo/resnet50/opset13_eval.onnx} (64×64); skipped when neither exists.
 */
class HeapFootprintTest {
    static final long HEAP_LIMIT = 32L << 20;

    @Test
    void resnet50LoadsAndRunsIn64MbOfHeap() throws IOException, InterruptedException {
        Map<Path, String> candidates = Map.of(Path.of("models/resnet50.onnx"), "224", Path.of("target/zoo/resnet50/opset13_eval.onnx"), "64");
        Path model = candidates.keySet().stream().filter(Files::isRegularFile).sorted().findFirst().orElse(null);
        assumeTrue(model != null, "no ResNet-50 export: run /usr/bin/python3 bench/python/gen_bench_models.py resnet50"
                + " or src/test/python/gen_torchvision_zoo.py --archs resnet50 --opsets 13");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                HeapProbe.class.getName(), model.toString(), candidates.get(model)));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try {
            assertTrue(p.waitFor(10, TimeUnit.MINUTES), "the probe finished");
        } finally {
            output = new String(p.getInputStream().readAllBytes());
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), "ResNet-50 loads and runs with -Xmx64m:\n" + output);
        Map<String, String> values = new HashMap<>();
        for (String line : output.split("\n")) {
            String[] parts = line.trim().split(" ", 2);
            if (parts.length == 2) values.put(parts[0], parts[1]);
        }
        long afterLoad = Long.parseLong(values.get("heapAfterLoad"));
        assertTrue(afterLoad < HEAP_LIMIT, "heap used after loading: " + afterLoad + " bytes\n" + output);
        assertTrue(Float.isFinite(Float.parseFloat(values.get("output"))), output);
    }
}
