package dev.jdnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jdnn.Model;
import dev.jdnn.Npy;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.SparkException;
import org.apache.spark.SparkFiles;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spark {@code local[2]} against the single-JVM {@link Session} (the oracle for bit-exactness) and PyTorch's
 * output for the committed narrow ResNet fixture (2×3×64×64 → 2×10, random weights, exported by PyTorch 1.13).
 */
class JdnnInferenceTest {
    static final Path FIXTURE = Path.of("src/test/resources/fixtures/models/resnet_eval");
    static final Path MODEL = FIXTURE.resolve("model.onnx");
    static final String TAP = "/avgpool/GlobalAveragePool_output_0";
    static final int SAMPLE = 3 * 64 * 64;
    static final int BATCH = 16;

    static SparkSession spark;
    static Model model;
    static Session reference;
    static String input;
    static String output;

    @TempDir
    static Path temp;

    @BeforeAll
    static void start() {
        spark = TestSpark.session();
        model = Model.load(MODEL);
        reference = model.session(Session.Options.defaults().withThreads(1));
        input = model.inputs().keySet().iterator().next();
        output = model.outputs().getFirst();
    }

    @AfterAll
    static void stop() {
        reference.close();
        model.close();
    }

    /** Rows 0 and 1 are PyTorch's fixture samples; the rest are seeded random images. */
    static List<float[]> samples(int count) throws IOException {
        List<float[]> samples = new ArrayList<>();
        try (Tensor torchInput = Npy.read(FIXTURE.resolve("input.npy"))) {
            float[] both = torchInput.toArray();
            for (int i = 0; i < 2 && i < count; i++) samples.add(java.util.Arrays.copyOfRange(both, i * SAMPLE, (i + 1) * SAMPLE));
        }
        Random random = new Random(16);
        while (samples.size() < count) {
            float[] x = new float[SAMPLE];
            for (int i = 0; i < SAMPLE; i++) x[i] = (float) random.nextGaussian();
            samples.add(x);
        }
        return samples;
    }

    /** The single-JVM answer: batches of {@code batch} rows in order, the last padded with zeros, as jdnn-spark pads. */
    static Map<String, float[][]> singleJvm(List<float[]> samples, int batch, List<String> tensors) {
        Map<String, float[][]> out = new HashMap<>();
        for (String t : tensors) out.put(t, new float[samples.size()][]);
        for (int start = 0; start < samples.size(); start += batch) {
            float[] data = new float[batch * SAMPLE];
            int n = Math.min(batch, samples.size() - start);
            for (int r = 0; r < n; r++) System.arraycopy(samples.get(start + r), 0, data, r * SAMPLE, SAMPLE);
            try (Tensor x = Tensor.of(data, batch, 3, 64, 64); Result result = reference.run(Map.of(input, x), tensors)) {
                for (String t : tensors) {
                    float[] all = result.get(t).toArray();
                    int per = all.length / batch;
                    for (int r = 0; r < n; r++) out.get(t)[start + r] = java.util.Arrays.copyOfRange(all, r * per, (r + 1) * per);
                }
            }
        }
        return out;
    }

