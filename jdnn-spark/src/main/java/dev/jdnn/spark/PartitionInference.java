package dev.jdnn.spark;

import dev.jdnn.Scores;

import dev.jdnn.Backend;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.BoundReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import scala.jdk.javaapi.CollectionConverters;

/**
 * What runs on executors: one partition's rows, {@code batchSize} at a time, through the JVM's shared
 * {@link Session} (see {@link ExecutorModels}), each input row followed by its prediction columns.
 * Serialized with the task; holds only configuration.
 *
 * <p>Per batch: the input column of up to {@code batchSize} rows is copied into one off-heap
 * {@code batchSize × rowShape} tensor (reused for the whole partition); rows that cannot be read are set
 * aside with their reason; the last, short batch of a partition is padded with zeros so every batch runs
 * the same compiled plan (and a row's result does not depend on how Spark partitioned the data).
 */
final class PartitionInference implements FlatMapFunction<Iterator<InternalRow>, InternalRow> {

    /** Top-k over one output tensor: index, label (when labels were given) and score per entry. */
    record TopK(String tensor, int k, List<String> labels, boolean softmax) implements java.io.Serializable {}

    private final String modelPath;
    private final boolean shipped;
    private final String modelInput;
    private final RowInput input;
    private final int batchSize;
    private final boolean padLastBatch;
    private final List<String> outputs;
    private final TopK topK;
    private final JdnnInference.OnError onError;
    private final Backend backend;
    private final int threads;
    /** The input rows' schema and whether their input column is carried into the output (else it is dropped). */
    private final StructType inputSchema;
    private final boolean keepInputColumn;

    PartitionInference(String modelPath, boolean shipped, String modelInput, RowInput input, int batchSize, boolean padLastBatch,
            List<String> outputs, TopK topK, JdnnInference.OnError onError, Backend backend, int threads, StructType inputSchema,
            boolean keepInputColumn) {
        this.modelPath = modelPath;
        this.shipped = shipped;
        this.modelInput = modelInput;
        this.input = input;
        this.batchSize = batchSize;
        this.padLastBatch = padLastBatch;
        this.outputs = List.copyOf(outputs);
        this.topK = topK;
        this.onError = onError;
        this.backend = backend;
        this.threads = threads;
        this.inputSchema = inputSchema;
        this.keepInputColumn = keepInputColumn;
    }

    /**
     * What a batch keeps of each input row until its predictions are ready: the whole row, or (input column dropped)
     * the other columns; a copy either way, since Spark reuses the row object it hands out.
     */
    private java.util.function.UnaryOperator<InternalRow> rowKeeper() {
        if (keepInputColumn) return InternalRow::copy;
        List<Expression> others = new java.util.ArrayList<>();
        for (int i = 0; i < inputSchema.fields().length; i++) {
            if (i != input.ordinal) others.add(new BoundReference(i, inputSchema.fields()[i].dataType(), inputSchema.fields()[i].nullable()));
        }
        UnsafeProjection projection = UnsafeProjection.create(CollectionConverters.asScala(others).toList());
        return row -> projection.apply(row).copy();
    }

    /** The model file on this executor: shipped by {@code SparkContext.addFile}, or a path every executor reads. */
    Path modelFile() {
        return Path.of(shipped ? SparkFiles.get(modelPath) : modelPath);
    }

    /** oneDNN threads per task: as configured, else the task's {@code spark.task.cpus}. */
    int threadsPerTask() {
        if (threads > 0) return threads;
        TaskContext task = TaskContext.get();
        return task == null ? 1 : Math.max(1, task.cpus());
    }

