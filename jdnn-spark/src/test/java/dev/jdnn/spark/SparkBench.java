package dev.jdnn.spark;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
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
 * </pre>
 * Arguments after the mode: {@code model rows batch passes}. Both modes score the same seeded rows after one
 * untimed warm-up pass (model load, plan compilation, JIT) and print the best and median of the timed passes.
 */
public final class SparkBench {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int argsAt = mode.equals("single") ? 3 : 2;
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
        for (int i = 0; i < rows; i++) {
            float[] x = new float[sample];
            for (int j = 0; j < sample; j++) x[j] = (float) random.nextGaussian();
            data.add(x);
        }

        double[] rowsPerSecond = new double[passes];
        String label;
        if (mode.equals("single")) {
            int workers = Integer.parseInt(args[1]);
            int threads = Integer.parseInt(args[2]);
            label = "single-JVM, " + workers + " worker(s) x " + threads + " oneDNN thread(s)";
            try (Model model = Model.load(modelFile); Session session = model.session(Session.Options.defaults().withThreads(threads))) {
                ExecutorService pool = Executors.newFixedThreadPool(workers);
                for (int p = -1; p < passes; p++) {
                    long start = System.nanoTime();
                    List<Future<?>> done = new ArrayList<>();
                    for (int w = 0; w < workers; w++) {
                        int from = rows * w / workers;
                        int to = rows * (w + 1) / workers;
                        done.add(pool.submit(() -> batchLoop(session, input, output, sampleShape, data.subList(from, to), batch)));
                    }
                    for (Future<?> f : done) f.get();
                    if (p >= 0) rowsPerSecond[p] = rows / ((System.nanoTime() - start) / 1e9);
                }
                pool.shutdown();
            }
        } else {
            int cores = Integer.parseInt(args[1]);
            label = "Spark local[" + cores + "], JdnnInference";
            SparkSession spark = SparkSession.builder().master("local[" + cores + "]").appName("jdnn-spark bench")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false").getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
            List<Row> list = new ArrayList<>();
            for (int i = 0; i < rows; i++) list.add(RowFactory.create(i, data.get(i)));
            StructType schema = new StructType().add("id", DataTypes.IntegerType).add("features", DataTypes.createArrayType(DataTypes.FloatType));
            // Through Parquet, as real rows come: a parallelized list would travel inside every task of every pass.
            Path parquet = java.nio.file.Files.createTempDirectory("jdnn-spark-bench").resolve("rows.parquet");
            spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(list, cores), schema)
                    .write().parquet(parquet.toString());
            Dataset<Row> frame = spark.read().parquet(parquet.toString()).repartition(cores).cache();
            frame.count();
            JdnnInference inference = JdnnInference.onModel(modelFile.toString()).rowShape(sampleShape).batchSize(batch).output(output, "y");
            for (int p = -1; p < passes; p++) {
                long start = System.nanoTime();
                inference.transform(frame).write().format("noop").mode("overwrite").save();
                if (p >= 0) rowsPerSecond[p] = rows / ((System.nanoTime() - start) / 1e9);
            }
            spark.stop();
        }
        double[] sorted = rowsPerSecond.clone();
        Arrays.sort(sorted);
        System.out.printf("RESULT\t%s\t%s\tbest %.1f\tmedian %.1f rows/s\tpasses %s%n", mode + " " + args[1] + (mode.equals("single") ? " " + args[2] : ""), label,
                sorted[sorted.length - 1], sorted[sorted.length / 2], Arrays.toString(Arrays.stream(rowsPerSecond).map(v -> Math.round(v * 10) / 10.0).toArray()));
        System.exit(0);
    }

    /** The loop a single-JVM user writes: batches of {@code batch} rows (the last one padded), outputs copied out per row. */
    static void batchLoop(Session session, String input, String output, long[] sampleShape, List<float[]> rows, int batch) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = batch;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        int sample = rows.getFirst().length;
        try (Tensor x = Tensor.zeros(shape)) {
            for (int start = 0; start < rows.size(); start += batch) {
                int n = Math.min(batch, rows.size() - start);
                MemorySegment segment = x.segment();
                for (int r = 0; r < n; r++) MemorySegment.copy(rows.get(start + r), 0, segment, ValueLayout.JAVA_FLOAT, 4L * r * sample, sample);
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
    }
}
