package dev.jdnn.fuzz;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Model;
import dev.jdnn.Npy;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.DnnlException;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.onnx.OnnxFormatException;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorShapeProto;
import dev.jdnn.onnx.proto.OnnxProto.TypeProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The three fuzz targets and what counts as a finding. An input passes when it loads and runs, or ends
 * in a jdnn exception: {@link OnnxFormatException}, {@link DnnlException}, {@link Npy.NpyFormatException},
 * or an {@link IllegalArgumentException} / {@link IllegalStateException} / {@link UnsupportedOperationException}
 * thrown by jdnn's own code. Anything else (NullPointerException, ArithmeticException, an index out of
 * bounds, an IllegalArgumentException from inside the JDK, OutOfMemoryError, ...) is a {@link Finding}.
 * A JVM crash ends the campaign process, which {@code bench/fuzz.sh} reports.
 */
public final class FuzzTargets implements AutoCloseable {
    public enum Target { ONNX, ATTRIBUTES, NPY }

    /** An input that ended in something other than a jdnn exception. */
    public static final class Finding extends RuntimeException {
        Finding(Throwable cause) {
            super(cause.toString(), cause);
        }
    }

    /** Models whose inputs would exceed this many elements are loaded and prepared but not run. */
    static final long MAX_INPUT_ELEMENTS = 1 << 16;

    static final Path FIXTURES = Path.of("src/test/resources/fixtures");

    private final Path scratch;
    private final List<ModelProto> onnxSeeds;
    private final List<byte[]> npySeeds;

