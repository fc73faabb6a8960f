package dev.jdnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.image.Classifier;
import dev.jdnn.image.ImageDecodeException;
import dev.jdnn.image.Interpolation;
import dev.jdnn.image.Normalize;
import dev.jdnn.image.Preprocess;
import dev.jdnn.image.Resize;
import dev.jdnn.image.ToTensor;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image files through {@code spark.read.format("binaryFile")} and {@link JdnnInference#imageInput}, on local[2],
 * against the single-JVM paths a user runs on one machine: {@link Classifier} (what {@code ./jdnn classify} runs)
 * for top-k, and {@link Preprocess} + {@link Session} for raw outputs and a tap. The model is the committed narrow
 * ResNet fixture (3×64×64), so images are prepared as {@code ./jdnn classify --resize 72 --size 64} would.
 */
class ImageInputTest {
    static final int RESIZE = 72;
    static final int SIZE = 64;
    static final int BATCH = 16;
    /** 13 full batches of 16: Classifier then runs every batch at the batch size Spark pads to. */
    static final int GOOD = 208;

    @TempDir
    static Path temp;

    static Path dir;
    static List<Path> good;
    static Path corrupt;

    @BeforeAll
    static void start() {
        JdnnInferenceTest.start();
        dir = temp.resolve("images");
        good = TestImages.write(dir, GOOD, 7);
        corrupt = TestImages.writeCorrupt(dir, "img_zz_corrupt.jpg");
    }

    @AfterAll
    static void stop() {
        JdnnInferenceTest.stop();
    }

    static Dataset<Row> files() {
        return JdnnInferenceTest.spark.read().format("binaryFile").load(dir.toString());
    }

    static JdnnInference scorer() {
        return JdnnInference.onModel(JdnnInferenceTest.MODEL.toString()).inputCol("content")
                .imageInput(RESIZE, SIZE, Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD, Interpolation.BILINEAR)
                .batchSize(BATCH);
    }

    /** Rows by their local file. */
    static Map<Path, Row> byFile(Dataset<Row> rows) {
        Map<Path, Row> out = new HashMap<>();
        for (Row r : rows.collectAsList()) out.put(Path.of(URI.create(r.getString(r.fieldIndex("path")))), r);
        return out;
    }

    /** What Preprocess makes of each file, one float array per file: the samples of the single-JVM Session oracle. */
    static List<float[]> preprocessed(Preprocess preprocess, List<Path> files) {
        List<float[]> samples = new ArrayList<>();
        for (Path f : files) {
            try (Tensor x = preprocess.apply(f)) {
                samples.add(x.toArray());
            }
        }
        return samples;
    }

    @Test
    void twoHundredImageFilesScoreBitForBitAsClassifierAndPreprocessPlusSessionAndTheCorruptOneSaysWhy() {
        long t0 = System.nanoTime();
        Dataset<Row> files = files();
        String output = JdnnInferenceTest.output;
        Dataset<Row> scored = scorer().output(output, "logits").output(JdnnInferenceTest.TAP, "pooled").topK(5, "top5")
                .keepInputColumn(false).transform(files);
        Map<Path, Row> got = byFile(scored);
        System.err.printf("TIMING images scored in %.1f s, %d partitions%n", (System.nanoTime() - t0) / 1e9, files.rdd().getNumPartitions());
        assertEquals(GOOD + 1, got.size(), "every file comes back, once");
        assertTrue(files.rdd().getNumPartitions() > 1, "several partitions");

        // Raw outputs and a tap: Preprocess (classify's pipeline, built as ./jdnn classify builds it) + Session, batches of 16.
        Preprocess classify = Preprocess.imagenet(RESIZE, SIZE, Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD);
        Map<String, float[][]> expected = JdnnInferenceTest.singleJvm(preprocessed(classify, good), BATCH, List.of(output, JdnnInferenceTest.TAP));
        for (int i = 0; i < good.size(); i++) {
            Row row = got.get(good.get(i));
            assertNull(row.getAs(JdnnInference.ERROR_COLUMN), good.get(i).toString());
            assertArrayEquals(expected.get(output)[i], JdnnInferenceTest.floats(row, "logits"), good.get(i) + " logits");
            assertArrayEquals(expected.get(JdnnInferenceTest.TAP)[i], JdnnInferenceTest.floats(row, "pooled"), good.get(i) + " tap");
        }

        // Top-k: the Classifier that ./jdnn classify runs, same preprocessing, batch size and one thread as a Spark task has.
        Classifier.Options options = Classifier.Options.defaults().withPreprocess(classify).withBatchSize(BATCH).withTopK(5)
                .withSoftmax(Classifier.Softmax.ALWAYS).withSession(Session.Options.defaults().withThreads(1));
        try (Classifier classifier = Classifier.open(JdnnInferenceTest.MODEL, options)) {
            List<Classifier.Prediction> predictions = classifier.classify(good);
            for (int i = 0; i < good.size(); i++) {
                List<Row> top = got.get(good.get(i)).getList(got.get(good.get(i)).fieldIndex("top5"));
                int[] indices = predictions.get(i).indices();
                float[] probabilities = predictions.get(i).probabilities();
                assertEquals(indices.length, top.size());
                for (int j = 0; j < indices.length; j++) {
                    assertEquals(indices[j], top.get(j).getInt(0), good.get(i) + " rank " + j);
                    assertEquals(Float.floatToRawIntBits(probabilities[j]), Float.floatToRawIntBits(top.get(j).getFloat(2)), good.get(i) + " rank " + j);
                }
            }
            // The corrupt file: the single JVM refuses it, and Spark gives the same reason in its row, naming the file.
            ImageDecodeException refused = assertThrows(ImageDecodeException.class, () -> classifier.classify(corrupt));
            Row bad = got.get(corrupt);
            String reason = bad.getAs(JdnnInference.ERROR_COLUMN);
            String uri = files.filter(functions.col("path").endsWith("img_zz_corrupt.jpg")).first().getString(0);
            assertEquals("column 'content' of " + uri + refused.getMessage().substring(corrupt.toString().length()), reason);
            assertNull(JdnnInferenceTest.floats(bad, "logits"));
            assertNull(bad.getAs("top5"));
        }

        // The corrupt file shares its partition with good files, all of which were scored above.
        Dataset<Row> partitions = files.withColumn("partition", functions.spark_partition_id());
        int partition = partitions.filter(functions.col("path").endsWith("img_zz_corrupt.jpg")).first().getInt(partitions.schema().fieldIndex("partition"));
        assertTrue(partitions.filter(functions.col("partition").equalTo(partition)).count() > 1, "the corrupt file has neighbours in its partition");
        System.err.printf("TIMING images checked in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void failPolicyFailsTheJobNamingTheFile() {
        Dataset<Row> two = files().filter(functions.col("path").endsWith("img_zz_corrupt.jpg").or(functions.col("path").endsWith("img_000.png")));
        JdnnInference failing = scorer().onError(JdnnInference.OnError.FAIL);
        SparkException e = assertThrows(SparkException.class, () -> failing.transform(two).collectAsList());
        String message = JdnnInferenceTest.causeChain(e);
        assertTrue(message.contains("row 0 of the partition: column 'content' of file:" + corrupt + ": ")
                || message.contains("row 1 of the partition: column 'content' of file:" + corrupt + ": "), message);
    }

    @Test
    void wrongKindsAndShapesAreClearErrors() throws IOException {
        String m = JdnnInferenceTest.MODEL.toString();
        String input = JdnnInferenceTest.input;
        Dataset<Row> files = files().filter(functions.col("path").endsWith("img_000.png").or(functions.col("path").endsWith("img_001.jpg")));

        // classify's default preprocessing (224×224) does not fit a 64×64 model: refused on the driver.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JdnnInference.onModel(m).inputCol("content").imageInput().transform(files));
        assertTrue(e.getMessage().startsWith("column 'content' is read as images preprocessed by Preprocess[") && e.getMessage().contains(" to [3, 224, 224], but the model's input '"
                + input + "' needs [3, 64, 64] per row"), e.getMessage());

        // A resize without a crop: a square image fits, another is a bad row naming its shape and the model input.
        Path square = good.get(0);   // img_000: square (every 7th image is)
        Path oblong = good.get(1);
        Preprocess noCrop = Preprocess.of(new Resize(SIZE), new ToTensor());
        Map<Path, Row> got = byFile(JdnnInference.onModel(m).inputCol("content").imageInput(noCrop).batchSize(2).output(JdnnInferenceTest.output, "logits").transform(files));
        float[] squareLogits = JdnnInferenceTest.singleJvm(preprocessed(noCrop, List.of(square)), 2, List.of(JdnnInferenceTest.output)).get(JdnnInferenceTest.output)[0];
        assertArrayEquals(squareLogits, JdnnInferenceTest.floats(got.get(square), "logits"));
        String reason = got.get(oblong).getAs(JdnnInference.ERROR_COLUMN);
        assertTrue(reason.startsWith("column 'content' of file:" + oblong + ": preprocessed to [3, ") && reason.endsWith("by " + noCrop
                + ", the model's input '" + input + "' needs [3, 64, 64] per row"), reason);

        // Bytes of the other kind: a clear reason, never a guess.
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("bytes", DataTypes.BinaryType);
        float[] sample = JdnnInferenceTest.samples(1).getFirst();
        byte[] npy = JdnnInferenceTest.npyBytes(sample, new long[] {3, 64, 64});
        byte[] png = Files.readAllBytes(square);
        Dataset<Row> mixed = JdnnInferenceTest.spark.createDataFrame(List.of(RowFactory.create(0, npy), RowFactory.create(1, png)), schema).coalesce(1);
        JdnnInference base = JdnnInference.onModel(m).inputCol("bytes").batchSize(2).output(JdnnInferenceTest.output, "logits")
                .preprocess(Preprocess.imagenet(RESIZE, SIZE, Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD));
        Map<Integer, Row> asNpy = JdnnInferenceTest.byId(base.npyInput().transform(mixed));
        assertNull(asNpy.get(0).getAs(JdnnInference.ERROR_COLUMN));
        assertEquals("column 'bytes' holds a PNG image, not a .npy; decode images with imageInput() (or binaryInput(AUTO))", asNpy.get(1).getAs(JdnnInference.ERROR_COLUMN));
        Map<Integer, Row> asImages = JdnnInferenceTest.byId(base.binaryInput(JdnnInference.BinaryInput.IMAGE).transform(mixed));
        assertEquals("column 'bytes' holds .npy bytes, not an image; read them with npyInput() (or binaryInput(AUTO))", asImages.get(0).getAs(JdnnInference.ERROR_COLUMN));
        assertNull(asImages.get(1).getAs(JdnnInference.ERROR_COLUMN));

        // AUTO (the default): each by its magic, both scored as their single-JVM counterparts.
        Map<Integer, Row> auto = JdnnInferenceTest.byId(base.binaryInput(JdnnInference.BinaryInput.AUTO).transform(mixed));
        Preprocess classify = Preprocess.imagenet(RESIZE, SIZE, Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD);
        float[][] expected = JdnnInferenceTest.singleJvm(List.of(sample, preprocessed(classify, List.of(square)).getFirst()), 2,
                List.of(JdnnInferenceTest.output)).get(JdnnInferenceTest.output);
        assertArrayEquals(expected[0], JdnnInferenceTest.floats(auto.get(0), "logits"), "npy row");
        assertArrayEquals(expected[1], JdnnInferenceTest.floats(auto.get(1), "logits"), "image row");
        assertArrayEquals(JdnnInferenceTest.floats(asNpy.get(0), "logits"), JdnnInferenceTest.floats(auto.get(0), "logits"));

        // Choosing image input for a column that is not binary.
        Dataset<Row> floats = JdnnInferenceTest.floatRows(List.of(sample), 1);
        assertEquals("binary input IMAGE was chosen, but input column 'features' is array<float>, not binary",
                assertThrows(IllegalArgumentException.class, () -> JdnnInference.onModel(m).imageInput().transform(floats)).getMessage());
    }
}
