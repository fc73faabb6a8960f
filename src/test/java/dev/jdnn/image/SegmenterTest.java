package dev.jdnn.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Npy;
import dev.jdnn.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Segmenter against PyTorch's per-pixel argmax, resized to the image with PIL NEAREST (gen_image_model_fixtures.py). */
class SegmenterTest {
    static final Path MODELS = ImageFixtures.DIR.resolve("models");

    static Segmenter open() {
        return Segmenter.open(MODELS.resolve("segmenter.onnx"),
                Segmenter.Options.defaults().withPreprocess(Preprocess.of(new Resize(64), new ToTensor(), Normalize.imagenet())));
    }

    static long[] npy(Path file) throws IOException {
        try (Tensor t = Npy.read(file)) {
            return t.toLongArray();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"photo.jpg", "rgb.png", "bmp24.bmp"})
    void maskMatchesPyTorch(String image) throws IOException {
        String stem = image.substring(0, image.indexOf('.'));
        long[] expected = npy(MODELS.resolve(stem + ".seg.npy"));
        long[] ambiguous = npy(MODELS.resolve(stem + ".seg_ambiguous.npy"));
        try (Segmenter s = open()) {
            Segmenter.Segmentation m = s.segment(ImageFixtures.DIR.resolve("images").resolve(image));
            RgbImage decoded = ImageDecoder.read(ImageFixtures.DIR.resolve("images").resolve(image));
            assertEquals(decoded.width(), m.width());
            assertEquals(decoded.height(), m.height());
            assertEquals(6, m.classes());
            int[] mask = m.mask();
            int differing = 0;
            for (int i = 0; i < mask.length; i++) {
                if (mask[i] != expected[i]) {
                    differing++;
                    assertEquals(1, ambiguous[i], image + ": pixel " + i + " is class " + mask[i] + ", PyTorch says " + expected[i]);
                }
            }
            assertTrue(differing <= mask.length / 100, differing + " pixels differ");
        }
    }

    @Test
    void writesAColourMappedPngOfTheImageSize(@TempDir Path dir) throws IOException {
        try (Segmenter s = open()) {
            Segmenter.Segmentation m = s.segment(ImageFixtures.DIR.resolve("images/rgb.png"));
            Path png = dir.resolve("mask.png");
            m.writePng(png);
            BufferedImage read = ImageIO.read(png.toFile());
            assertEquals(m.width(), read.getWidth());
            assertEquals(m.height(), read.getHeight());
            int[] palette = Segmenter.palette(m.classes());
            for (int y = 0; y < m.height(); y += 7) {
                for (int x = 0; x < m.width(); x += 5) assertEquals(palette[m.classAt(x, y)], read.getRGB(x, y) & 0xFFFFFF);
            }
            assertTrue(Files.size(png) > 0);
        }
    }

    @Test
    void vocPalette() {
        int[] p = Segmenter.palette(21);
        assertArrayEquals(new int[] {0x000000, 0x800000, 0x008000, 0x808000, 0x000080}, java.util.Arrays.copyOf(p, 5));
        assertEquals(0xC08080, p[15]); // person
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() {
        Segmenter s = open();
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, () -> s.segment(ImageFixtures.DIR.resolve("images/rgb.png")));
    }
}
