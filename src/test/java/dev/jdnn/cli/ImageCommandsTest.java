package dev.jdnn.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.Npy;
import dev.jdnn.Tensor;
import dev.jdnn.image.Segmenter;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code ./jdnn classify} and {@code ./jdnn segment} against PyTorch: the image helper's fixtures
 * (src/test/python/gen_image_model_fixtures.py: torchvision's MobileNetV2, narrow, with torchvision's eval
 * transform; a small FCN with PyTorch's argmax mask), read back from what the commands print and write.
 */
class ImageCommandsTest {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures/image");
    static final Path MODELS = FIXTURES.resolve("models");
    static final Path IMAGES = FIXTURES.resolve("images");
    static final String CLASSIFIER = MODELS.resolve("classifier.onnx").toString();
    static final String LABELS = MODELS.resolve("labels.txt").toString();

    record Expected(String file, int[] indices, float[] probabilities) {}

    static List<Expected> pytorch() throws IOException {
        List<Expected> out = new ArrayList<>();
        for (String line : Files.readAllLines(MODELS.resolve("classifier.txt"))) {
            if (line.isBlank()) continue;
            String[] f = line.split("\t");
            float[] p = new float[5];
            String[] ps = f[2].split(",");
            for (int i = 0; i < 5; i++) p[i] = Float.parseFloat(ps[i]);
            out.add(new Expected(f[0], Arrays.stream(f[1].split(",")).mapToInt(Integer::parseInt).toArray(), p));
        }
        return out;
    }

    private static final Pattern JSON_CLASS = Pattern.compile("\\{\"index\": (\\d+), \"label\": \"([^\"]*)\", \"probability\": ([-0-9.Ee]+)\\}");

    @ParameterizedTest
    @CsvSource({"native, 2", "java, 8"})
    void classifyJsonMatchesPyTorchTopFive(String backend, int batch) throws IOException {
        List<Expected> expected = pytorch();
        List<String> args = new ArrayList<>(List.of("classify", "--model", CLASSIFIER, "--labels", LABELS, "--json", "--backend", backend, "--batch", "" + batch));
        expected.forEach(e -> args.add(IMAGES.resolve(e.file()).toString()));
        MainTest.Result r = MainTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<String> labels = Files.readAllLines(MODELS.resolve("labels.txt"));
        List<String> lines = r.out().lines().toList();
        assertEquals(expected.size(), lines.size(), r.out());
        for (int i = 0; i < lines.size(); i++) {
            Expected e = expected.get(i);
            String line = lines.get(i);
            assertTrue(line.startsWith("{\"file\": \"" + IMAGES.resolve(e.file()) + "\", \"top\": ["), line);
            Matcher m = JSON_CLASS.matcher(line);
            for (int k = 0; k < 5; k++) {
                assertTrue(m.find(), "class " + k + " missing: " + line);
                assertEquals(e.indices()[k], Integer.parseInt(m.group(1)), e.file() + " rank " + k);
                assertEquals(labels.get(e.indices()[k]), m.group(2));
                assertEquals(e.probabilities()[k], Float.parseFloat(m.group(3)), 1e-4, e.file() + " probability " + k);
            }
            assertFalse(m.find(), "--top defaults to 5: " + line);
        }
        assertFalse(r.err().contains("\r"));
    }

    @Test
    void classifyRowsAreFileLabelProbabilityAndIndicesWithoutLabels() throws IOException {
        Expected e = pytorch().getFirst();
        String image = IMAGES.resolve(e.file()).toString();
        MainTest.Result r = MainTest.run("classify", "--model", CLASSIFIER, "--top", "3", image);
        assertEquals(0, r.code(), r.err());
        List<String> rows = r.out().lines().toList();
        assertEquals(3, rows.size(), r.out());
        for (int k = 0; k < 3; k++) {
            String[] cols = rows.get(k).split("\t");
            assertEquals(3, cols.length, rows.get(k));
            assertEquals(image, cols[0]);
            assertEquals(Integer.toString(e.indices()[k]), cols[1], "without --labels the class index");
            assertEquals(e.probabilities()[k], Double.parseDouble(cols[2]), 1e-4);
        }
        assertEquals("", r.err(), "one image: no progress line");
    }

    /** A directory: its images sorted; progress (more files than a batch) is one line at the end off a terminal. */
    @Test
    void classifyADirectory(@TempDir Path dir) throws IOException {
        List<String> names = List.of("b.jpg", "a.png", "c.bmp");
        for (String n : names) Files.copy(IMAGES.resolve(n.equals("b.jpg") ? "photo.jpg" : n.equals("a.png") ? "rgb.png" : "bmp24.bmp"), dir.resolve(n));
        Files.writeString(dir.resolve("notes.txt"), "not an image, skipped by extension");
        MainTest.Result r = MainTest.run("classify", "--model", CLASSIFIER, "--top", "1", "--batch", "2", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(dir.resolve("a.png").toString(), dir.resolve("b.jpg").toString(), dir.resolve("c.bmp").toString()),
                r.out().lines().map(l -> l.split("\t")[0]).toList());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("classify: 3/3 in "), r.err());
        assertFalse(r.err().contains("\r"));
    }

    @Test
    void anUndecodableImageIsReportedAndSkippedWithExitCode1(@TempDir Path dir) throws IOException {
        Path bad = Files.writeString(dir.resolve("broken.jpg"), "this is not a JPEG");
        String good = IMAGES.resolve("rgb.png").toString();
        MainTest.Result r = MainTest.run("classify", "--model", CLASSIFIER, "--top", "1", bad.toString(), good);
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().startsWith(good + "\t"), "the other image is still classified: " + r.out());
        assertTrue(r.err().contains("skipped " + bad), r.err());
        assertFalse(r.err().contains("\tat "));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "2 | classify --model CLASSIFIER | Missing required parameter: 'IMAGE|DIR'",
        "2 | classify --model CLASSIFIER --top 0 IMAGE | --top must be a whole number >= 1",
        "2 | classify --model CLASSIFIER --mean 0.5,0.5 IMAGE | --mean and --std take three comma-separated values",
        "2 | classify --model CLASSIFIER --std 0.2,0,0.2 IMAGE | --std values must be > 0",
        "2 | classify --model CLASSIFIER --lables l.txt IMAGE | did you mean --labels?",
        "1 | classify --model CLASSIFIER nosuch.jpg | image nosuch.jpg does not exist",
        "1 | classify --model nosuch.onnx IMAGE | model file nosuch.onnx does not exist",
        "1 | classify --model CLASSIFIER --labels src/test/resources/fixtures/image/models/segmenter.txt IMAGE | the labels file has 3 labels, the model scores 10 classes",
        "2 | segment --model SEGMENTER --size 0 IMAGE | --size must be a whole number >= 1",
        "2 | segmnet --model SEGMENTER IMAGE | did you mean segment?"})
    void errors(int code, String command, String message) {
        String[] args = command.replace("CLASSIFIER", CLASSIFIER).replace("SEGMENTER", MODELS.resolve("segmenter.onnx").toString())
                .replace("IMAGE", IMAGES.resolve("rgb.png").toString()).split(" ");
        MainTest.Result r = MainTest.run(args);
        assertEquals(code, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(message), r.err());
    }

    /** The PNG's colours, mapped back through the VOC palette, are PyTorch's argmax (up to pixels whose two best scores tie within 1e-4). */
    @Test
    void segmentWritesPyTorchsMaskAsAColourPng(@TempDir Path out) throws IOException {
        List<String> images = List.of("photo.jpg", "rgb.png", "bmp24.bmp");
        List<String> args = new ArrayList<>(List.of("segment", "--model", MODELS.resolve("segmenter.onnx").toString(), "--size", "64", "--out", out.toString()));
        images.forEach(i -> args.add(IMAGES.resolve(i).toString()));
        MainTest.Result r = MainTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertEquals(3, r.out().lines().count(), r.out());
        int[] palette = Segmenter.palette(6);
        for (String image : images) {
            String stem = image.substring(0, image.indexOf('.'));
            Path png = out.resolve(stem + ".mask.png");
            assertTrue(r.out().contains(IMAGES.resolve(image) + "\t" + png + "\tclasses "), r.out());
            BufferedImage mask = ImageIO.read(png.toFile());
            BufferedImage source = ImageIO.read(IMAGES.resolve(image).toFile());
            assertEquals(source.getWidth(), mask.getWidth());
            assertEquals(source.getHeight(), mask.getHeight());
            long[] expected = npy(MODELS.resolve(stem + ".seg.npy"));
            long[] ambiguous = npy(MODELS.resolve(stem + ".seg_ambiguous.npy"));
            int differing = 0;
            for (int y = 0; y < mask.getHeight(); y++) {
                for (int x = 0; x < mask.getWidth(); x++) {
                    int i = y * mask.getWidth() + x;
                    int rgb = mask.getRGB(x, y) & 0xFFFFFF;
                    int cls = Arrays.stream(new int[] {0, 1, 2, 3, 4, 5}).filter(c -> palette[c] == rgb).findFirst().orElse(-1);
                    if (cls != expected[i]) {
                        differing++;
                        assertEquals(1, ambiguous[i], image + " pixel (" + x + ", " + y + ") is class " + cls + ", PyTorch says " + expected[i]);
                    }
                }
            }
            assertTrue(differing <= expected.length / 100, image + ": " + differing + " pixels differ");
        }
    }

    @Test
    void segmentKeepsMasksOfSameNamedImagesApart(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("a"));
        Files.createDirectories(dir.resolve("b"));
        Files.copy(IMAGES.resolve("rgb.png"), dir.resolve("a/x.png"));
        Files.copy(IMAGES.resolve("bmp24.bmp"), dir.resolve("b/x.bmp"));
        MainTest.Result r = MainTest.run("segment", "--model", MODELS.resolve("segmenter.onnx").toString(), "--size", "32", "--out", dir.resolve("out").toString(), dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(dir.resolve("out/x.mask.png")));
        assertTrue(Files.isRegularFile(dir.resolve("out/x_2.mask.png")));
    }

    static long[] npy(Path file) throws IOException {
        try (Tensor t = Npy.read(file)) {
            return t.toLongArray();
        }
    }
}