    public FuzzTargets() {
        try {
            scratch = Files.createTempDirectory(Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir")), "jdnn-fuzz");
            onnxSeeds = new ArrayList<>();
            for (Path p : files(".onnx", 256 * 1024)) onnxSeeds.add(ModelProto.parseFrom(Files.readAllBytes(p)));
            npySeeds = new ArrayList<>();
            for (Path p : files(".npy", 64 * 1024)) npySeeds.add(Files.readAllBytes(p));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The committed fixtures (ONNX models, .npy arrays) up to {@code maxBytes}, in a stable order. */
    private static List<Path> files(String suffix, long maxBytes) throws IOException {
        try (Stream<Path> s = Files.walk(FIXTURES)) {
            return s.filter(p -> p.toString().endsWith(suffix)).filter(p -> p.toFile().length() <= maxBytes).sorted().toList();
        }
    }

    public int onnxSeedCount() {
        return onnxSeeds.size();
    }

    /** The next input for {@code target}: a mutated fixture, or a generated one-node model. */
    public byte[] next(Target target, Mutator m) {
        return switch (target) {
            case ONNX -> m.mutateModel(m.pick(onnxSeeds));
            case ATTRIBUTES -> oneNodeModel(m);
            case NPY -> m.mutateBytes(m.pick(npySeeds));
        };
    }

    /**
     * Runs one input: true if it loaded and ran, false if jdnn refused it with one of its exceptions;
     * throws {@link Finding} if it ended in anything else.
     */
    public boolean run(Target target, byte[] input) {
        try {
            if (target == Target.NPY) npy(input);
            else onnx(input);
            return true;
        } catch (Throwable t) {
            if (!isJdnnException(t)) throw new Finding(t);
            return false;
        }
    }

    public static boolean isJdnnException(Throwable t) {
        if (t instanceof OnnxFormatException || t instanceof DnnlException || t instanceof Npy.NpyFormatException) return true;
        boolean expectedType = t instanceof IllegalArgumentException || t instanceof IllegalStateException || t instanceof UnsupportedOperationException;
        StackTraceElement[] trace = t.getStackTrace();
        return expectedType && trace.length > 0 && trace[0].getClassName().startsWith("dev.jdnn.");
    }

    private void npy(byte[] bytes) throws IOException {
        Path file = scratch.resolve("input.npy");
        Files.write(file, bytes);
        try (Tensor t = Npy.read(file, 1 << 24)) {
            t.elementCount();
        }
    }

    private static final List<Session.Options> CONFIGS = List.of(
            Session.Options.defaults().withBackend(Backend.JAVA).withOptimizations(Optimizations.none()),
            Session.Options.defaults().withBackend(Backend.NATIVE).withOptimizations(Optimizations.all()).withThreads(1));

    private void onnx(byte[] bytes) throws IOException {
        Path file = scratch.resolve("model.onnx");
        Files.write(file, bytes);
        try (Model model = Model.load(file)) {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            long total = 0;
            for (Map.Entry<String, long[]> e : model.inputs().entrySet()) {
                long[] s = e.getValue().clone();
                long n = 1;
                for (int i = 0; i < s.length; i++) {
                    if (s[i] < 0) s[i] = 1;
                    n = s[i] == 0 ? 0 : (n > MAX_INPUT_ELEMENTS / s[i] ? MAX_INPUT_ELEMENTS + 1 : n * s[i]);
                }
                total += n;
                shapes.put(e.getKey(), s);
            }
            if (total > MAX_INPUT_ELEMENTS) return;
            for (Session.Options options : CONFIGS) {
                Map<String, Tensor> inputs = new LinkedHashMap<>();
                try (Session session = model.session(options.withLimits(FUZZ_LIMITS))) {
                    model.inputTypes().forEach((name, type) -> inputs.put(name, filled(type, shapes.get(name))));
                    session.run(inputs).close();
                } finally {
                    inputs.values().forEach(Tensor::close);
                }
            }
        }
    }

    /** What a fuzzed session may use: enough for the tiny models, far below the machine. */
    static final dev.jdnn.Limits FUZZ_LIMITS = dev.jdnn.Limits.defaults().withMaxTensorBytes(64L << 20).withMaxActivationBytes(256L << 20);

    /** A tensor of small varied values (floats in [-2, 2] with a NaN-free ramp, integers 0..3). */
    private static Tensor filled(DataType type, long[] shape) {
        Tensor t = Tensor.zeros(type, shape);
        for (long i = 0; i < t.elementCount(); i++) {
            if (type.isFloat()) t.setFlat(i, (i % 17) / 4f - 2f);
        }
        return t;
    }

    /** A one-node model of a random registered op, random small inputs and random attributes. */
    byte[] oneNodeModel(Mutator m) {
        String op = m.pick(Mutator.Attributes.OPS);
        int rank = m.chance(3) ? m.nextInt(1, 6) : 4;
        long[] x = new long[rank];
        for (int i = 0; i < rank; i++) x[i] = m.nextInt(1, 6);
        GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x", 1, x));
        List<String> inputs = new ArrayList<>(List.of("x"));
        int extra = m.nextInt(4);
        for (int k = 0; k < extra; k++) {
            String name = "in" + k;
            switch (m.nextInt(4)) {
                case 0 -> inputs.add("x");
                case 1 -> { // float weights: per channel or a conv-like kernel
                    long[] dims = m.chance(2) ? new long[] {rank > 1 ? x[1] : x[0]} : new long[] {m.nextInt(1, 5), rank > 1 ? x[1] : 1, m.nextInt(1, 4), m.nextInt(1, 4)};
                    g.addInitializer(floats(name, dims, m));
                    inputs.add(name);
                }
                case 2 -> { // int64: axes, shapes, pads, repeats, k, indices
                    int n = m.nextInt(0, 2 * rank + 1);
                    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(7).addDims(n);
                    for (int i = 0; i < n; i++) t.addInt64Data(m.chance(3) ? m.interesting() : m.nextInt(-2, 5));
                    g.addInitializer(t);
                    inputs.add(name);
                }
                default -> inputs.add(m.chance(3) ? "" : "x");
            }
        }
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName("fuzz_node").addAllInput(inputs).addOutput("y");
        if (m.chance(4)) node.addOutput("y2");
        int attributes = m.nextInt(5);
        for (int i = 0; i < attributes; i++) node.addAttribute(Mutator.Attributes.random(m, m.pick(Mutator.Attributes.NAMES)));
        g.addNode(node).addOutput(ValueInfoProto.newBuilder().setName("y"));
        int opset = m.chance(4) ? m.nextInt(7, 23) : m.pick(List.of(11, 13, 17, 18));
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(g).build().toByteArray();
    }

    private static ValueInfoProto value(String name, int elemType, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    private static TensorProto floats(String name, long[] dims, Mutator m) {
        long n = 1;
        for (long d : dims) n *= d;
        ByteBuffer b = ByteBuffer.allocate((int) n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat(m.chance(50) ? Float.NaN : m.nextInt(-8, 9) / 4f);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).setRawData(com.google.protobuf.ByteString.copyFrom(b.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> s = Files.list(scratch)) {
            for (Path p : s.toList()) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(scratch);
    }
}
