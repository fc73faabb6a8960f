package dev.jdnn.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Backend;
import dev.jdnn.Session;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Classifier against PyTorch: torchvision's MobileNetV2 (narrow, seeded random weights) with torchvision's
 * eval transform on the same files (src/test/python/gen_image_model_fixtures.py): same top-5 indices,
 * probabilities within 1e-4.
 */
class ClassifierTest {
    static final Path MODELS = ImageFixtures.DIR.resolve("models");

    record Expected(Path file, int[] indices, float[] probabilities) {}

    static List<Expected> expected() throws IOException {
        List<Expected> out = new ArrayList<>();
        for (String line : Files.readAllLines(MODELS.resolve("classifier.txt"))) {
            if (line.isBlank()) continue;
            String[] f = line.split("\t");
            int[] idx = Arrays.stream(f[1].split(",")).mapToInt(Integer::parseInt).toArray();
            String[] p = f[2].split(",");
            float[] probs = new float[p.length];
            for (int i = 0; i < p.length; i++) probs[i] = Float.parseFloat(p[i]);
            out.add(new Expected(ImageFixtures.DIR.resolve("images").resolve(f[0]), idx, probs));
        }
        return out;
    }

    static Classifier.Options options(Backend backend) {
        return Classifier.Options.defaults().withLabels(MODELS.resolve("labels.txt")).withBatchSize(2).withThreads(2)
                .withSession(Session.Options.defaults().withBackend(backend));
    }

    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"NATIVE", "JAVA"})
    void topFiveMatchesPyTorch(Backend backend) throws IOException {
        List<Expected> expected = expected();
        List<String> labels = Classifier.readLabels(MODELS.resolve("labels.txt"));
        try (Classifier c = Classifier.open(MODELS.resolve("classifier.onnx"), options(backend))) {
            List<Classifier.Prediction> got = c.classify(expected.stream().map(Expected::file).toList());
            assertEquals(expected.size(), got.size());
            for (int i = 0; i < got.size(); i++) {
                Expected e = expected.get(i);
                Classifier.Prediction p = got.get(i);
                assertEquals(e.file(), p.file());
                assertArrayEquals(e.indices(), p.indices(), e.file() + " top-5");
                assertEquals(labels.get(e.indices()[0]), p.labels().getFirst());
                for (int k = 0; k < 5; k++) {
                    assertEquals(e.probabilities()[k], p.probabilities()[k], 1e-4, e.file() + " probability " + k);
                }
            }
            // One file alone gives the same answer as inside a batch.
            Classifier.Prediction alone = c.classify(expected.get(2).file());
            assertArrayEquals(got.get(2).indices(), alone.indices());
            assertArrayEquals(got.get(2).probabilities(), alone.probabilities(), 1e-6f);
        }
    }

    /** The comparison above notices preprocessing that is only slightly off (bicubic instead of bilinear). */
    @Test
    void aDifferentResizeFilterIsNoticed() throws IOException {
        List<Expected> expected = expected();
        Preprocess bicubic = Preprocess.of(new Resize(256, Interpolation.BICUBIC), new CenterCrop(224), new ToTensor(), Normalize.imagenet());
        try (Classifier c = Classifier.open(MODELS.resolve("classifier.onnx"), options(Backend.NATIVE).withPreprocess(bicubic))) {
            List<Classifier.Prediction> got = c.classify(expected.stream().map(Expected::file).toList());
            double worst = 0;
            for (int i = 0; i < got.size(); i++) {
                for (int k = 0; k < 5; k++) worst = Math.max(worst, Math.abs(expected.get(i).probabilities()[k] - got.get(i).probabilities()[k]));
            }
            assertTrue(worst > 1e-4, "bicubic preprocessing changed probabilities by only " + worst);
        }
    }

    @Test
    void undecodableFilesFailNamedOrAreSkippedByTheListener() throws IOException {
        Path bad = ImageFixtures.DIR.resolve("cases.txt");
        List<Path> files = List.of(expected().get(0).file(), bad, expected().get(1).file());
        try (Classifier c = Classifier.open(MODELS.resolve("classifier.onnx"), options(Backend.NATIVE))) {
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> c.classify(files));
            assertEquals(bad, e.file());
            List<Path> skipped = new ArrayList<>();
            List<Integer> progress = new ArrayList<>();
            List<Classifier.Prediction> got = c.classify(files, new Classifier.Listener() {
                @Override
                public void progress(int done, int total) {
                    progress.add(done);
                }

                @Override
                public void failed(Path file, ImageDecodeException error) {
                    skipped.add(file);
                }
            });
            assertEquals(2, got.size());
            assertEquals(List.of(bad), skipped);
            assertEquals(List.of(2, 3), progress);
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() {
        Classifier c = Classifier.open(MODELS.resolve("classifier.onnx"), options(Backend.NATIVE));
        c.close();
        c.close();
        assertThrows(IllegalStateException.class, () -> c.classify(List.of(ImageFixtures.DIR.resolve("images/rgb.png"))));
    }

    @Test
    void labelsThatDoNotFitTheModelAreRefused() {
        try (Classifier c = Classifier.open(MODELS.resolve("classifier.onnx"), options(Backend.NATIVE).withLabels(List.of("a", "b")))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.classify(ImageFixtures.DIR.resolve("images/rgb.png")));
            assertTrue(e.getMessage().contains("2 labels") && e.getMessage().contains("10 classes"), e.getMessage());
        }
    }

    @Test
    void softmaxOnlyForLogits() {
        assertTrue(Classifier.isDistribution(new float[] {0.2f, 0.8f}));
        assertFalse(Classifier.isDistribution(new float[] {2f, -1f}));
        assertFalse(Classifier.isDistribution(new float[] {0.2f, 0.2f}));
        float[] p = dev.jdnn.Scores.softmax(new float[] {1000f, 1000f});
        assertArrayEquals(new float[] {0.5f, 0.5f}, p);
        assertArrayEquals(new int[] {2, 0}, dev.jdnn.Scores.topK(new float[] {0.3f, 0.1f, 0.6f}, 2));
    }
}
