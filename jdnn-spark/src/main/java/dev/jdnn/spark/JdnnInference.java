package dev.jdnn.spark;

import dev.jdnn.Backend;
import dev.jdnn.image.CenterCrop;
import dev.jdnn.image.Interpolation;
import dev.jdnn.image.Normalize;
import dev.jdnn.image.Preprocess;
import dev.jdnn.image.Resize;
import dev.jdnn.image.ToTensor;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Batch inference of a jdnn model over a Spark {@code Dataset<Row>}: every row keeps its columns and gains
 * prediction columns. Rows are batched {@link #batchSize} at a time within each partition into one
 * {@code N × rowShape} tensor; each executor JVM loads the model once and shares it (and its compiled plans)
 * between its tasks ({@link ExecutorModels}); oneDNN runs {@code spark.task.cpus} threads per task.
 *
 * <pre>{@code
 * Dataset<Row> scored = JdnnInference.shipModel(spark, "resnet50.onnx")   // or onModel("/shared/resnet50.onnx")
 *         .inputCol("features")                // array<float> (C×H×W flat), binary (.npy or image bytes), or struct<shape, data>
 *         .batchSize(32)
 *         .topK(5, "top5").labelsFile("imagenet_classes.txt")
 *         .transform(images);
 * }</pre>
 *
 * Image files, scored as {@code ./jdnn classify} scores them on one machine (same decoding, same preprocessing):
 * <pre>{@code
 * Dataset<Row> files = spark.read().format("binaryFile").load("/data/images");   // path, modificationTime, length, content
 * Dataset<Row> scored = JdnnInference.onModel("/shared/resnet50.onnx")
 *         .inputCol("content").imageInput()    // Resize 256, CenterCrop 224, ImageNet mean/std; or imageInput(resize, size, mean, std, filter)
 *         .topK(5, "top5").labelsFile("imagenet_classes.txt")
 *         .transform(files);
 * }</pre>
 *
 * Columns added, in order: one {@code array<float>} per requested output or tap (the sample's values, flat in
 * C order), the top-k column ({@code array<struct<index: int, label: string, score: float>>}) when asked for,
 * and under {@link OnError#NULL} the {@value #ERROR_COLUMN} column ({@code null} for rows that ran).
 * The driver reads the model once to check the configuration (input shape, names) before any task runs.
 */
public final class JdnnInference implements Serializable {

    /** What happens to a row that cannot be read (null, wrong size, undecodable bytes) or whose batch fails. */
    public enum OnError {
        /** The row's prediction columns are null and {@value JdnnInference#ERROR_COLUMN} says why; other rows are unaffected. */
        NULL,
        /** The task fails with a {@link JdnnRowException} naming the row and the reason (Spark then fails the job). */
        FAIL
    }

    /** How a {@code binary} input column is read. */
    public enum BinaryInput {
        /** A value starting with the {@code .npy} magic ({@code \x93NUMPY}) is a {@code .npy}; any other is an encoded image. */
        AUTO,
        /** Every value is a float32 {@code .npy} of one sample; an image is a bad row saying so. */
        NPY,
        /** Every value is an encoded image (PNG, JPEG, BMP, GIF), decoded and preprocessed; a {@code .npy} is a bad row saying so. */
        IMAGE
    }

    /** Under {@link OnError#NULL}: why a row has no prediction ({@code null} when it has one). */
    public static final String ERROR_COLUMN = "jdnn_error";

    /** Stands for the model's first output until the model is read. */
    private static final String FIRST_OUTPUT = "\u0000first output";

    private final String modelPath;
    private final boolean shipped;
    private final String localModelPath;
    private String inputCol = "features";
    private String modelInput;
    private long[] rowShape;
    private int batchSize = 32;
    private boolean batchSizeSet;
    private boolean padLastBatch = true;
    private boolean keepInputColumn = true;
    private final LinkedHashMap<String, String> outputs = new LinkedHashMap<>();
    private int topK;
    private String topKColumn;
    private String topKTensor;
    private List<String> labels;
    private boolean softmax = true;
    private OnError onError = OnError.NULL;
    private Backend backend = Backend.NATIVE;
    private int threads;
    private BinaryInput binaryInput = BinaryInput.AUTO;
    private Preprocess preprocess = Preprocess.imagenet();

    private JdnnInference(String modelPath, boolean shipped, String localModelPath) {
        this.modelPath = modelPath;
        this.shipped = shipped;
        this.localModelPath = localModelPath;
    }

    /** A model at a path the driver and every executor can read (a shared or replicated file system, or local mode). */
    public static JdnnInference onModel(String path) {
        return new JdnnInference(path, false, path);
    }

    /**
     * A model on the driver's disk, sent to every executor with {@code SparkContext.addFile} and read there from
     * {@code SparkFiles.get(fileName)}. Ship a model's external-data files the same way (they land beside it).
     */
    public static JdnnInference shipModel(SparkSession spark, String localPath) {
        Path file = Path.of(localPath).toAbsolutePath();
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no model file " + file + " to ship");
        spark.sparkContext().addFile(file.toUri().toString());
        return new JdnnInference(file.getFileName().toString(), true, file.toString());
    }

    /** The column holding each row's sample (default {@code features}). */
    public JdnnInference inputCol(String column) {
        this.inputCol = column;
        return this;
    }

    /**
     * How a binary input column is read (default {@link BinaryInput#AUTO}: {@code .npy} by its magic, else an image).
     * Choosing NPY or IMAGE for a column that is not binary is an error on the driver.
     */
    public JdnnInference binaryInput(BinaryInput kind) {
        if (kind == null) throw new IllegalArgumentException("binaryInput needs AUTO, NPY or IMAGE");
        this.binaryInput = kind;
        return this;
    }

    /** The binary input column holds float32 {@code .npy} files, one sample each. */
    public JdnnInference npyInput() {
        return binaryInput(BinaryInput.NPY);
    }

    /**
     * The binary input column holds encoded images (e.g. {@code spark.read.format("binaryFile")}'s {@code content}),
     * preprocessed as {@code ./jdnn classify} does by default: torchvision's ImageNet eval transform, Resize(256,
     * bilinear), CenterCrop(224), ToTensor, Normalize(ImageNet mean, std).
     */
    public JdnnInference imageInput() {
        return imageInput(Preprocess.imagenet());
    }

    /**
     * Images preprocessed with {@code ./jdnn classify}'s knobs: {@code --resize} (shorter side), {@code --size}
     * (centre crop), {@code --mean}, {@code --std}, and the resize filter ({@code classify} uses bilinear).
     */
    public JdnnInference imageInput(int resize, int size, float[] mean, float[] std, Interpolation interpolation) {
        return imageInput(classifyPreprocess(resize, size, mean, std, interpolation));
    }

    /** Images preprocessed by {@code steps} (sent to executors with each task, so what it holds must be serializable). */
    public JdnnInference imageInput(Preprocess steps) {
        return preprocess(steps).binaryInput(BinaryInput.IMAGE);
    }

    /** How images are preprocessed, without choosing how a binary column is read (for {@link BinaryInput#AUTO}). */
    public JdnnInference preprocess(Preprocess steps) {
        if (steps == null) throw new IllegalArgumentException("preprocess needs a Preprocess");
        this.preprocess = steps;
        return this;
    }

    /** Resize(resize, interpolation), CenterCrop(size), ToTensor, Normalize(mean, std): {@code ./jdnn classify}'s pipeline. */
    static Preprocess classifyPreprocess(int resize, int size, float[] mean, float[] std, Interpolation interpolation) {
        return Preprocess.of(new Resize(resize, interpolation), new CenterCrop(size), new ToTensor(), new Normalize(mean, std));
    }

    /** The model input fed from the column (default: the model's only input). */
    public JdnnInference modelInput(String name) {
        this.modelInput = name;
        return this;
    }

    /** One sample's shape, e.g. {@code 3, 224, 224}; needed when the model's input has symbolic dimensions besides the batch. */
    public JdnnInference rowShape(long... shape) {
        this.rowShape = shape.clone();
        return this;
    }

    /** Rows per batch tensor (default 32); a model with a fixed batch dimension sets it. */
    public JdnnInference batchSize(int rows) {
        if (rows < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + rows);
        this.batchSize = rows;
        this.batchSizeSet = true;
        return this;
    }

    /**
     * Whether a partition's last, short batch is padded with zeros to {@link #batchSize} (default true): every batch
     * then runs the one compiled plan, and a row's result is the same however the data is partitioned.
     */
    public JdnnInference padLastBatch(boolean pad) {
        this.padLastBatch = pad;
        return this;
    }

    /**
     * Whether the input column stays in the output (default true). Dropping it saves copying each sample twice more
     * (into the kept row and into Spark's output row), which counts when samples are large and only the
     * predictions are wanted downstream: Spark cannot prune a column through this operator itself.
     */
    public JdnnInference keepInputColumn(boolean keep) {
        this.keepInputColumn = keep;
        return this;
    }

    /** Adds an output or tap (any tensor name of the graph) as column {@code column}, an {@code array<float>}. */
    public JdnnInference output(String tensor, String column) {
        outputs.put(tensor, column);
        return this;
    }

    /** Adds the model's first declared output as column {@code column} (resolved when the model is read). */
    public JdnnInference firstOutputAs(String column) {
        return output(FIRST_OUTPUT, column);
    }

    /** Adds outputs or taps as columns named after them (characters other than letters, digits and _ become _). */
    public JdnnInference outputs(String... tensors) {
        for (String t : tensors) output(t, t.replaceAll("[^A-Za-z0-9_]", "_"));
        return this;
    }

    /** Adds column {@code column}: the {@code k} best classes of the model's first output (softmax scores by default). */
    public JdnnInference topK(int k, String column) {
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        this.topK = k;
        this.topKColumn = column;
        return this;
    }

    /** The tensor top-k ranks (default: the model's first output). */
    public JdnnInference topKOf(String tensor) {
        this.topKTensor = tensor;
        return this;
    }

    /** Class names by index for top-k. */
    public JdnnInference labels(List<String> names) {
        this.labels = List.copyOf(names);
        return this;
    }

    /** Class names, one per line (blank lines at the end ignored), read on the driver. */
    public JdnnInference labelsFile(String path) {
        try {
            List<String> lines = new ArrayList<>(Files.readAllLines(Path.of(path), StandardCharsets.UTF_8));
            while (!lines.isEmpty() && lines.getLast().isBlank()) lines.removeLast();
            return labels(lines);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the labels file " + path + ": " + e.getMessage(), e);
        }
    }

    /** Whether top-k scores are softmax probabilities (default) or the raw output values. */
    public JdnnInference softmax(boolean apply) {
        this.softmax = apply;
        return this;
    }

    public JdnnInference onError(OnError policy) {
        if (policy == null) throw new IllegalArgumentException("onError needs NULL or FAIL");
        this.onError = policy;
        return this;
    }

    /** oneDNN threads per task (default 0: {@code spark.task.cpus}, so concurrent tasks never oversubscribe the cores). */
    public JdnnInference threads(int perTask) {
        if (perTask < 0) throw new IllegalArgumentException("threads must be >= 0, got " + perTask);
        this.threads = perTask;
        return this;
    }

    public JdnnInference backend(Backend b) {
        if (b == null) throw new IllegalArgumentException("backend is required");
        this.backend = b;
        return this;
    }

    /** What the driver learnt from the model: everything the executors need besides the rows. */
    private record Resolved(PartitionInference job, StructType schema) {}

    /** The schema {@link #transform} returns for an input with schema {@code input}. */
    public StructType outputSchema(StructType input) {
        return resolve(input).schema();
    }

    /**
     * Adds the prediction columns to every row of {@code rows}.
     *
     * @throws IllegalArgumentException for a missing or unreadable input column, an unknown tensor name, a
     *         sample shape the model does not take, or a column name that already exists
     */
    public Dataset<Row> transform(Dataset<Row> rows) {
        if (!(rows instanceof org.apache.spark.sql.classic.Dataset<Row> classic)) {
            throw new IllegalArgumentException("jdnn runs inside Spark's executors: it needs a classic SparkSession's Dataset, not a Spark Connect "
                    + rows.getClass().getName());
        }
        Resolved resolved = resolve(rows.schema());
        // Catalyst's rows, not Row objects: float arrays stay in Spark's binary format until copied into the batch tensor.
        JavaRDD<InternalRow> internal = classic.queryExecution().toRdd().toJavaRDD();
        JavaRDD<InternalRow> scored = internal.mapPartitions(resolved.job());
        return classic.sparkSession().internalCreateDataFrame(scored.rdd(), resolved.schema(), false);
    }

    private Resolved resolve(StructType input) {
        Path localModel = Path.of(localModelPath);
        ModelFacts model = ModelFacts.of(localModel);
        Map<String, long[]> inputs = model.inputs();
        String name = modelInput;
        if (name == null) {
            if (inputs.size() != 1) throw new IllegalArgumentException("the model has inputs " + inputs.keySet() + "; choose one with modelInput(name)");
            name = inputs.keySet().iterator().next();
        }
        long[] declared = inputs.get(name);
        if (declared == null) throw new IllegalArgumentException("the model has no input '" + name + "'; its inputs are " + inputs.keySet());
        if (declared.length == 0) throw new IllegalArgumentException("input '" + name + "' is a scalar; jdnn batches along a first dimension");
        long[] sample = rowShape != null ? rowShape : Arrays.copyOfRange(declared, 1, declared.length);
        sample = checkImageShape(input, name, sample);
        for (long d : sample) {
            if (d < 1) {
                throw new IllegalArgumentException("input '" + name + "' is declared " + Arrays.toString(declared)
                        + " (-1: symbolic); give one sample's shape with rowShape(...), e.g. rowShape(3, 224, 224)");
            }
        }
        int batch = batchSize;
        if (declared[0] > 0 && declared[0] != batchSize) {
            if (batchSizeSet) {
                throw new IllegalArgumentException("input '" + name + "' has a fixed batch of " + declared[0] + ", batchSize is " + batchSize);
            }
            batch = Math.toIntExact(declared[0]);
        }
        long[] batchShape = new long[sample.length + 1];
        batchShape[0] = batch;
        System.arraycopy(sample, 0, batchShape, 1, sample.length);
        java.util.Set<String> tensors;
        try {
            tensors = ModelFacts.tensorNames(localModel, name, batchShape);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the model does not take input '" + name + "' of shape " + Arrays.toString(batchShape)
                    + ": " + e.getMessage(), e);
        }
        LinkedHashMap<String, String> columns = new LinkedHashMap<>();
        outputs.forEach((tensor, column) -> columns.put(tensor.equals(FIRST_OUTPUT) ? model.outputs().getFirst() : tensor, column));
        if (columns.isEmpty() && topK == 0) model.outputs().forEach(o -> columns.put(o, o.replaceAll("[^A-Za-z0-9_]", "_")));
        for (String tensor : columns.keySet()) {
            if (!tensors.contains(tensor)) {
                throw new IllegalArgumentException("the model has no tensor '" + tensor + "' (outputs: " + model.outputs() + "; ./jdnn names lists all)");
            }
        }
        PartitionInference.TopK top = null;
        if (topK > 0) {
            String tensor = topKTensor != null ? topKTensor : model.outputs().getFirst();
            if (!tensors.contains(tensor)) throw new IllegalArgumentException("the model has no tensor '" + tensor + "' to rank");
            top = new PartitionInference.TopK(tensor, topK, labels, softmax);
        }

        int inputOrdinal = RowInput.ordinalOf(input, inputCol);
        List<StructField> fields = new ArrayList<>(Arrays.asList(input.fields()));
        if (!keepInputColumn) fields.remove(inputOrdinal);
        int firstAdded = fields.size();
        columns.values().forEach(c -> fields.add(new StructField(c, new ArrayType(DataTypes.FloatType, false), true, Metadata.empty())));
        if (top != null) {
            StructType entry = new StructType()
                    .add("index", DataTypes.IntegerType, false)
                    .add("label", DataTypes.StringType, true)
                    .add("score", DataTypes.FloatType, false);
            fields.add(new StructField(topKColumn, new ArrayType(entry, false), true, Metadata.empty()));
        }
        if (onError == OnError.NULL) fields.add(new StructField(ERROR_COLUMN, DataTypes.StringType, true, Metadata.empty()));
        for (int i = firstAdded; i < fields.size(); i++) {
            String column = fields.get(i).name();
            for (int j = 0; j < i; j++) {
                if (fields.get(j).name().equals(column)) throw new IllegalArgumentException("column '" + column + "' already exists; choose another name");
            }
        }
        RowInput reader = RowInput.of(input, inputCol, sample, binaryInput, preprocess, name);
        PartitionInference job = new PartitionInference(modelPath, shipped, name, reader, batch, padLastBatch,
                new ArrayList<>(columns.keySet()), top, onError, backend, threads, input, keepInputColumn);
        return new Resolved(job, new StructType(fields.toArray(StructField[]::new)));
    }

    /**
     * For an image column ({@link BinaryInput#IMAGE}) whose preprocessing gives every image one shape: that shape when
     * the model's sample shape is symbolic and no rowShape was given, else a check that the two agree. Otherwise
     * {@code sample} as it is (per-row checks then catch an image that comes out in another shape).
     */
    private long[] checkImageShape(StructType input, String modelInputName, long[] sample) {
        boolean binaryColumn = input.fields()[RowInput.ordinalOf(input, inputCol)].dataType() instanceof org.apache.spark.sql.types.BinaryType;
        if (binaryInput != BinaryInput.IMAGE || !binaryColumn) return sample;   // a non-binary column is refused by RowInput.of
        long[] images = ImageBytes.fixedShape(preprocess);
        if (images == null) return sample;
        boolean symbolic = Arrays.stream(sample).anyMatch(d -> d < 1);
        if (symbolic && rowShape == null && images.length == sample.length) {
            long[] filled = sample.clone();
            for (int i = 0; i < filled.length; i++) if (filled[i] < 1) filled[i] = images[i];
            if (Arrays.equals(filled, images)) return images;
        }
        if (!Arrays.equals(images, sample)) {
            throw new IllegalArgumentException("column '" + inputCol + "' is read as images preprocessed by " + preprocess + " to "
                    + dev.jdnn.Tensor.format(images) + ", but the model's input '" + modelInputName + "' needs " + dev.jdnn.Tensor.format(sample)
                    + " per row; choose the resize and crop with imageInput(resize, size, mean, std, interpolation)");
        }
        return sample;
    }
}
