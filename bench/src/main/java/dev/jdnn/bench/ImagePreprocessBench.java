package dev.jdnn.bench;

import dev.jdnn.Tensor;
import dev.jdnn.image.CenterCrop;
import dev.jdnn.image.ImageDecoder;
import dev.jdnn.image.Preprocess;
import dev.jdnn.image.Resize;
import dev.jdnn.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * torchvision's ImageNet eval transform on a 4000×3000 JPEG (Resize(256) bilinear, CenterCrop(224), ToTensor,
 * Normalize), images/s, with the Resize split over 1 or 2 threads:
 * {@code decodeAndPreprocess} is the whole file → 1×3×224×224 tensor, {@code preprocessDecoded} starts from the
 * decoded image (the resampling alone) and {@code decode} is the JPEG decoding alone.
 * The image comes from {@code gen_image_fixtures.py --big-only} (target/image-fixtures/images/big.jpg, or
 * {@code -Djdnn.image=FILE}); bench/python/image_preprocess_pil.py measures PIL + torchvision on the same file.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ImagePreprocessBench {
    @Param({"1", "2"})
    int threads;

    Path file;
    Preprocess preprocess;
    RgbImage decoded;

    @Setup
    public void setUp() {
        String given = System.getProperty("jdnn.image");
        file = given != null ? Path.of(given) : Path.of("target/image-fixtures/images/big.jpg");
        if (!Files.exists(file) && given == null) file = Path.of("../target/image-fixtures/images/big.jpg");
        if (!Files.exists(file)) {
            throw new IllegalStateException(file.toAbsolutePath() + " is missing: run /usr/bin/python3 src/test/python/gen_image_fixtures.py --big-only");
        }
        preprocess = Preprocess.imagenet().withThreads(threads);
        decoded = ImageDecoder.read(file);
    }

    @Benchmark
    public float decodeAndPreprocess() {
        try (Tensor x = preprocess.apply(file)) {
            return x.getFlat(0);
        }
    }

    @Benchmark
    public float preprocessDecoded() {
        try (Tensor x = preprocess.apply(decoded)) {
            return x.getFlat(0);
        }
    }

    @Benchmark
    public int decode() {
        return ImageDecoder.read(file).width();
    }

    @Benchmark
    public int resizeAndCrop() {
        RgbImage r = new Resize(256).withThreads(threads).apply(decoded);
        return new CenterCrop(224).apply(r).width();
    }
}
