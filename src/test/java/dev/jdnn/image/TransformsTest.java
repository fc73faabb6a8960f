package dev.jdnn.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Pad, EXIF orientation, the float path, batching and bad input, against PIL/torchvision where there is an oracle. */
class TransformsTest {
    static Stream<ImageFixtures.Case> padCases() {
        return ImageFixtures.cases("pad").stream();
    }

    static Stream<ImageFixtures.Case> exifCases() {
        return ImageFixtures.cases("exif").stream();
    }

    static Stream<ImageFixtures.Case> floatCases() {
        return Stream.concat(ImageFixtures.cases("floatpil").stream(), ImageFixtures.cases("floattorch").stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("padCases")
    void padMatchesTorchvision(ImageFixtures.Case c) {
        String[] ltrb = c.size().split(",");
        Pad pad = new Pad(Integer.parseInt(ltrb[0]), Integer.parseInt(ltrb[1]), Integer.parseInt(ltrb[2]), Integer.parseInt(ltrb[3]),
                Pad.Mode.valueOf(c.interpolation().toUpperCase()), 7);
        RgbImage out = (RgbImage) pad.apply(ImageDecoder.read(c.imageFile()));
        assertEquals(c.shape()[0], out.height());
        assertEquals(c.shape()[1], out.width());
        assertArrayEquals(c.expectedBytes(), out.toArray(), c.toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("exifCases")
    void exifOrientationMatchesExifTranspose(ImageFixtures.Case c) {
        RgbImage out = ImageDecoder.read(c.imageFile(), ImageDecoder.Options.defaults().withExifOrientation(true));
        assertEquals(c.shape()[0], out.height());
        assertEquals(c.shape()[1], out.width());
        assertArrayEquals(c.expectedBytes(), out.toArray(), c.toString());
    }

    @Test
    void exifOrientationIsOffByDefaultAsInPil() {
        RgbImage plain = ImageDecoder.read(ImageFixtures.DIR.resolve("images/exif6.jpg"));
        assertEquals(30, plain.width());
        RgbImage turned = ImageDecoder.read(ImageFixtures.DIR.resolve("images/exif6.jpg"), ImageDecoder.Options.defaults().withExifOrientation(true));
        assertEquals(20, turned.width());
    }

    /** Float C×H×W data: PIL's mode "F" resize (antialias on) and torch's interpolate (antialias off, bit for bit). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("floatCases")
    void floatPathMatches(ImageFixtures.Case c) {
        RgbImage rgb = ImageDecoder.read(c.imageFile());
        FloatImage all = new ToTensor().apply(rgb);
        int channels = c.shape()[0]; // the first channel alone where the fixture has one
        FloatImage source = new FloatImage(channels, all.height(), all.width(), Arrays.copyOf(all.data, channels * all.height() * all.width()));
        String[] hw = c.size().split("x");
        Resize r = new Resize(Integer.parseInt(hw[0]), Integer.parseInt(hw[1]), Interpolation.valueOf(c.interpolation().toUpperCase()))
                .withAntialias(c.kind().equals("floatpil"));
        FloatImage out = r.apply(source);
        float[] expected = c.expectedFloats(), actual = out.toArray();
        float worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        // PIL sums in double and stores float: exact but for the last bit. TorchInterpolate reproduces torch's float kernel bit for bit.
        assertTrue(worst <= (c.kind().equals("floatpil") ? 1e-6f : 0f), c + ": max difference " + worst);
    }

    @Test
    void threadsDoNotChangeTheResult() {
        RgbImage photo = ImageDecoder.read(ImageFixtures.DIR.resolve("images/photo.jpg"));
        for (Interpolation mode : Interpolation.values()) {
            Resize one = new Resize(100, mode);
            assertEquals(one.apply(photo), one.withThreads(3).apply(photo), mode.toString());
        }
    }

    @Test
    void batchStacksImagesInOrder() {
        Preprocess pre = Preprocess.imagenet(40, 32, Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD);
        var files = List.of(ImageFixtures.DIR.resolve("images/photo.jpg"), ImageFixtures.DIR.resolve("images/rgb.png"));
        try (Tensor batch = pre.batch(files); Tensor second = pre.apply(files.get(1))) {
            assertArrayEquals(new long[] {2, 3, 32, 32}, batch.shape());
            try (Tensor slice = Tensor.copyOf(batch.sliceBatch(1, 2))) {
                assertArrayEquals(second.toArray(), slice.toArray());
            }
        }
    }

    @Test
    void bufferedImagesGoThroughTheSamePipeline() throws java.io.IOException {
        Preprocess pre = Preprocess.imagenet(40, 32, Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD);
        for (String name : new String[] {"rgb.png", "palette.png", "gray.png", "rgba.png", "baseline.jpg"}) {
            java.nio.file.Path file = ImageFixtures.DIR.resolve("images").resolve(name);
            java.awt.image.BufferedImage awt = javax.imageio.ImageIO.read(file.toFile());
            try (Tensor fromFile = pre.apply(file); Tensor fromAwt = pre.apply(awt)) {
                assertArrayEquals(fromFile.toArray(), fromAwt.toArray(), name);
            }
        }
        // Packed ARGB: alpha dropped, colour kept (PIL's convert("RGB")).
        java.awt.image.BufferedImage argb = new java.awt.image.BufferedImage(2, 1, java.awt.image.BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00FF8040);
        argb.setRGB(1, 0, 0x80102030);
        assertArrayEquals(new byte[] {(byte) 0xFF, (byte) 0x80, 0x40, 0x10, 0x20, 0x30}, ImageDecoder.fromBufferedImage(argb).toArray());
    }

    @Test
    void centerCropLargerThanTheImagePadsLikeTorchvision() {
        RgbImage one = RgbImage.of(new byte[] {10, 20, 30, 40, 50, 60}, 2, 1);
        RgbImage out = (RgbImage) new CenterCrop(3, 5).apply(one);
        // torchvision pads left (5-2)//2 = 1, right 2, top 1, bottom 1.
        assertEquals(0, out.get(1, 0, 0));
        assertEquals(10, out.get(1, 1, 0));
        assertEquals(40, out.get(1, 2, 0));
        assertEquals(0, out.get(1, 3, 0));
        assertEquals(0, out.get(0, 1, 0));
    }

    /** A truncated file is an error naming it, never a partly grey image (PIL: "image file is truncated"). */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"baseline.jpg", "rgb.png", "bmp24.bmp"})
    void truncatedFilesAreErrors(String name, @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        byte[] whole = java.nio.file.Files.readAllBytes(ImageFixtures.DIR.resolve("images").resolve(name));
        java.nio.file.Path cut = dir.resolve("cut-" + name);
        java.nio.file.Files.write(cut, java.util.Arrays.copyOf(whole, whole.length * 2 / 3));
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.read(cut));
        assertEquals(cut, e.file());
        assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
    }

    @Test
    void badInputIsRefusedClearly() {
        var missing = ImageFixtures.DIR.resolve("images/no-such.png");
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.read(missing));
        assertTrue(e.getMessage().contains("no-such.png") && e.getMessage().contains("no such file"), e.getMessage());
        var notAnImage = ImageFixtures.DIR.resolve("cases.txt");
        e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.read(notAnImage));
        assertTrue(e.getMessage().contains("cases.txt"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Normalize(new float[] {0.5f}, new float[] {0}));
        assertThrows(IllegalArgumentException.class, () -> new Resize(10, Interpolation.LANCZOS).withAntialias(false));
        assertThrows(IllegalArgumentException.class, () -> Normalize.imagenet().apply(RgbImage.of(new byte[3], 1, 1)));
        assertThrows(IllegalStateException.class, () -> Preprocess.of(new Resize(4)).apply(RgbImage.of(new byte[3], 1, 1)));
    }

