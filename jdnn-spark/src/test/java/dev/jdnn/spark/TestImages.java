package dev.jdnn.spark;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Small image files written with {@code javax.imageio} for the image-input tests and the bench: seeded, of varied
 * sizes (48–160 pixels a side, square, wide and tall), PNG (RGB, gray, RGBA) and JPEG (RGB, gray), and on request
 * one corrupt file (a JPEG cut in half).
 */
final class TestImages {
    private TestImages() {}

    /** The five kinds written in turn: format and AWT image type. */
    private record Kind(String format, String extension, int type) {}

    private static final List<Kind> KINDS = List.of(
            new Kind("png", "png", BufferedImage.TYPE_3BYTE_BGR),
            new Kind("jpg", "jpg", BufferedImage.TYPE_3BYTE_BGR),
            new Kind("png", "png", BufferedImage.TYPE_BYTE_GRAY),
            new Kind("png", "png", BufferedImage.TYPE_4BYTE_ABGR),
            new Kind("jpg", "jpg", BufferedImage.TYPE_BYTE_GRAY));

    /** Writes {@code count} images {@code img_000.png}, {@code img_001.jpg}, ... into {@code dir}; returns them in name order. */
    static List<Path> write(Path dir, int count, long seed) {
        Random random = new Random(seed);
        List<Path> files = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            for (int i = 0; i < count; i++) {
                Kind kind = KINDS.get(i % KINDS.size());
                int width = 48 + random.nextInt(113), height = 48 + random.nextInt(113);
                if (i % 7 == 0) height = width;   // some square ones (a resize without crop keeps them square)
                Path file = dir.resolve(String.format("img_%03d.%s", i, kind.extension()));
                if (!ImageIO.write(picture(width, height, kind.type(), random), kind.format(), file.toFile())) {
                    throw new IllegalStateException("no ImageIO writer for " + kind);
                }
                files.add(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    /** A JPEG cut to half its length, as {@code dir/name}: a file that no decoder reads whole. */
    static Path writeCorrupt(Path dir, String name) {
        try {
            java.io.ByteArrayOutputStream jpeg = new java.io.ByteArrayOutputStream();
            ImageIO.write(picture(120, 90, BufferedImage.TYPE_3BYTE_BGR, new Random(99)), "jpg", jpeg);
            byte[] bytes = jpeg.toByteArray();
            Path cut = dir.resolve(name);
            Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
            return cut;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Smooth colour gradients plus noise, so resizing and JPEG coding both have something to do. */
    private static BufferedImage picture(int width, int height, int type, Random random) {
        BufferedImage image = new BufferedImage(width, height, type);
        int[] base = {random.nextInt(256), random.nextInt(256), random.nextInt(256)};
        double[] slope = {random.nextGaussian(), random.nextGaussian(), random.nextGaussian()};
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int argb = (type == BufferedImage.TYPE_4BYTE_ABGR ? random.nextInt(256) : 255) << 24;
                for (int c = 0; c < 3; c++) {
                    double v = base[c] + slope[c] * (c == 1 ? x : y) + 24 * random.nextGaussian();
                    argb |= (int) Math.max(0, Math.min(255, v)) << (16 - 8 * c);
                }
                image.setRGB(x, y, argb);
            }
        }
        return image;
    }
}
