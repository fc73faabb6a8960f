package dev.jdnn.bench;

import dev.jdnn.Session;
import dev.jdnn.image.Classifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * Classify end to end, images/s: 16 files (the 320×240 test JPEG) decoded, preprocessed with torchvision's
 * ImageNet eval transform, batched by 8 and run through the committed test classifier (torchvision's
 * MobileNetV2, width 0.25, 10 classes) on the native backend, top-5 with softmax. One op = 16 images.
 * Decoding and preprocessing use {@code threads} threads, as does the model's session.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ClassifyBench {
    static final int FILES = 16;

    @Param({"1", "2"})
    int threads;

    Classifier classifier;
    List<Path> files;

    @Setup
    public void setUp() {
        Path root = Files.exists(Path.of("src/test/resources")) ? Path.of(".") : Path.of("..");
        Path fixtures = root.resolve("src/test/resources/fixtures/image");
        classifier = Classifier.open(fixtures.resolve("models/classifier.onnx"), Classifier.Options.defaults().withBatchSize(8)
                .withThreads(threads).withSession(Session.Options.defaults().withThreads(threads)));
        files = Collections.nCopies(FILES, fixtures.resolve("images/photo.jpg"));
    }

    @TearDown
    public void tearDown() {
        classifier.close();
    }

    @Benchmark
    public int classify16() {
        return classifier.classify(files).size();
    }
}
