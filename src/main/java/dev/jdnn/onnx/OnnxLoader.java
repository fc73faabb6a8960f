package dev.jdnn.onnx;

import dev.jdnn.DataType;
import dev.jdnn.graph.op.Registry;

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
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
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

    /**
     * The loaded graph plus the opset it was written for. Float initializers live in {@code weights}
     * (mapped from the file, or copied once into native memory): the caller closes the float tensors,
     * then {@code weights}.
     */
    /**
     * {@code float16Inputs}/{@code float16Outputs}: the graph inputs and outputs the model declares float16. The
     * graph itself holds them as float32 (float16 weights are widened here, float16 values are computed as float32);
     * the caller widens float16 tensors given for those inputs and narrows those outputs back to float16.
     */
    public record Loaded(Graph graph, int opset, String producer, WeightStore weights, Set<String> float16Inputs, Set<String> float16Outputs) {
        /** Closes the float initializers, then unmaps and frees the weights. */
        public void release() {
            graph.constants().values().forEach(OnnxLoader::release);
            weights.close();
        }
    }

    /**
     * Largest model file loaded (system property {@code jdnn.maxModelBytes}; default 8 GiB). The file is mapped,
     * not read onto the heap, so only the structure (weights left out) must fit protobuf's 2 GiB.
     */
    public static final long MAX_MODEL_BYTES = Long.getLong("jdnn.maxModelBytes", 8L << 30);
    /** Deepest protobuf message nesting accepted (ONNX CNNs need about 8; protobuf's default is 100). */
    public static final int MAX_NESTING = 64;

    /**
     * Maps {@code file}, parses its structure without the weight bytes ({@link ProtoSplitter}) and slices
     * every initializer from the mapping; external data files are mapped the same way.
     */
    public static Loaded load(Path file) {
        String where = file.toString();
        if (!Files.exists(file)) throw new OnnxFormatException("model file " + file + " does not exist");
        try {
            if (Files.size(file) > MAX_MODEL_BYTES) {
                throw new OnnxFormatException(file + " has " + Files.size(file) + " bytes, more than jdnn.maxModelBytes=" + MAX_MODEL_BYTES);
            }
        } catch (IOException e) {
            throw new OnnxFormatException("cannot read " + file + ": " + e.getMessage(), e);
        }
        WeightStore weights = new WeightStore();
        try {
            MemorySegment mapped = weights.map(file);
            ProtoSplitter.Split split = ProtoSplitter.split(mapped, where);
            ModelProto model;
            try {
                // The structure only (weights left out): bounded nesting, so a hostile file cannot exhaust the stack.
                com.google.protobuf.CodedInputStream coded = com.google.protobuf.CodedInputStream.newInstance(split.skeleton());
                coded.setRecursionLimit(MAX_NESTING);
                model = ModelProto.parseFrom(coded);
            } catch (IOException e) {
                throw new OnnxFormatException("cannot read " + file + " as an ONNX model: " + e.getMessage(), e);
            }
            RawData source = new RawData(weights, mapped, split.raw());
            return load(model, file.toAbsolutePath().getParent(), where, source);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /**
     * Where tensor bytes come from: {@code store} null — from the TensorProto itself (test data files),
     * copied into tensors that own their memory; else slices of mapped files held by the store.
     */
    record RawData(WeightStore store, MemorySegment modelFile, List<long[]> stripped) {
        static final RawData IN_MESSAGE = new RawData(null, null, List.of());
    }

    static Loaded load(ModelProto model, Path baseDir, String where) {
        return load(model, baseDir, where, new RawData(new WeightStore(), null, List.of()));
    }

    private static Loaded load(ModelProto model, Path baseDir, String where, RawData source) {
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
            for (TensorProto t : g.getInitializerList()) constants.put(t.getName(), tensor(t, baseDir, where, source));
            Map<String, long[]> inputs = new LinkedHashMap<>();
            Map<String, DataType> inputTypes = new LinkedHashMap<>();
            Set<String> float16Inputs = new java.util.LinkedHashSet<>();
            for (ValueInfoProto v : g.getInputList()) {
                if (constants.containsKey(v.getName())) continue;
                int elemType = v.getType().getTensorType().getElemType();
                DataType dtype = DataType.fromOnnx(elemType);
                if (dtype == null) {
                    throw new OnnxFormatException(where + ": input " + v.getName() + " has element type " + dataTypeName(elemType)
                            + ", which is not supported; jdnn's model inputs are float32, float16, int64, int32, int8, uint8 or bool");
                }
                inputs.put(v.getName(), shape(v.getType().getTensorType().getShape()));
                if (dtype == DataType.FLOAT16) float16Inputs.add(v.getName());
                inputTypes.put(v.getName(), dtype.computed());   // the graph computes a float16 input as float32
            }
            List<String> outputs = g.getOutputList().stream().map(ValueInfoProto::getName).toList();
            Set<String> float16Outputs = new java.util.LinkedHashSet<>();
            for (ValueInfoProto v : g.getOutputList()) {
                if (v.getType().getTensorType().getElemType() == TensorProto.DataType.FLOAT16_VALUE) float16Outputs.add(v.getName());
            }
            List<Node> nodes = new ArrayList<>();
            // Subgraphs (If's branches) are read there, and their outer-scope references become the node's trailing inputs.
            for (NodeProto n : g.getNodeList()) nodes.add(Subgraphs.node(n, baseDir, where, source, 0));
            Graph graph = new Graph(inputs, outputs, topologicalOrder(nodes, inputs.keySet(), constants.keySet(), where), constants, inputTypes);
            return new Loaded(graph, opset, model.getProducerName() + " " + model.getProducerVersion(), source.store(),
                    Set.copyOf(float16Inputs), Set.copyOf(float16Outputs));
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

    /** {@code depth}: how many graphs enclose {@code n}'s (0 for the model's graph). */
    static Attributes attributes(NodeProto n, Path baseDir, String where, RawData source, int depth) {
        Map<String, Object> values = new HashMap<>();
        for (AttributeProto a : n.getAttributeList()) {
            Object v = switch (a.getType()) {
                case FLOAT -> a.getF();
                case INT -> a.getI();
                case STRING -> a.getS().toStringUtf8();
                case FLOATS -> toArray(a.getFloatsList());
                case INTS -> a.getIntsList().stream().mapToLong(Long::longValue).toArray();
                case STRINGS -> a.getStringsList().stream().map(com.google.protobuf.ByteString::toStringUtf8).toArray(String[]::new);
                case TENSOR -> tensor(a.getT(), baseDir, where, source);
                case GRAPH -> Subgraphs.parse(a.getG(), a.getName(), baseDir, where, source, depth + 1);
                default -> null; // lists of graphs, sparse tensors...: kept out; ops that need them are unsupported
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

    /**
     * A TensorProto as a value: float32 into an off-heap tensor owned by the caller, float16 widened (exactly)
     * into a float32 tensor owned by the caller, the integer types and bool into longs.
     */
    public static Value tensor(TensorProto t, Path baseDir, String where) {
        return tensor(t, baseDir, where, RawData.IN_MESSAGE);
    }

    static Value tensor(TensorProto t, Path baseDir, String where, RawData source) {
        long[] shape = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        long count = 1;
        for (long d : shape) {
            if (d < 0) throw new OnnxFormatException(where + ": tensor " + t.getName() + " has a negative dimension");
            if (d != 0 && count > (Integer.MAX_VALUE - 8) / d) throw new OnnxFormatException(where + ": tensor " + t.getName() + " " + shape.length + "-D shape " + t.getDimsList() + " has more elements than one tensor holds");
            count *= d;
        }
        if (source.store() == null) {
            // A message read on its own (test data): its bytes are on the heap already; external data is read once.
            try (WeightStore scratch = new WeightStore()) {
                return tensor(t, shape, count, rawBytes(t, baseDir, where, new RawData(scratch, null, List.of())), where, null);
            }
        }
        return tensor(t, shape, count, rawBytes(t, baseDir, where, source), where, source.store());
    }

    /** {@code raw}: the tensor's little-endian bytes (null: typed fields); {@code store} null: float data into a tensor the caller owns. */
    private static Value tensor(TensorProto t, long[] shape, long count, MemorySegment raw, String where, WeightStore store) {
        int type = t.getDataType();
        // Every element takes at least one byte or one typed entry: refuse a shape the data cannot fill before allocating for it.
        long available = raw != null ? raw.byteSize() : (long) t.getFloatDataCount() + t.getInt32DataCount() + t.getInt64DataCount();
        if (count > available) throw new OnnxFormatException(where + ": tensor " + t.getName() + " of shape " + t.getDimsList() + " has data for at most " + available + " elements");
        if (type == TensorProto.DataType.FLOAT_VALUE) {
            if (raw != null) {
                requireBytes(t, raw, count * 4, where);
                if (store != null) return new Value.Floats(store.floats(raw, shape));
                Tensor owned = Tensor.zeros(shape);
                MemorySegment.copy(raw, LITTLE_FLOAT, 0, owned.segment(), ValueLayout.JAVA_FLOAT, 0, count);
                return new Value.Floats(owned);
            }
            if (t.getFloatDataCount() != count) throw countMismatch(t, t.getFloatDataCount(), count, where);
            Tensor owned = Tensor.zeros(shape);
            for (int i = 0; i < count; i++) owned.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, t.getFloatData(i));
            return new Value.Floats(owned);
        }
        if (type == TensorProto.DataType.FLOAT16_VALUE) return new Value.Floats(widenedFloat16(t, shape, count, raw, where, store));
        DataType dtype = DataType.fromOnnx(type);
        if (dtype != null) {
            if (count > Integer.MAX_VALUE - 8) throw new OnnxFormatException(where + ": tensor " + t.getName() + " has " + count + " elements, too many");
            long[] data = new long[(int) count];
            if (raw != null) {
                requireBytes(t, raw, count * dtype.bytes(), where);
                for (int i = 0; i < data.length; i++) {
                    data[i] = switch (dtype) {
                        case INT64 -> raw.getAtIndex(LITTLE_LONG, i);
                        case INT32 -> raw.getAtIndex(LITTLE_INT, i);
                        case INT8 -> raw.get(ValueLayout.JAVA_BYTE, i);
                        default -> raw.get(ValueLayout.JAVA_BYTE, i) & 0xFF;  // uint8, bool
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
                + ", which is not supported; jdnn supports float32, float16 (computed as float32), int64, int32, int8, uint8 and bool tensors");
    }

    /**
     * A float16 tensor's values widened to a new float32 tensor (float16 → float32 is exact): from raw bytes
     * (2 per element, little-endian) or from int32_data, where ONNX keeps each float16's 16 bits in one entry.
     * {@code store} null: a tensor the caller owns; else memory the store owns (and counts as copied weights).
     */
    private static Tensor widenedFloat16(TensorProto t, long[] shape, long count, MemorySegment raw, String where, WeightStore store) {
        if (raw != null) requireBytes(t, raw, count * 2, where);
        else if (t.getInt32DataCount() != count) throw countMismatch(t, t.getInt32DataCount(), count, where);
        java.util.function.Consumer<MemorySegment> widen = into -> {
            for (int i = 0; i < count; i++) {
                short bits = raw != null ? raw.getAtIndex(LITTLE_SHORT, i) : (short) t.getInt32Data(i);
                into.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.float16ToFloat(bits));
            }
        };
        if (store != null) return store.widened(shape, count, widen);
        Tensor owned = Tensor.zeros(shape);
        widen.accept(owned.segment());
        return owned;
    }

    private static final ValueLayout.OfFloat LITTLE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LITTLE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LITTLE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LITTLE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * The tensor's raw bytes, null when it uses the typed fields: a slice of the mapped model file (raw_data
     * the {@link ProtoSplitter} left out), of a mapped external data file, or raw_data still in the message.
     */
    private static MemorySegment rawBytes(TensorProto t, Path baseDir, String where, RawData source) {
        for (StringStringEntryProto e : t.getExternalDataList()) {
            if (!e.getKey().equals(ProtoSplitter.RAW_KEY) || source.modelFile() == null) continue;
            int index = Integer.parseInt(e.getValue());
            if (index < 0 || index >= source.stripped().size()) throw new OnnxFormatException(where + ": tensor " + t.getName() + " has a bad " + ProtoSplitter.RAW_KEY + " entry");
            long[] at = source.stripped().get(index);
            return source.modelFile().asSlice(at[0], at[1]);
        }
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) return external(t, baseDir, where, source.store());
        return t.hasRawData() ? MemorySegment.ofBuffer(t.getRawData().asReadOnlyByteBuffer()) : null;
    }

    /** The slice of the mapped external data file that ONNX's location/offset/length name, checked to lie inside the file. */
    private static MemorySegment external(TensorProto t, Path baseDir, String where, WeightStore store) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            try {
                switch (e.getKey()) {
                    case "location" -> location = e.getValue();
                    case "offset" -> offset = Long.parseLong(e.getValue());
                    case "length" -> length = Long.parseLong(e.getValue());
                    default -> { }
                }
            } catch (NumberFormatException bad) {
                throw new OnnxFormatException(where + ": external data " + e.getKey() + " of tensor " + t.getName() + " is not a number: '" + e.getValue() + "'");
            }
        }
        if (location == null) throw new OnnxFormatException(where + ": tensor " + t.getName() + " is external but names no location");
        Path file = baseDir.resolve(location).normalize();
        if (!file.startsWith(baseDir)) {
            throw new OnnxFormatException(where + ": external data " + location + " of tensor " + t.getName() + " is outside the model's directory");
        }
        if (!Files.isRegularFile(file)) {
            throw new OnnxFormatException(where + ": external data " + file + " of tensor " + t.getName() + " does not exist");
        }
        MemorySegment mapped = store.map(file);
        long fileSize = mapped.byteSize();
        long size = length >= 0 ? length : fileSize - offset;
        if (offset < 0 || size < 0 || offset > fileSize || size > fileSize - offset) {
            throw new OnnxFormatException(where + ": external data of " + t.getName() + " (offset " + offset + ", length " + size
                    + ") does not fit in " + file + " (" + fileSize + " bytes)");
        }
        return mapped.asSlice(offset, size);
    }

    private static void requireBytes(TensorProto t, MemorySegment raw, long bytes, String where) {
        if (raw.byteSize() != bytes) {
            throw new OnnxFormatException(where + ": tensor " + t.getName() + " of shape " + t.getDimsList() + " needs " + bytes
                    + " bytes of data, has " + raw.byteSize());
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
