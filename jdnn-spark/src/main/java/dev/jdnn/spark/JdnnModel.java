package dev.jdnn.spark;

import dev.jdnn.image.Interpolation;
import dev.jdnn.image.Normalize;
import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * {@link JdnnInference} as a Spark ML {@link Transformer}, so a jdnn model is a {@code Pipeline} stage and saves and
 * loads with the pipeline (the params are saved; the model file stays where {@code modelPath} says).
 *
 * <pre>{@code
 * JdnnModel scorer = new JdnnModel().setModelPath("/shared/resnet50.onnx").setInputCol("features")
 *         .setOutputCol("logits").setBatchSize(32).setTopK(5);
 * PipelineModel pipeline = new Pipeline().setStages(new PipelineStage[] {scorer}).fit(images);
 * }</pre>
 *
 * Params: {@code modelPath} (required), {@code inputCol} ({@code features}), {@code outputCol} ({@code prediction}:
 * the model's first output), {@code batchSize} (32), {@code topK} (0: none; else column {@code topKCol}, default
 * {@code top_k}), {@code rowShape} (empty: from the model), {@code onError} ({@code null} or {@code fail}),
 * {@code shipModel} (false: {@code modelPath} is readable by every executor; true: sent with {@code addFile}),
 * {@code binaryInput} ({@code auto}, {@code npy} or {@code image}: how a binary input column is read), and the image
 * preprocessing of {@code ./jdnn classify}: {@code imageResize} (256), {@code imageSize} (224), {@code imageMean} and
 * {@code imageStd} (ImageNet's), {@code imageInterpolation} ({@code bilinear}).
 */
public final class JdnnModel extends Transformer implements DefaultParamsWritable {
    private final String uid;
    private final Param<String> modelPath;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final IntParam batchSize;
    private final IntParam topK;
    private final Param<String> topKCol;
    private final IntArrayParam rowShape;
    private final Param<String> onError;
    private final BooleanParam shipModel;
    private final Param<String> binaryInput;
    private final IntParam imageResize;
    private final IntParam imageSize;
    private final DoubleArrayParam imageMean;
    private final DoubleArrayParam imageStd;
    private final Param<String> imageInterpolation;

    public JdnnModel() {
        this(Identifiable$.MODULE$.randomUID("jdnn"));
    }

    /** The constructor {@link DefaultParamsReader} calls when a saved pipeline is loaded. */
    public JdnnModel(String uid) {
        this.uid = uid;
        modelPath = new Param<>(this, "modelPath", "the ONNX model, a path every executor can read (or the driver's, with shipModel)");
        inputCol = new Param<>(this, "inputCol", "the input column: array<float>, binary .npy or struct<shape, data>");
        outputCol = new Param<>(this, "outputCol", "the column for the model's first output, array<float>");
        batchSize = new IntParam(this, "batchSize", "rows per batch tensor", ParamValidators.gtEq(1));
        topK = new IntParam(this, "topK", "the k best classes of the first output in topKCol (0: none)", ParamValidators.gtEq(0));
        topKCol = new Param<>(this, "topKCol", "the top-k column, array<struct<index, label, score>>");
        rowShape = new IntArrayParam(this, "rowShape", "one sample's shape (empty: from the model's input)");
        onError = new Param<>(this, "onError", "null: a bad row gets null predictions and the reason in jdnn_error; fail: the job fails",
                ParamValidators.inArray(new String[] {"null", "fail"}));
        shipModel = new BooleanParam(this, "shipModel", "send modelPath to executors with SparkContext.addFile");
        binaryInput = new Param<>(this, "binaryInput", "how a binary input column is read: auto (.npy by its magic, else an image), npy or image",
                ParamValidators.inArray(new String[] {"auto", "npy", "image"}));
        imageResize = new IntParam(this, "imageResize", "images: shorter side after the resize (./jdnn classify --resize)", ParamValidators.gtEq(1));
        imageSize = new IntParam(this, "imageSize", "images: centre crop side (./jdnn classify --size)", ParamValidators.gtEq(1));
        imageMean = new DoubleArrayParam(this, "imageMean", "images: per-channel mean after scaling to [0, 1] (./jdnn classify --mean)");
        imageStd = new DoubleArrayParam(this, "imageStd", "images: per-channel standard deviation (./jdnn classify --std)");
        imageInterpolation = new Param<>(this, "imageInterpolation", "images: the resize filter (nearest, box, bilinear, hamming, bicubic, lanczos)",
                ParamValidators.inArray(Arrays.stream(Interpolation.values()).map(i -> i.name().toLowerCase(Locale.ROOT)).toArray(String[]::new)));
        setDefault(inputCol, "features");
        setDefault(outputCol, "prediction");
        setDefault(batchSize, 32);
        setDefault(topK, 0);
        setDefault(topKCol, "top_k");
        setDefault(rowShape, new int[0]);
        setDefault(onError, "null");
        setDefault(shipModel, false);
        setDefault(binaryInput, "auto");
        setDefault(imageResize, 256);
        setDefault(imageSize, 224);
        setDefault(imageMean, toDoubles(Normalize.IMAGENET_MEAN));
        setDefault(imageStd, toDoubles(Normalize.IMAGENET_STD));
        setDefault(imageInterpolation, "bilinear");
    }

    public Param<String> modelPath() { return modelPath; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public IntParam batchSize() { return batchSize; }
    public IntParam topK() { return topK; }
    public Param<String> topKCol() { return topKCol; }
    public IntArrayParam rowShape() { return rowShape; }
    public Param<String> onError() { return onError; }
    public BooleanParam shipModel() { return shipModel; }
    public Param<String> binaryInput() { return binaryInput; }
    public IntParam imageResize() { return imageResize; }
    public IntParam imageSize() { return imageSize; }
    public DoubleArrayParam imageMean() { return imageMean; }
    public DoubleArrayParam imageStd() { return imageStd; }
    public Param<String> imageInterpolation() { return imageInterpolation; }

    public JdnnModel setModelPath(String v) { set(modelPath, v); return this; }
    public JdnnModel setInputCol(String v) { set(inputCol, v); return this; }
    public JdnnModel setOutputCol(String v) { set(outputCol, v); return this; }
    public JdnnModel setBatchSize(int v) { set(batchSize, v); return this; }
    public JdnnModel setTopK(int v) { set(topK, v); return this; }
    public JdnnModel setTopKCol(String v) { set(topKCol, v); return this; }
    public JdnnModel setRowShape(int... v) { set(rowShape, v.clone()); return this; }
    public JdnnModel setOnError(String v) { set(onError, v); return this; }
    public JdnnModel setShipModel(boolean v) { set(shipModel, v); return this; }
    public JdnnModel setBinaryInput(String v) { set(binaryInput, v); return this; }
    public JdnnModel setImageResize(int v) { set(imageResize, v); return this; }
    public JdnnModel setImageSize(int v) { set(imageSize, v); return this; }
    public JdnnModel setImageMean(double... v) { set(imageMean, v.clone()); return this; }
    public JdnnModel setImageStd(double... v) { set(imageStd, v.clone()); return this; }
    public JdnnModel setImageInterpolation(String v) { set(imageInterpolation, v); return this; }

    @Override
    public String uid() {
        return uid;
    }

    /** The equivalent {@link JdnnInference}; with {@code spark}, the model is shipped when {@code shipModel} is set. */
    JdnnInference inference(SparkSession spark) {
        if (!isDefined(modelPath)) throw new IllegalArgumentException("JdnnModel " + uid + ": set modelPath");
        String path = $(modelPath);
        JdnnInference inference = spark != null && (boolean) $(shipModel) ? JdnnInference.shipModel(spark, path) : JdnnInference.onModel(path);
        inference.inputCol($(inputCol)).batchSize(intOf(batchSize))
                .onError(JdnnInference.OnError.valueOf($(onError).toUpperCase(Locale.ROOT)))
                .firstOutputAs($(outputCol));
        int[] shape = $(rowShape);
        if (shape.length > 0) inference.rowShape(Arrays.stream(shape).asLongStream().toArray());
        if (intOf(topK) > 0) inference.topK(intOf(topK), $(topKCol));
        inference.binaryInput(JdnnInference.BinaryInput.valueOf($(binaryInput).toUpperCase(Locale.ROOT)))
                .preprocess(JdnnInference.classifyPreprocess(intOf(imageResize), intOf(imageSize), toFloats($(imageMean)), toFloats($(imageStd)),
                        Interpolation.valueOf($(imageInterpolation).toUpperCase(Locale.ROOT))));
        return inference;
    }

    /** An {@link IntParam}'s value ({@code Param<Object>} from Java: Scala's Int is erased). */
    private int intOf(IntParam param) {
        return (Integer) $(param);
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) out[i] = values[i];
        return out;
    }

    /** Back to the floats {@code ./jdnn classify} parses (a float widened to double and narrowed again is the same float). */
    private static float[] toFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (float) values[i];
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        return inference(dataset.sparkSession()).transform(dataset.toDF());
    }

    /** The input schema with the prediction columns; reads the model on the driver (shipping waits for {@link #transform}). */
    @Override
    public StructType transformSchema(StructType schema) {
        return inference(null).outputSchema(schema);
    }

    @Override
    public JdnnModel copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static MLReader<JdnnModel> read() {
        return new DefaultParamsReader<>();
    }

    public static JdnnModel load(String path) {
        return read().load(path);
    }
}