    @Override
    public Iterator<InternalRow> call(Iterator<InternalRow> rows) {
        if (!rows.hasNext()) return rows;
        Session session = ExecutorModels.session(modelFile(), new Session.Options(backend, threadsPerTask()));
        Batches batches = new Batches(rows, session);
        TaskContext task = TaskContext.get();
        if (task != null) task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) context -> batches.close());
        return batches;
    }

    /** The partition's output rows, produced a batch at a time as Spark pulls them. */
    private final class Batches implements Iterator<InternalRow>, AutoCloseable {
        private final Iterator<InternalRow> rows;
        private final Session session;
        private final ArrayDeque<InternalRow> ready = new ArrayDeque<>();
        private final InternalRow[] pending = new InternalRow[batchSize];
        private final String[] errors = new String[batchSize];
        private final int[] slots = new int[batchSize];
        private final long sampleBytes = 4 * input.rowElements;
        private final java.util.function.UnaryOperator<InternalRow> keep = rowKeeper();
        private Tensor batch;
        private long rowNumber;

        Batches(Iterator<InternalRow> rows, Session session) {
            this.rows = rows;
            this.session = session;
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && rows.hasNext()) runBatch();
            if (ready.isEmpty()) close();
            return !ready.isEmpty();
        }

        @Override
        public InternalRow next() {
            if (!hasNext()) throw new NoSuchElementException();
            return ready.poll();
        }

        private void runBatch() {
            if (batch == null) batch = Tensor.zeros(shapeOf(batchSize));
            MemorySegment data = batch.segment();
            int count = 0;
            int good = 0;
            while (count < batchSize && rows.hasNext()) {
                InternalRow row = rows.next();
                pending[count] = keep.apply(row);
                errors[count] = null;
                slots[count] = -1;
                try {
                    input.write(row, data, good * sampleBytes);
                    slots[count] = good++;
                } catch (RowInput.BadRow bad) {
                    if (onError == JdnnInference.OnError.FAIL) throw new JdnnRowException(describe(rowNumber), bad.getMessage());
                    errors[count] = bad.getMessage();
                }
                count++;
                rowNumber++;
            }
            Object[][] predictions = new Object[count][];
            if (good > 0) predict(good, count, predictions);
            for (int r = 0; r < count; r++) {
                Object[] extra = predictions[r] != null ? predictions[r] : new Object[columnCount()];
                if (onError == JdnnInference.OnError.NULL) extra[extra.length - 1] = errors[r] == null ? null : UTF8String.fromString(errors[r]);
                ready.add(new JoinedRow(pending[r], new GenericInternalRow(extra)));
                pending[r] = null;
            }
        }

        /** Runs the {@code good} readable samples (padded to a full batch) and fills their rows' prediction columns. */
        private void predict(int good, int count, Object[][] predictions) {
            int runSize = padLastBatch ? batchSize : good;
            if (good < runSize) batch.segment().asSlice(good * sampleBytes).fill((byte) 0);
            Tensor x = runSize == batchSize ? batch : batch.sliceBatch(0, runSize);
            List<String> requested = requestedTensors();
            try (Result result = session.run(Map.of(modelInput, x), requested)) {
                float[][][] perTensor = new float[requested.size()][][];
                for (int t = 0; t < requested.size(); t++) perTensor[t] = splitRows(requested.get(t), result.get(requested.get(t)), runSize, good);
                for (int r = 0; r < count; r++) {
                    if (slots[r] < 0) continue;
                    Object[] extra = new Object[columnCount()];
                    int column = 0;
                    for (int t = 0; t < outputs.size(); t++) extra[column++] = UnsafeArrayData.fromPrimitiveArray(perTensor[t][slots[r]]);
                    if (topK != null) extra[column] = topKOf(perTensor[requested.indexOf(topK.tensor())][slots[r]]);
                    predictions[r] = extra;
                }
            } catch (RuntimeException e) {
                if (onError == JdnnInference.OnError.FAIL || e instanceof JdnnRowException) throw e;
                for (int r = 0; r < count; r++) {
                    if (slots[r] >= 0) errors[r] = "inference of its batch failed: " + e;
                    predictions[r] = null;
                }
            }
        }

        private String describe(long row) {
            TaskContext task = TaskContext.get();
            return (task == null ? "" : "partition " + task.partitionId() + ", ") + "row " + row + " of the partition";
        }

        @Override
        public void close() {
            if (batch != null) batch.close();
        }
    }

    private long[] shapeOf(int n) {
        long[] shape = new long[input.rowShape.length + 1];
        shape[0] = n;
        System.arraycopy(input.rowShape, 0, shape, 1, input.rowShape.length);
        return shape;
    }

    /** The output columns and taps, then the top-k source if it is not among them. */
    List<String> requestedTensors() {
        if (topK == null || outputs.contains(topK.tensor())) return outputs;
        java.util.ArrayList<String> all = new java.util.ArrayList<>(outputs);
        all.add(topK.tensor());
        return all;
    }

    /** Prediction columns added to each row: outputs, top-k if any, the error column under {@code OnError.NULL}. */
    int columnCount() {
        return outputs.size() + (topK == null ? 0 : 1) + (onError == JdnnInference.OnError.NULL ? 1 : 0);
    }

    /** The first {@code good} samples of an {@code N × ...} output, each flattened (integer types converted to float). */
    private static float[][] splitRows(String name, Tensor output, int n, int good) {
        if (output.rank() == 0 || output.dim(0) != n) {
            throw new JdnnRowException("output '" + name + "'", "has shape " + Tensor.format(output.shape())
                    + ", which is not per sample (its first dimension should be the batch, " + n + ")");
        }
        int perRow = Math.toIntExact(output.elementCount() / n);
        float[][] values = new float[good][perRow];
        for (int r = 0; r < good; r++) {
            if (output.dtype().isFloat()) {
                MemorySegment.copy(output.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * r * perRow, values[r], 0, perRow);
            } else if (output.dtype().isFloatingPoint()) {   // a float16 model's output
                for (int i = 0; i < perRow; i++) values[r][i] = output.getFlat((long) r * perRow + i);
            } else {
                for (int i = 0; i < perRow; i++) values[r][i] = output.getLongFlat((long) r * perRow + i);
            }
        }
        return values;
    }

    /** The k largest scores, best first (ties: lower index first; NaN above all, as Float.compare orders), as {@code array<struct<index, label, score>>}. */
    private GenericArrayData topKOf(float[] logits) {
        float[] scores = topK.softmax() ? Scores.softmax(logits) : logits;
        int[] order = Scores.topK(scores, topK.k());
        int k = order.length;
        Object[] entries = new Object[k];
        for (int i = 0; i < k; i++) {
            int index = order[i];
            UTF8String label = topK.labels() != null && index < topK.labels().size() ? UTF8String.fromString(topK.labels().get(index)) : null;
            entries[i] = new GenericInternalRow(new Object[] {index, label, scores[index]});
        }
        return new GenericArrayData(entries);
    }
}