    static final StructType FLOAT_ROWS = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, true), true);

    /** The samples as rows {@code (id, features)} in {@code partitions} slices (a parallelized list, not a plan-embedded local relation). */
    static Dataset<Row> floatRows(List<float[]> samples, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) rows.add(RowFactory.create(i, samples.get(i)));
        JavaSparkContext context = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return spark.createDataFrame(context.parallelize(rows, partitions), FLOAT_ROWS);
    }

    static float[] floats(Row row, String column) {
        List<Object> values = row.getList(row.fieldIndex(column));
        if (values == null) return null;
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = (Float) values.get(i);
        return out;
    }

    static Map<Integer, Row> byId(Dataset<Row> rows) {
        Map<Integer, Row> out = new HashMap<>();
        for (Row r : rows.collectAsList()) out.put(r.getInt(r.fieldIndex("id")), r);
        return out;
    }

    @Test
    void parquetOf203RowsInThreePartitionsEqualsTheSingleJvmSessionBitForBitAndPyTorch() throws IOException {
        long t0 = System.nanoTime();
        List<float[]> samples = samples(203);
        Path parquet = temp.resolve("rows.parquet");
        floatRows(samples, 3).write().parquet(parquet.toString());
        Dataset<Row> rows = spark.read().parquet(parquet.toString()).repartition(3);   // about 68 rows each: no partition is whole batches
        System.err.printf("TIMING written %.1f s%n", (System.nanoTime() - t0) / 1e9);

        int loadsBefore = ExecutorModels.loads();
        ExecutorModels.closeAll();
        Dataset<Row> scored = JdnnInference.onModel(MODEL.toString())
                .inputCol("features").batchSize(BATCH)
                .output(output, "logits").output(TAP, "pooled")
                .transform(rows);
        Map<Integer, Row> got = byId(scored);
        System.err.printf("TIMING scored %.1f s%n", (System.nanoTime() - t0) / 1e9);

        assertEquals(203, got.size(), "every row comes back, once");
        assertEquals(3, scored.rdd().getNumPartitions());
        assertEquals(loadsBefore + 1, ExecutorModels.loads(), "one model load for all tasks of the JVM");
        Map<String, float[][]> expected = singleJvm(samples, BATCH, List.of(output, TAP));
        System.err.printf("TIMING reference %.1f s%n", (System.nanoTime() - t0) / 1e9);
        for (int id = 0; id < samples.size(); id++) {
            Row row = got.get(id);
            assertNull(row.getAs(JdnnInference.ERROR_COLUMN), "row " + id);
            assertArrayEquals(expected.get(output)[id], floats(row, "logits"), "row " + id + " logits");
            assertArrayEquals(expected.get(TAP)[id], floats(row, "pooled"), "row " + id + " tap");
            assertArrayEquals(samples.get(id), floats(row, "features"), "row " + id + " keeps its input");
        }
        try (Tensor torch = Npy.read(FIXTURE.resolve("output.npy"))) {
            float[] t = torch.toArray();
            for (int id = 0; id < 2; id++) {
                float[] logits = floats(got.get(id), "logits");
                for (int k = 0; k < logits.length; k++) assertEquals(t[id * logits.length + k], logits[k], 1e-4 * Math.max(1, Math.abs(t[k])), "PyTorch row " + id);
            }
        }
    }

    @Test
    void npyBytesAndTensorStructColumnsGiveTheSameResultsAsFloatArrays() throws IOException {
        List<float[]> samples = samples(7);
        StructType schema = new StructType()
                .add("id", DataTypes.IntegerType, false)
                .add("npy", DataTypes.BinaryType, true)
                .add("tensor", new StructType()
                        .add("shape", DataTypes.createArrayType(DataTypes.LongType))
                        .add("data", DataTypes.createArrayType(DataTypes.FloatType)));
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            long[] shape = i % 2 == 0 ? new long[] {3, 64, 64} : new long[] {1, 3, 64, 64};   // a leading 1 is accepted
            Long[] boxed = java.util.Arrays.stream(shape).boxed().toArray(Long[]::new);
            rows.add(RowFactory.create(i, npyBytes(samples.get(i), shape), RowFactory.create(boxed, samples.get(i))));
        }
        Dataset<Row> data = spark.createDataFrame(rows, schema).repartition(2);
        float[][] expected = singleJvm(samples, 4, List.of(output)).get(output);

        Map<Integer, Row> fromNpy = byId(JdnnInference.onModel(MODEL.toString()).inputCol("npy").batchSize(4).output(output, "logits").transform(data));
        Map<Integer, Row> fromStruct = byId(JdnnInference.onModel(MODEL.toString()).inputCol("tensor").batchSize(4).output(output, "logits").transform(data));
        for (int id = 0; id < samples.size(); id++) {
            assertArrayEquals(expected[id], floats(fromNpy.get(id), "logits"), "npy row " + id);
            assertArrayEquals(expected[id], floats(fromStruct.get(id), "logits"), "tensor row " + id);
        }
    }

    /** The bytes of a float32 .npy of {@code values} (written by {@link Npy#write}, so other test classes can call it too). */
    static byte[] npyBytes(float[] values, long[] shape) throws IOException {
        Path file = Files.createTempFile("jdnn-spark-row", ".npy");
        try (Tensor t = Tensor.of(values, shape)) {
            Npy.write(file, t);
            return Files.readAllBytes(file);
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void badRowsGetNullPredictionsAndTheirReasonWhileTheRestOfTheirBatchRuns() throws IOException {
        List<float[]> samples = samples(20);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            Object features = switch (i) {
                case 3 -> null;
                case 7 -> new float[5];
                case 11 -> new Float[] {1f, null, 2f};
                default -> samples.get(i);
            };
            rows.add(RowFactory.create(i, features));
        }
        Dataset<Row> data = spark.createDataFrame(rows, FLOAT_ROWS).coalesce(1);
        Map<Integer, Row> got = byId(JdnnInference.onModel(MODEL.toString()).batchSize(8).output(output, "logits").transform(data));

        assertEquals(20, got.size(), "no row is lost");
        assertEquals("column 'features' is null", got.get(3).getAs(JdnnInference.ERROR_COLUMN));
        assertEquals("column 'features' has 5 floats, the model's input needs 12288 (shape [3, 64, 64])", got.get(7).getAs(JdnnInference.ERROR_COLUMN));
        assertTrue(((String) got.get(11).getAs(JdnnInference.ERROR_COLUMN)).contains("3 floats"), (String) got.get(11).getAs(JdnnInference.ERROR_COLUMN));
        List<float[]> good = new ArrayList<>();
        List<Integer> goodIds = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            if (i == 3 || i == 7 || i == 11) {
                assertNull(floats(got.get(i), "logits"), "row " + i);
            } else {
                good.add(samples.get(i));
                goodIds.add(i);
            }
        }
        // The good rows are packed together in each batch: rows 0-9 minus two bad ones make the first batch, and so on.
        float[][] expected = singleJvm(good, 8, List.of(output)).get(output);
        for (int g = 0; g < good.size(); g++) {
            Row row = got.get(goodIds.get(g));
            assertNull(row.getAs(JdnnInference.ERROR_COLUMN));
            assertArrayEquals(expected[g], floats(row, "logits"), "row " + goodIds.get(g));
        }
    }

    @Test
    void failPolicyFailsTheJobNamingTheRowAndTheReason() throws IOException {
        List<float[]> samples = samples(4);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) rows.add(RowFactory.create(i, i == 2 ? new float[7] : samples.get(i)));
        Dataset<Row> data = spark.createDataFrame(rows, FLOAT_ROWS).coalesce(1);
        JdnnInference failing = JdnnInference.onModel(MODEL.toString()).batchSize(4).onError(JdnnInference.OnError.FAIL);

        SparkException e = assertThrows(SparkException.class, () -> failing.transform(data).collectAsList());
        String message = causeChain(e);
        assertTrue(message.contains("partition 0, row 2 of the partition: column 'features' has 7 floats, the model's input needs 12288"), message);
        assertTrue(!failing.outputSchema(data.schema()).getFieldIndex(JdnnInference.ERROR_COLUMN).isDefined(), "no error column under FAIL");
    }

    static String causeChain(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) b.append(c.getMessage()).append('\n');
        return b.toString();
    }

    @Test
    void partitionsSmallerThanTheBatchArePaddedOrRunShort() throws IOException {
        List<float[]> samples = samples(5);
        Dataset<Row> data = floatRows(samples, 2);
        float[][] padded = singleJvm(samples, 64, List.of(output)).get(output);
        Dataset<Row> scored = JdnnInference.onModel(MODEL.toString()).batchSize(64).output(output, "logits").keepInputColumn(false).transform(data);
        assertEquals(List.of("id", "logits", JdnnInference.ERROR_COLUMN), List.of(scored.columns()), "input column dropped");
        Map<Integer, Row> got = byId(scored);
        for (int id = 0; id < samples.size(); id++) assertArrayEquals(padded[id], floats(got.get(id), "logits"), "padded row " + id);

        Map<Integer, Row> shortRuns = byId(JdnnInference.onModel(MODEL.toString()).batchSize(64).padLastBatch(false).output(output, "logits").transform(data));
        for (int id = 0; id < samples.size(); id++) {
            float[] logits = floats(shortRuns.get(id), "logits");
            for (int k = 0; k < logits.length; k++) assertEquals(padded[id][k], logits[k], 1e-5f * Math.max(1, Math.abs(padded[id][k])), "short batch row " + id);
        }
    }

    @Test
    void aModelShippedWithAddFileIsReadFromSparkFiles() throws IOException {
        Path copy = temp.resolve("shipped-resnet.onnx");
        Files.copy(MODEL, copy, StandardCopyOption.REPLACE_EXISTING);
        List<float[]> samples = samples(9);
        Dataset<Row> data = floatRows(samples, 2);
        Map<Integer, Row> got = byId(JdnnInference.shipModel(spark, copy.toString()).batchSize(4).output(output, "logits").transform(data));
        Files.delete(copy);   // only SparkFiles' copy remains

        float[][] expected = singleJvm(samples, 4, List.of(output)).get(output);
        for (int id = 0; id < samples.size(); id++) assertArrayEquals(expected[id], floats(got.get(id), "logits"), "row " + id);
        Path shipped = Path.of(SparkFiles.get("shipped-resnet.onnx")).toAbsolutePath().normalize();
        assertTrue(ExecutorModels.loadedFiles().contains(shipped), shipped + " in " + ExecutorModels.loadedFiles());
    }

    @Test
    void topKGivesTheBestClassesWithLabelsAndSoftmaxScores() throws IOException {
        List<float[]> samples = samples(6);
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < 10; i++) labels.add("class " + i);
        Path labelsFile = temp.resolve("labels.txt");
        Files.writeString(labelsFile, String.join("\n", labels) + "\n\n");
        Map<Integer, Row> got = byId(JdnnInference.onModel(MODEL.toString()).batchSize(4).topK(3, "top3").labelsFile(labelsFile.toString())
                .transform(floatRows(samples, 2)));
        float[][] logits = singleJvm(samples, 4, List.of(output)).get(output);
        for (int id = 0; id < samples.size(); id++) {
            double[] p = new double[10];
            double sum = 0;
            for (int k = 0; k < 10; k++) sum += p[k] = Math.exp(logits[id][k]);
            Integer[] order = new Integer[10];
            for (int k = 0; k < 10; k++) order[k] = k;
            final int row = id;
            java.util.Arrays.sort(order, (a, b) -> Float.compare(logits[row][b], logits[row][a]));
            List<Row> top = got.get(id).getList(got.get(id).fieldIndex("top3"));
            assertEquals(3, top.size());
            for (int j = 0; j < 3; j++) {
                assertEquals(order[j], top.get(j).getInt(0), "row " + id + " rank " + j);
                assertEquals("class " + order[j], top.get(j).getString(1));
                assertEquals(p[order[j]] / sum, top.get(j).getFloat(2), 1e-6);
            }
            assertTrue(got.get(id).schema().getFieldIndex(output).isEmpty(), "top-k alone adds no logits column");
        }
    }

    @Test
    void configurationMistakesAreReportedOnTheDriver() throws IOException {
        Dataset<Row> data = floatRows(samples(1), 1);
        String m = MODEL.toString();
        assertEquals("no column 'pixels' in struct<id:int,features:array<float>>",
                assertThrows(IllegalArgumentException.class, () -> JdnnInference.onModel(m).inputCol("pixels").transform(data)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JdnnInference.onModel(m).outputs("nope").transform(data))
                .getMessage().startsWith("the model has no tensor 'nope'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JdnnInference.onModel(m).rowShape(3, 64).transform(data))
                .getMessage().startsWith("the model does not take input"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JdnnInference.onModel(m).output(output, "features").transform(data))
                .getMessage().contains("column 'features' already exists"));
        Dataset<Row> ints = spark.createDataFrame(List.of(RowFactory.create(1)), new StructType().add("features", DataTypes.IntegerType));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JdnnInference.onModel(m).transform(ints))
                .getMessage().startsWith("input column 'features' is int; jdnn reads array<float>"));
    }

    @Test
    void garbageBinaryIsAPerRowErrorNamingTheProblem() {
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("npy", DataTypes.BinaryType);
        Dataset<Row> data = spark.createDataFrame(List.of(RowFactory.create(0, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
                RowFactory.create(1, new byte[3])), schema);
        Map<Integer, Row> got = byId(JdnnInference.onModel(MODEL.toString()).inputCol("npy").npyInput().batchSize(2).transform(data));
        assertEquals("column 'npy': not a .npy file (bad magic)", got.get(0).getAs(JdnnInference.ERROR_COLUMN));
        assertEquals("column 'npy': too short for a .npy file", got.get(1).getAs(JdnnInference.ERROR_COLUMN));
        assertNotNull(got.get(0).schema().apply(output.replaceAll("[^A-Za-z0-9_]", "_")));
        Map<Integer, Row> auto = byId(JdnnInference.onModel(MODEL.toString()).inputCol("npy").batchSize(2).transform(data));
        for (int id = 0; id < 2; id++) {
            assertEquals("column 'npy' is neither a .npy file (no \\x93NUMPY magic) nor a PNG, JPEG, BMP or GIF image", auto.get(id).getAs(JdnnInference.ERROR_COLUMN));
        }
    }
}