    /** Bytes in memory (a Spark binaryFile row) decode exactly as their file does; the file path is checked against PIL above. */
    @Test
    void bytesInMemoryDecodeExactlyAsTheirFile() throws java.io.IOException {
        List<java.nio.file.Path> files;
        try (var list = java.nio.file.Files.list(ImageFixtures.DIR.resolve("images"))) {
            files = list.sorted().toList();
        }
        assertTrue(files.size() > 10, "fixture images: " + files);
        ImageDecoder.Options exif = ImageDecoder.Options.defaults().withExifOrientation(true);
        for (java.nio.file.Path f : files) {
            byte[] bytes = java.nio.file.Files.readAllBytes(f);
            for (ImageDecoder.Options options : List.of(ImageDecoder.Options.defaults(), exif)) {
                RgbImage fromFile;
                try {
                    fromFile = ImageDecoder.read(f, options);
                } catch (ImageDecodeException e) {
                    ImageDecodeException fromBytes = assertThrows(ImageDecodeException.class, () -> ImageDecoder.read(bytes, "row 7", options), f.toString());
                    assertEquals(e.getMessage().substring(f.toString().length()), fromBytes.getMessage().substring("row 7".length()), f.toString());
                    continue;
                }
                RgbImage fromBytes = ImageDecoder.read(bytes, f.toString(), options);
                assertEquals(fromFile.width(), fromBytes.width(), f.toString());
                assertArrayEquals(fromFile.toArray(), fromBytes.toArray(), f + " " + options);
            }
        }
        byte[] cut = java.util.Arrays.copyOf(java.nio.file.Files.readAllBytes(ImageFixtures.DIR.resolve("images/baseline.jpg")), 500);
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.read(cut, "file:/data/cut.jpg", ImageDecoder.Options.defaults()));
        assertTrue(e.getMessage().startsWith("file:/data/cut.jpg: "), e.getMessage());
        assertEquals(null, e.file());
    }

    /** A Preprocess is sent to Spark executors by Java serialization: the copy must compute the same bits. */
    @Test
    void aSerializedPreprocessComputesTheSameBits() throws Exception {
        Preprocess original = Preprocess.of(new Resize(40, Interpolation.BICUBIC), new CenterCrop(32), new ToTensor(), Normalize.imagenet())
                .withDecodeOptions(ImageDecoder.Options.defaults().withExifOrientation(true));
        var buffer = new java.io.ByteArrayOutputStream();
        try (var out = new java.io.ObjectOutputStream(buffer)) {
            out.writeObject(original);
        }
        Preprocess copy;
        try (var in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(buffer.toByteArray()))) {
            copy = (Preprocess) in.readObject();
        }
        assertEquals(original.steps().subList(0, 3), copy.steps().subList(0, 3));   // records (Normalize holds arrays: compared by its output)
        assertEquals(original.decodeOptions(), copy.decodeOptions());
        java.nio.file.Path image = ImageFixtures.DIR.resolve("images/exif6.jpg");
        try (Tensor a = original.apply(image); Tensor b = copy.apply(image)) {
            assertArrayEquals(a.toArray(), b.toArray());
        }
    }
}
