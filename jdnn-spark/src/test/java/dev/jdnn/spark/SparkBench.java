package dev.jdnn.spark;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.image.ImageDecoder;
import dev.jdnn.image.Normalize;
import dev.jdnn.image.Preprocess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Throughput (rows/s) of one configuration, run by {@code bench/spark.sh} in a JVM of its own so the modes can
 * be interleaved round by round on a shared machine:
 * <pre>
 *   single WORKERS THREADS  the single-JVM batch loop a user would write (rows copied into the batch tensor,
 *                           Session.run, outputs copied out per row), on WORKERS Java threads sharing one Session
 *                           with THREADS oneDNN threads each, the rows split evenly between them
 *   spark  CORES            JdnnInference on Spark local[CORES] over a cached DataFrame with CORES partitions,
 *                           written to Spark's no-op sink (every row computed, nothing stored)
 *   single-images WORKERS THREADS, spark-images CORES
 *                           the same over image files (TestImages: seeded PNGs and JPEGs of 48-160 pixels a side):
 *                           the single loop decodes each file (ImageDecoder) and preprocesses it (./jdnn classify's
 *                           pipeline, crop = the model's input side, resize = crop × 256/224) into the batch tensor;
 *                           Spark reads the files with binaryFile (cached, CORES partitions) and scores the content
 *                           column with imageInput(the same Preprocess), the content column dropped from the output
 * </pre>
 * Arguments after the mode: {@code model rows batch passes} (rows: images in the image modes). Both kinds score the
 * same seeded rows or files after one untimed warm-up pass (model load, plan compilation, JIT) and print the best
 * and median of the timed passes.
 */
public final class SparkBench {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        boolean single = mode.startsWith("single");
        boolean images = mode.endsWith("-images");
        int argsAt = single ? 3 : 2;
        Path modelFile = Path.of(args[argsAt]);
        int rows = Integer.parseInt(args[argsAt + 1]);
        int batch = Integer.parseInt(args[argsAt + 2]);
        int passes = Integer.parseInt(args[argsAt + 3]);

        long[] sampleShape;
        String input;
        String output;
        try (Model model = Model.load(modelFile)) {
            input = model.inputs().keySet().iterator().next();
            long[] declared = model.inputs().get(input);
            sampleShape = Arrays.copyOfRange(declared, 1, declared.length);
            output = model.outputs().getFirst();
        }
        int sample = Math.toIntExact(Tensor.elementCount(sampleShape));
        List<float[]> data = new ArrayList<>();
        Random random = new Random(1);
        for (int i = 0; i < rows && !images; i++) {
            float[] x = new float[sample];
            for (int j = 0; j < sample; j++) x[j] = (float) random.nextGaussian();
            data.add(x);
        }
        Path imageDir = images ? java.nio.file.Files.createTempDirectory("jdnn-spark-bench-images") : null;
        List<Path> files = images ? TestImages.write(imageDir, rows, 1) : List.of();
        int side = Math.toIntExact(sampleShape[sampleShape.length - 1]);
        Preprocess preprocess = Preprocess.imagenet(side * 256 / 224, side, Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD);
        SampleWriter<float[]> floatWriter = (x, tensor, offset) -> MemorySegment.copy(x, 0, tensor, ValueLayout.JAVA_FLOAT, offset, x.length);
        SampleWriter<Path> imageWriter = (file, tensor, offset) ->
                preprocess.transform(ImageDecoder.read(file, preprocess.decodeOptions())).copyTo(tensor, offset);

        double[] rowsPerSecond = new double[passes];
        String label;
        if (single) {
            int workers = Integer.parseInt(args[1]);
            int threads = Integer.parseInt(args[2]);
            label = "single-JVM" + (images ? " decode+preprocess+run" : "") + ", " + workers + " worker(s) x " + threads + " oneDNN thread(s)";
            try (Model model = Model.load(modelFile); Session session = model.session(Session.Options.defaults().withThreads(threads))) {
                ExecutorService pool = Executors.newFixedThreadPool(workers);
                for (int p = -1; p < passes; p++) {
                    long start = System.nanoTime();
                    List<Future<?>> done = new ArrayList<>();
                    for (int w = 0; w < workers; w++) {
                        int from = rows * w / workers;
                        int to = rows * (w + 1) / workers;
                        done.add(pool.submit(() -> images
                                ? batchLoop(session, input, output, sampleShape, files.subList(from, to), batch, imageWriter)
                                : batchLoop(session, input, output, sampleShape, data.subList(from, to), batch, floatWriter)));
                    }
                    for (Future<?> f : done) f.get();
                    if (p >= 0) rowsPerSecond[p] = rows / ((System.nanoTime() - start) / 1e9);
                }
                pool.shutdown();
            }
        } else {
            int cores = Integer.parseInt(args[1]);
            label = "Spark local[" + cores + "], JdnnInference" + (images ? " imageInput over binaryFile" : "");
            SparkSession spark = SparkSession.builder().master("local[" + cores + "]").appName("jdnn-spark bench")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false").getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
            Dataset<Row> frame = images ? imageFrame(spark, imageDir, cores) : floatFrame(spark, data, cores);
            JdnnInference inference = JdnnInference.onModel(modelFile.toString()).rowShape(sampleShape).batchSize(batch).output(output, "y");
            if (images) inference.inputCol("content").imageInput(preprocess).keepInputColumn(false);
            for (int p = -1; p < passes; p++) {
                long start = System.nanoTime();
                inference.transform(frame).write().format("noop").mode("overwrite").save();
                if (p >= 0) rowsPerSecond[p] = rows / ((System.nanoTime() - start) / 1e9);
            }
            spark.stop();
        }
        double[] sorted = rowsPerSecond.clone();
        Arrays.sort(sorted);
        System.out.printf("RESULT\t%s\t%s\tbest %.1f\tmedian %.1f rows/s\tpasses %s%n", mode + " " + args[1] + (single ? " " + args[2] : ""), label,
                sorted[sorted.length - 1], sorted[sorted.length / 2], Arrays.toString(Arrays.stream(rowsPerSecond).map(v -> Math.round(v * 10) / 10.0).toArray()));
        for (Path f : files) java.nio.file.Files.delete(f);
        if (imageDir != null) java.nio.file.Files.delete(imageDir);
        System.exit(0);
    }

    /** The rows through Parquet, as real rows come (a parallelized list would travel inside every task of every pass), cached. */
    static Dataset<Row> floatFrame(SparkSession spark, List<float[]> data, int cores) throws java.io.IOException {
        List<Row> list = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) list.add(RowFactory.create(i, data.get(i)));
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("features", DataTypes.createArrayType(DataTypes.FloatType));
        Path parquet = java.nio.file.Files.createTempDirectory("jdnn-spark-bench").resolve("rows.parquet");
        spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(list, cores), schema)
                .write().parquet(parquet.toString());
        Dataset<Row> frame = spark.read().parquet(parquet.toString()).repartition(cores).cache();
        frame.count();
        return frame;
    }

    /** The image files as binaryFile reads them (path, modificationTime, length, content) in {@code cores} partitions, cached. */
    static Dataset<Row> imageFrame(SparkSession spark, Path dir, int cores) {
        Dataset<Row> frame = spark.read().format("binaryFile").load(dir.toString()).repartition(cores).cache();
        frame.count();
        return frame;
    }

    /** Writes one item's sample into the batch tensor at a byte offset. */
    interface SampleWriter<T> {
        void write(T item, MemorySegment batch, long offset);
    }

    /**
     * The loop a single-JVM user writes: batches of {@code batch} rows (the last one padded), each row written into the
     * batch tensor by {@code writer}, outputs copied out per row.
     */
    static <T> Void batchLoop(Session session, String input, String output, long[] sampleShape, List<T> rows, int batch, SampleWriter<T> writer) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = batch;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        long sample = Tensor.elementCount(sampleShape);
        try (Tensor x = Tensor.zeros(shape)) {
            for (int start = 0; start < rows.size(); start += batch) {
                int n = Math.min(batch, rows.size() - start);
                MemorySegment segment = x.segment();
                for (int r = 0; r < n; r++) writer.write(rows.get(start + r), segment, 4L * r * sample);
                if (n < batch) segment.asSlice(4L * n * sample).fill((byte) 0);
                try (Result result = session.run(Map.of(input, x), List.of(output))) {
                    Tensor y = result.get(output);
                    int per = Math.toIntExact(y.elementCount() / batch);
                    for (int r = 0; r < n; r++) {
                        float[] row = new float[per];
                        MemorySegment.copy(y.segment(), ValueLayout.JAVA_FLOAT, 4L * r * per, row, 0, per);
                    }
                }
            }
        }
        return null;
    }
}
