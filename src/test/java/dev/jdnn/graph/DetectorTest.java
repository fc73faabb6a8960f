package dev.jdnn.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * torchvision's single-stage detectors up to their post-processing: the image transform, backbone, FPN and
 * the classification and regression heads of SSDlite (and RetinaNet when generated), exported by
 * {@code src/test/python/gen_torchvision_detectors.py --plain-batched-nms} into {@code target/detectors-plain}
 * (too large to commit; .ci/run makes SSDlite's). jdnn runs the head outputs by name (heads.txt) on a
 * 3×320×320 image and each must match PyTorch's within max|jdnn − torch| ≤ 1e-4 · max|torch| (relative to
 * the tensor's own scale: random-weight heads output values near 1e-3). Native compiled for every export,
 * Java for SSDlite too. The post-processing after the heads (NonZero of score > threshold, TopK, NMS) has
 * shapes that depend on the data, which jdnn's plans do not run yet (README, Detectors), so whole
 * detections are not compared. Without the directory the tests are skipped, saying how to make it.
 */
class DetectorTest {
    static final Path ROOT = Path.of(System.getProperty("jdnn.detectors", "target/detectors-plain"));
    static final double TOLERANCE = 1e-4;
    static final String HOW = "no detector exports in " + ROOT.toAbsolutePath() + "; make them with /usr/bin/python3 "
            + "src/test/python/gen_torchvision_detectors.py --out " + ROOT + " --archs ssdlite320_mobilenet_v3_large --plain-batched-nms";

    @TestFactory
    Stream<DynamicTest> headsMatchPyTorch() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        if (Files.isDirectory(ROOT)) {
            try (Stream<Path> dirs = Files.list(ROOT).sorted()) {
                for (Path dir : (Iterable<Path>) dirs::iterator) {
                    if (!Files.isRegularFile(dir.resolve("heads.txt"))) continue;
                    try (Stream<Path> files = Files.list(dir).sorted()) {
                        for (Path model : files.filter(f -> f.getFileName().toString().matches("opset\\d+\\.onnx")).toList()) {
                            String name = dir.getFileName() + "/" + model.getFileName();
                            tests.add(DynamicTest.dynamicTest(name + " on NATIVE compiled", () -> check(dir, model, Backend.NATIVE, Optimizations.all())));
                            if (dir.getFileName().toString().startsWith("ssdlite")) {
                                tests.add(DynamicTest.dynamicTest(name + " on JAVA", () -> check(dir, model, Backend.JAVA, Optimizations.none())));
                            }
                        }
                    }
                }
            }
        }
        if (tests.isEmpty()) {
            if ("true".equals(System.getenv("CI"))) org.junit.jupiter.api.Assertions.fail(HOW);
            Assumptions.abort(HOW);
        }
        return tests.stream();
    }

    private static void check(Path dir, Path model, Backend backend, Optimizations optimizations) {
        Map<String, Path> heads = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("heads.txt"))) {
                if (line.isBlank()) continue;
                String[] f = line.trim().split(" ");
                heads.put(f[0], dir.resolve(f[1]));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults().withBackend(backend).withOptimizations(optimizations));
             Tensor image = Fixtures.tensor(dir.resolve("input.npy"));
             Result r = s.run(Map.of(m.inputs().keySet().iterator().next(), image), List.copyOf(heads.keySet()))) {
            for (Map.Entry<String, Path> head : heads.entrySet()) {
                float[] want = Fixtures.array(head.getValue());
                Tensor got = r.get(head.getKey());
                try (Tensor expected = Fixtures.tensor(head.getValue())) {
                    assertArrayEquals(expected.shape(), got.shape(), head.getKey() + ": shape");
                }
                float[] g = got.toArray();
                double scale = 0, worst = 0;
                for (float w : want) scale = Math.max(scale, Math.abs(w));
                for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((double) g[i] - want[i]));
                assertTrue(scale > 0, head.getKey() + ": PyTorch's output is all zeros, nothing to compare");
                assertTrue(worst <= TOLERANCE * scale, dir.getFileName() + " " + model.getFileName() + " " + head.getKey() + " on " + backend
                        + ": max|jdnn − torch| = " + worst + " > " + TOLERANCE + " · max|torch| = " + TOLERANCE * scale);
            }
        }
    }
}
