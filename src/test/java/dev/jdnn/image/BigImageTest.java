package dev.jdnn.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The 4000×3000 JPEG (generated, not committed: {@code gen_image_fixtures.py --big-only} writes it into
 * target/image-fixtures; .ci/run does that) through every interpolation, antialias on and off, against
 * PIL/torchvision. Skipped with a reason when the fixture is absent.
 */
class BigImageTest {
    @Test
    void fourThousandByThreeThousandJpegMatchesPil() {
        List<ImageFixtures.Case> resize = ImageFixtures.cases(ImageFixtures.BIG_DIR, "resize");
        assumeTrue(!resize.isEmpty(), "no target/image-fixtures: run /usr/bin/python3 src/test/python/gen_image_fixtures.py --big-only");
        RgbImage decoded = ImageDecoder.read(resize.getFirst().imageFile());
        assertEquals(4000, decoded.width());
        assertEquals(3000, decoded.height());
        long[] differing = new long[2], total = new long[2]; // [antialias off, on]
        for (ImageFixtures.Case c : resize) {
            RgbImage out = (RgbImage) Compose.of(c.resize().withThreads(2), c.centerCrop()).apply(decoded);
            ImageFixtures.Diff d = ImageFixtures.Diff.of(c.expectedBytes(), out.toArray());
            assertTrue(d.maxDiff() <= 1 && d.differing() <= d.total() / 1000, c + ": " + d);
            int on = c.antialias().equals("1") ? 1 : 0;
            differing[on] += d.differing();
            total[on] += d.total();
        }
        System.out.println("4000x3000: " + differing[1] + " of " + total[1] + " values differ from PIL, "
                + differing[0] + " of " + total[0] + " from torchvision's tensor path");
        for (ImageFixtures.Case c : ImageFixtures.cases(ImageFixtures.BIG_DIR, "tensor")) {
            FloatImage out = Preprocess.of(c.resize(), c.centerCrop(), new ToTensor(), Normalize.imagenet()).transform(decoded);
            float[] expected = c.expectedFloats(), actual = out.toArray();
            float worst = 0;
            for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
            assertTrue(worst <= 1e-6f, c + ": max |jdnn - torchvision| = " + worst);
        }
    }
}
