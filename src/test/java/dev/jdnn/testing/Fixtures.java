package dev.jdnn.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jdnn.Npy;
import dev.jdnn.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading committed fixtures and comparing with an explicit relative tolerance. */
public final class Fixtures {
    public static final Path ROOT = Path.of("src/test/resources/fixtures");

    private Fixtures() {}

    public static Tensor tensor(Path file) {
        try {
            return Npy.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static float[] array(Path file) {
        try (Tensor t = tensor(file)) {
            return t.toArray();
        }
    }

    public static boolean exists(Path file) {
        return Files.isRegularFile(file);
    }

    /**
     * Asserts |actual − expected| ≤ tolerance · max(1, |expected|) element-wise: relative for large
     * values, absolute near zero (where a relative error is meaningless).
     */
    public static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]) / Math.max(1.0, Math.abs(expected[i]));
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        if (!(worst <= tolerance)) {
            fail(what + ": element " + worstAt + " expected " + expected[worstAt] + " got " + actual[worstAt]
                    + " (scaled error " + worst + " > " + tolerance + ")");
        }
    }

    /** The largest scaled error, for reports. */
    public static double maxScaledError(float[] expected, float[] actual) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs((double) actual[i] - expected[i]) / Math.max(1.0, Math.abs(expected[i])));
        }
        return worst;
    }
}
