package dev.jdnn.image;

import dev.jdnn.Npy;
import dev.jdnn.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The cases written by src/test/python/gen_image_fixtures.py (see its docstring for the format). */
final class ImageFixtures {
    static final Path DIR = Path.of("src/test/resources/fixtures/image");
    static final Path BIG_DIR = Path.of("target/image-fixtures");

    /** One expected result. */
    record Case(Path dir, String image, String kind, String interpolation, String antialias, String size, String crop, int[] shape, int offset) {
        Path imageFile() {
            try (var files = Files.list(dir.resolve("images"))) {
                return files.filter(f -> f.getFileName().toString().startsWith(image + ".")).findFirst()
                        .orElseThrow(() -> new IllegalStateException("no source image " + image + " in " + dir));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        Resize resize() {
            Interpolation mode = Interpolation.valueOf(interpolation.toUpperCase());
            Resize r;
            if (size.contains("x")) {
                String[] hw = size.split("x");
                r = new Resize(Integer.parseInt(hw[0]), Integer.parseInt(hw[1]), mode);
            } else {
                r = new Resize(Integer.parseInt(size), mode);
            }
            return r.withAntialias(!antialias.equals("0"));
        }

        CenterCrop centerCrop() {
            String[] hw = crop.split("x");
            return new CenterCrop(Integer.parseInt(hw[0]), Integer.parseInt(hw[1]));
        }

        int elements() {
            return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        }

        byte[] expectedBytes() {
            return Arrays.copyOfRange(blobU8(dir, image), offset, offset + elements());
        }

        float[] expectedFloats() {
            return Arrays.copyOfRange(blobF32(dir, image), offset, offset + elements());
        }

        @Override
        public String toString() {
            return image + " " + kind + " " + interpolation + (antialias.equals("0") ? " antialias=false" : "") + " size " + size + " crop " + crop;
        }
    }

    private static final Map<String, byte[]> U8 = new HashMap<>();
    private static final Map<String, float[]> F32 = new HashMap<>();

    static synchronized byte[] blobU8(Path dir, String image) {
        return U8.computeIfAbsent(dir + "/" + image, k -> {
            try (Tensor t = Npy.read(dir.resolve(image + ".u8.npy"))) {
                return t.segment().toArray(ValueLayout.JAVA_BYTE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static synchronized float[] blobF32(Path dir, String image) {
        return F32.computeIfAbsent(dir + "/" + image, k -> {
            try (Tensor t = Npy.read(dir.resolve(image + ".f32.npy"))) {
                return t.toArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static List<Case> cases(Path dir, String kind) {
        Path list = dir.resolve("cases.txt");
        if (!Files.exists(list)) return List.of();
        try {
            List<Case> out = new ArrayList<>();
            for (String line : Files.readAllLines(list)) {
                if (line.isBlank()) continue;
                String[] f = line.split("\t");
                if (!f[1].equals(kind)) continue;
                int[] shape = Arrays.stream(f[6].split("x")).mapToInt(Integer::parseInt).toArray();
                out.add(new Case(dir, f[0], f[1], f[2], f[3], f[4], f[5], shape, Integer.parseInt(f[7])));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Case> cases(String kind) {
        return cases(DIR, kind);
    }

    /** Counts of differing values and the largest difference between two uint8 arrays. */
    record Diff(int differing, int maxDiff, int total, int firstIndex) {
        static Diff of(byte[] expected, byte[] actual) {
            int differing = 0, max = 0, first = -1;
            for (int i = 0; i < expected.length; i++) {
                int d = Math.abs((expected[i] & 0xFF) - (actual[i] & 0xFF));
                if (d != 0) {
                    differing++;
                    if (first < 0) first = i;
                }
                max = Math.max(max, d);
            }
            return new Diff(differing, max, expected.length, first);
        }

        @Override
        public String toString() {
            return differing + " of " + total + " values differ, by up to " + maxDiff + (firstIndex >= 0 ? " (first at " + firstIndex + ")" : "");
        }
    }
}
