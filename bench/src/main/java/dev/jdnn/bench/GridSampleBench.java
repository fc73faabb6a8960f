package dev.jdnn.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jdnn.Backend;
import dev.jdnn.Model;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorShapeProto;
import dev.jdnn.onnx.proto.OnnxProto.TypeProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * One GridSample node (opset 16, padding zeros, align_corners 0), a spatial transformer's resampling of a
 * feature map {@code 1×C×64×64} at a {@code 1×64×64×2} grid of points in [−1.1, 1.1]: jdnn (its Java kernel,
 * one thread) against ONNX Runtime Java (one intra-op thread) on the same inputs. Run back to back with
 * {@code bench/interleaved.sh OUT.json GridSampleBench mode=bilinear,nearest,bicubic}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GridSampleBench {
    @Param({"bilinear", "nearest", "bicubic"})
    String mode;

    @Param({"64"})
    int channels;

    static final int SIDE = 64;

    Model jdnnModel;
    Session jdnn;
    Tensor x, grid, y;
    OrtEnvironment env;
    OrtSession ort;
    OnnxTensor ortX, ortGrid;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) throws IOException, OrtException {
        Random r = new Random(42);
        float[] xs = new float[channels * SIDE * SIDE], gs = new float[SIDE * SIDE * 2];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
        for (int i = 0; i < gs.length; i++) gs[i] = r.nextFloat() * 2.2f - 1.1f;
        long[] xShape = {1, channels, SIDE, SIDE}, gShape = {1, SIDE, SIDE, 2};
        byte[] model = model(xShape, gShape);
        if (params.getBenchmark().endsWith("jdnn")) {
            Path file = Files.createTempFile("gridsample", ".onnx");
            Files.write(file, model);
            jdnnModel = Model.load(file);
            Files.delete(file);
            jdnn = jdnnModel.session(new Session.Options(Backend.NATIVE, 1, Optimizations.all()));
            x = Tensor.of(xs, xShape);
            grid = Tensor.of(gs, gShape);
            y = Tensor.zeros(1, channels, SIDE, SIDE);
            return;
        }
        env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        ort = env.createSession(model, options);
        ortX = OnnxTensor.createTensor(env, FloatBuffer.wrap(xs), xShape);
        ortGrid = OnnxTensor.createTensor(env, FloatBuffer.wrap(gs), gShape);
    }

    private byte[] model(long[] xShape, long[] gShape) {
        NodeProto node = NodeProto.newBuilder().setOpType("GridSample").setName("sample").addInput("x").addInput("grid").addOutput("y")
                .addAttribute(AttributeProto.newBuilder().setName("mode").setType(AttributeProto.AttributeType.STRING)
                        .setS(com.google.protobuf.ByteString.copyFromUtf8(mode)))
                .build();
        GraphProto g = GraphProto.newBuilder().setName("gridsample").addNode(node)
                .addInput(value("x", xShape)).addInput(value("grid", gShape)).addOutput(value("y", new long[] {1, channels, SIDE, SIDE})).build();
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(16))
                .setGraph(g).build().toByteArray();
    }

    private static ValueInfoProto value(String name, long[] dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (jdnn != null) {
            jdnn.close();
            jdnnModel.close();
            x.close();
            grid.close();
            y.close();
        }
        if (ort != null) {
            ortX.close();
            ortGrid.close();
            ort.close();
        }
    }

    @Benchmark
    public float jdnn() {
        jdnn.run(Map.of("x", x, "grid", grid), Map.of("y", y));
        return y.getFlat(0);
    }

    @Benchmark
    public float onnxRuntime() throws OrtException {
        try (OrtSession.Result result = ort.run(Map.of("x", ortX, "grid", ortGrid))) {
            return ((OnnxTensor) result.get(0)).getFloatBuffer().get(0);
        }
    }
}
