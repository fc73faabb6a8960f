package dev.jdnn.onnx;

import dev.jdnn.DataType;
import dev.jdnn.graph.op.Registry;

import com.google.protobuf.ByteString;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.jdnn.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorShapeProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an ONNX model ({@code ModelProto}) into a {@link Graph}: initializers from raw or typed
 * fields, or from external data files next to the model; attributes; declared input shapes. Checks the
 * default-domain opset ({@value #MIN_OPSET}..{@value #MAX_OPSET}) and that nodes can be ordered.
 * Which operators are supported is the runtime's check, not the loader's.
 */
public final class OnnxLoader {
    public static final int MIN_OPSET = Registry.MIN_OPSET;
    public static final int MAX_OPSET = Registry.MAX_OPSET;

    private OnnxLoader() {}

    /** The loaded graph plus the opset it was written for; float initializers are owned by the caller (close them). */
    public record Loaded(Graph graph, int opset, String producer) {}

    /** Largest model file read (system property {@code jdnn.maxModelBytes}; default 2 GiB, protobuf's own limit). */
    public static final long MAX_MODEL_BYTES = Long.getLong("jdnn.maxModelBytes", Integer.MAX_VALUE);
    /** Deepest protobuf message nesting accepted (ONNX CNNs need about 8; protobuf's default is 100). */
    public static final int MAX_NESTING = 64;

    public static Loaded load(Path file) {
        ModelProto model;
        try (InputStream in = Files.newInputStream(file)) {
            if (Files.size(file) > MAX_MODEL_BYTES) throw new OnnxFormatException(file + " has " + Files.size(file) + " bytes, more than jdnn.maxModelBytes=" + MAX_MODEL_BYTES);
            com.google.protobuf.CodedInputStream coded = com.google.protobuf.CodedInputStream.newInstance(in);
            coded.setRecursionLimit(MAX_NESTING);
            coded.setSizeLimit(Integer.MAX_VALUE);
            model = ModelProto.parseFrom(coded);
        } catch (NoSuchFileException e) {
            throw new OnnxFormatException("model file " + file + " does not exist");
        } catch (IOException e) {
            throw new OnnxFormatException("cannot read " + file + " as an ONNX model: " + e.getMessage(), e);
        }
        return load(model, file.toAbsolutePath().getParent(), file.toString());
    }

    static Loaded load(ModelProto model, Path baseDir, String where) {
        if (!model.hasGraph()) throw new OnnxFormatException(where + " has no graph (is it an ONNX model?)");
        int opset = -1;
        for (OperatorSetIdProto id : model.getOpsetImportList()) {
            String domain = id.getDomain();
            if (domain.isEmpty() || domain.equals("ai.onnx")) {
                opset = (int) id.getVersion();
            }
        }
        if (opset < 0 && model.getOpsetImportCount() == 0) opset = 1;
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new OnnxFormatException(where + " uses ONNX opset " + opset + "; jdnn supports opsets " + MIN_OPSET + " to " + MAX_OPSET
                    + " of the default domain");
        }
        GraphProto g = model.getGraph();
        Map<String, Value> constants = new LinkedHashMap<>();
        try {
            for (TensorProto t : g.getInitializerList()) constants.put(t.getName(), tensor(t, baseDir, where));
            Map<String, long[]> inputs = new LinkedHashMap<>();
            Map<String, DataType> inputTypes = new LinkedHashMap<>();
            for (ValueInfoProto v : g.getInputList()) {
                if (constants.containsKey(v.getName())) continue;
                int elemType = v.getType().getTensorType().getElemType();
                DataType dtype = DataType.fromOnnx(elemType);
                if (dtype == null) {
                    throw new OnnxFormatException(where + ": input " + v.getName() + " has element type " + dataTypeName(elemType)
                            + ", which is not supported; jdnn's model inputs are float32, int64, int32, int8, uint8 or bool");
                }
                inputs.put(v.getName(), shape(v.getType().getTensorType().getShape()));
                inputTypes.put(v.getName(), dtype);
            }
            List<String> outputs = g.getOutputList().stream().map(ValueInfoProto::getName).toList();
            List<Node> nodes = new ArrayList<>();
            for (NodeProto n : g.getNodeList()) {
                if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
                    throw new OnnxFormatException(where + ": node " + n.getName() + " (" + n.getOpType() + ") is in domain "
                            + n.getDomain() + "; jdnn runs the default ONNX domain only");
                }
                nodes.add(new Node(n.getName(), n.getOpType(), n.getInputList(), n.getOutputList(), attributes(n, baseDir, where)));
            }
            Graph graph = new Graph(inputs, outputs, topologicalOrder(nodes, inputs.keySet(), constants.keySet(), where), constants, inputTypes);
            return new Loaded(graph, opset, model.getProducerName() + " " + model.getProducerVersion());
        } catch (RuntimeException e) {
            constants.values().forEach(OnnxLoader::release);
            throw e;
        }
    }

    /** Frees a value's native memory, if it has any. */
    public static void release(Value v) {
        if (v instanceof Value.Floats f) f.tensor().close();
    }

    static long[] shape(TensorShapeProto shape) {
        long[] dims = new long[shape.getDimCount()];
        for (int i = 0; i < dims.length; i++) {
            TensorShapeProto.Dimension d = shape.getDim(i);
            dims[i] = d.hasDimValue() ? d.getDimValue() : -1; // symbolic (dim_param) or unknown
        }
        return dims;
    }

    /** Kahn's algorithm, stable: ONNX requires sorted nodes, but exporters are not always careful. */
    static List<Node> topologicalOrder(List<Node> nodes, Set<String> inputs, Set<String> constants, String where) {
        Set<String> available = new HashSet<>(inputs);
        available.addAll(constants);
        available.add("");
        List<Node> ordered = new ArrayList<>(nodes.size());
        Deque<Node> pending = new ArrayDeque<>(nodes);
        boolean progress = true;
        while (!pending.isEmpty() && progress) {
            progress = false;
            for (int i = pending.size(); i > 0; i--) {
                Node n = pending.pollFirst();
                if (available.containsAll(n.inputs())) {
                    ordered.add(n);
                    available.addAll(n.outputs());
                    progress = true;
                } else {
                    pending.addLast(n);
                }
            }
        }
        if (!pending.isEmpty()) {
            Node n = pending.peekFirst();
            List<String> missing = n.inputs().stream().filter(s -> !available.contains(s)).toList();
            throw new OnnxFormatException(where + ": node " + n.label() + " (" + n.opType() + ") needs " + missing
                    + ", which no input, initializer or node provides (or the graph has a cycle)");
        }
        return ordered;
    }

    static Attributes attributes(NodeProto n, Path baseDir, String where) {
        Map<String, Object> values = new HashMap<>();
        for (AttributeProto a : n.getAttributeList()) {
            Object v = switch (a.getType()) {
                case FLOAT -> a.getF();
                case INT -> a.getI();
                case STRING -> a.getS().toStringUtf8();
                case FLOATS -> toArray(a.getFloatsList());
                case INTS -> a.getIntsList().stream().mapToLong(Long::longValue).toArray();
                case TENSOR -> tensor(a.getT(), baseDir, where);
                default -> null; // graphs, sparse tensors...: kept out; ops that need them are unsupported
            };
            if (v != null) values.put(a.getName(), v);
        }
        return new Attributes(values);
    }

    private static float[] toArray(List<Float> list) {
        float[] a = new float[list.size()];
        for (int i = 0; i < a.length; i++) a[i] = list.get(i);
        return a;
    }

    /** A TensorProto as a value: float32 into an off-heap tensor, int64/int32 into longs. */
    public static Value tensor(TensorProto t, Path baseDir, String where) {
        long[] shape = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        long count = 1;
        for (long d : shape) {
            if (d < 0) throw new OnnxFormatException(where + ": tensor " + t.getName() + " has a negative dimension");
            if (d != 0 && count > (Integer.MAX_VALUE - 8) / d) throw new OnnxFormatException(where + ": tensor " + t.getName() + " " + shape.length + "-D shape " + t.getDimsList() + " has more elements than one tensor holds");
            count *= d;
        }
        ByteString raw = t.hasRawData() ? t.getRawData() : null;
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) raw = external(t, baseDir, where);
        int type = t.getDataType();
        // Every element takes at least one byte or one typed entry: refuse a shape the data cannot fill before allocating for it.
        long available = raw != null ? raw.size() : (long) t.getFloatDataCount() + t.getInt32DataCount() + t.getInt64DataCount();
        if (count > available) throw new OnnxFormatException(where + ": tensor " + t.getName() + " of shape " + t.getDimsList() + " has data for at most " + available + " elements");
        if (type == TensorProto.DataType.FLOAT_VALUE) {
            float[] data = new float[(int) count];
            if (raw != null) {
                requireBytes(t, raw, count * 4, where);
                raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
            } else {
                if (t.getFloatDataCount() != count) throw countMismatch(t, t.getFloatDataCount(), count, where);
                for (int i = 0; i < data.length; i++) data[i] = t.getFloatData(i);
            }
            return new Value.Floats(Tensor.of(data, shape));
        }
        DataType dtype = DataType.fromOnnx(type);
        if (dtype != null) {
            if (count > Integer.MAX_VALUE - 8) throw new OnnxFormatException(where + ": tensor " + t.getName() + " has " + count + " elements, too many");
            long[] data = new long[(int) count];
            if (raw != null) {
                requireBytes(t, raw, count * dtype.bytes(), where);
                ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < data.length; i++) {
                    data[i] = switch (dtype) {
                        case INT64 -> b.getLong();
                        case INT32 -> b.getInt();
                        case INT8 -> b.get();
                        default -> b.get() & 0xFF;  // uint8, bool
                    };
                }
            } else if (dtype == DataType.INT64) {
                if (t.getInt64DataCount() != count) throw countMismatch(t, t.getInt64DataCount(), count, where);
                for (int i = 0; i < data.length; i++) data[i] = t.getInt64Data(i);
            } else {
                // int32, int8, uint8 and bool are all stored in int32_data
                if (t.getInt32DataCount() != count) throw countMismatch(t, t.getInt32DataCount(), count, where);
                for (int i = 0; i < data.length; i++) data[i] = t.getInt32Data(i);
            }
            return new Value.Longs(dtype, shape, data);
        }
        throw new OnnxFormatException(where + ": tensor " + t.getName() + " has element type " + dataTypeName(type)
                + ", which is not supported; jdnn supports float32, int64, int32, int8, uint8 and bool tensors");
    }

    private static ByteString external(TensorProto t, Path baseDir, String where) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = Long.parseLong(e.getValue());
                case "length" -> length = Long.parseLong(e.getValue());
                default -> { }
            }
        }
        if (location == null) throw new OnnxFormatException(where + ": tensor " + t.getName() + " is external but names no location");
        Path file = baseDir.resolve(location).normalize();
        if (!file.startsWith(baseDir)) {
            throw new OnnxFormatException(where + ": external data " + location + " of tensor " + t.getName() + " is outside the model's directory");
        }
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long size = length >= 0 ? length : f.length() - offset;
            if (offset < 0 || size < 0 || offset + size > f.length() || size > Integer.MAX_VALUE) {
                throw new OnnxFormatException(where + ": external data of " + t.getName() + " (offset " + offset + ", length " + size
                        + ") does not fit in " + file + " (" + f.length() + " bytes)");
            }
            byte[] bytes = new byte[(int) size];
            f.seek(offset);
            f.readFully(bytes);
            return ByteString.copyFrom(bytes);
        } catch (IOException e) {
            throw new OnnxFormatException(where + ": cannot read external data " + file + " of tensor " + t.getName() + ": " + e.getMessage(), e);
        }
    }

    private static void requireBytes(TensorProto t, ByteString raw, long bytes, String where) {
        if (raw.size() != bytes) {
            throw new OnnxFormatException(where + ": tensor " + t.getName() + " of shape " + t.getDimsList() + " needs " + bytes
                    + " bytes of data, has " + raw.size());
        }
    }

    private static OnnxFormatException countMismatch(TensorProto t, long have, long want, String where) {
        return new OnnxFormatException(where + ": tensor " + t.getName() + " of shape " + t.getDimsList() + " needs " + want
                + " values, has " + have);
    }

    static String dataTypeName(int type) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(type);
        return t == null ? "type " + type : t.name().toLowerCase();
    }
}
