package dev.jdnn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Whole torchvision 0.14 detectors as torch exports them by default (batched_nms's zero-box early return and
 * Faster R-CNN's RoI-pooler squeeze are ONNX If nodes), from the image to the final boxes, scores and labels,
 * against PyTorch's detections (gen_torchvision_detectors.py into the git-ignored {@code target/detectors};
 * .ci/run makes SSDlite's and Faster R-CNN's). Native compiled: the backbone and heads run natively, the
 * post-processing in the plan's data-dependent tail with its Ifs inlined.
 *
 * <p>Tolerance and ties: the random-weight models score their candidates within float32 rounding of each other
 * (SSDlite: all 300 within 0.010994–0.010999), so last-bit differences in the heads may reorder TopK and flip
 * NMS decisions between near-equal boxes. Detections are therefore compared as sets: the count must be
 * PyTorch's, the scores sorted must agree within {@value #SCORE_TOLERANCE}, and at least {@value #MATCHED}
 * of PyTorch's detections must have a jdnn detection with the same label, a score within
 * {@value #SCORE_TOLERANCE} and every box coordinate within {@value #BOX_TOLERANCE} px.
 */
class WholeDetectorTest {
    static final Path ROOT = Path.of(System.getProperty("jdnn.wholeDetectors", "target/detectors"));
    static final double SCORE_TOLERANCE = 1e-5, BOX_TOLERANCE = 0.01, MATCHED = 0.85;
    static final String HOW = "no detector exports in " + ROOT.toAbsolutePath() + "; make them with /usr/bin/python3 "
            + "src/test/python/gen_torchvision_detectors.py --out " + ROOT + " --archs ssdlite320_mobilenet_v3_large --opsets 11";

    @TestFactory
    Stream<DynamicTest> detectionsMatchPyTorch() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        if (Files.isDirectory(ROOT)) {
            try (Stream<Path> dirs = Files.list(ROOT).sorted()) {
                for (Path dir : (Iterable<Path>) dirs::iterator) {
                    if (!Files.isRegularFile(dir.resolve("boxes.npy"))) continue;
                    try (Stream<Path> files = Files.list(dir).sorted()) {
                        for (Path model : files.filter(f -> f.getFileName().toString().matches("opset\\d+\\.onnx")).toList()) {
                            tests.add(DynamicTest.dynamicTest(dir.getFileName() + "/" + model.getFileName() + " on NATIVE compiled", () -> check(dir, model)));
                        }
                    }
                }
            }
        }
        if (tests.isEmpty()) Assumptions.abort(HOW);
        return tests.stream();
    }

    private static void check(Path dir, Path model) {
        float[] wantBoxes = Fixtures.array(dir.resolve("boxes.npy")), wantScores = Fixtures.array(dir.resolve("scores.npy"));
        long[] wantLabels;
        try (Tensor t = Fixtures.tensor(dir.resolve("labels.npy"))) {
            wantLabels = t.toLongArray();
        }
        String what = dir.getFileName() + " " + model.getFileName();
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults());
             Tensor image = Fixtures.tensor(dir.resolve("input.npy"));
             Result r = s.run(Map.of(m.inputs().keySet().iterator().next(), image), List.of("boxes", "scores", "labels"))) {
            float[] boxes = r.get("boxes").toArray(), scores = r.get("scores").toArray();
            long[] labels = r.get("labels").toLongArray();
            int n = wantScores.length;
            assertEquals(n, scores.length, what + ": number of detections");
            assertEquals(4L * n, boxes.length, what + ": boxes");
            float[] a = wantScores.clone(), b = scores.clone();
            Arrays.sort(a);
            Arrays.sort(b);
            for (int i = 0; i < n; i++) assertTrue(Math.abs(a[i] - b[i]) <= SCORE_TOLERANCE, what + ": sorted score " + i + ": " + b[i] + " vs PyTorch's " + a[i]);
            boolean[] used = new boolean[n];
            int matched = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (used[j] || labels[j] != wantLabels[i] || Math.abs(scores[j] - wantScores[i]) > SCORE_TOLERANCE) continue;
                    boolean same = true;
                    for (int k = 0; k < 4 && same; k++) same = Math.abs(boxes[4 * j + k] - wantBoxes[4 * i + k]) <= BOX_TOLERANCE;
                    if (same) {
                        used[j] = true;
                        matched++;
                        break;
                    }
                }
            }
            assertTrue(n == 0 || matched >= MATCHED * n, what + ": " + matched + " of PyTorch's " + n + " detections found (label, score, box)");
            System.out.println(what + ": " + matched + " of " + n + " detections match PyTorch's");
        }
    }
}
