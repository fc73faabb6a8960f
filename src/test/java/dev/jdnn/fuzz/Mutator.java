package dev.jdnn.fuzz;

import com.google.protobuf.ByteString;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorShapeProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded mutator for the fuzz targets: byte-level mutations (bit flips, interesting values, chunk
 * insert/delete/duplicate, truncation) for any format, and structure-aware ones for ONNX (parse, change
 * a dim, an attribute, a data type, an op type, an input name, raw data, then serialise) so mutants get
 * past the protobuf parser and into the loader, the shape checks and the kernels. Same seed, same inputs.
 */
public final class Mutator {
    /** Values at the edges of the ranges ops care about. */
    static final long[] INTERESTING = {0, 1, -1, 2, 3, -2, 7, 8, 64, 127, 128, 255, 256, 1023, 65535, 65536, Integer.MAX_VALUE,
            Integer.MIN_VALUE, (long) Integer.MAX_VALUE + 1, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE / 2};

    private final SplittableRandom random;

    public Mutator(long seed) {
        random = new SplittableRandom(seed);
    }

    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    /** In [from, to). */
    public int nextInt(int from, int to) {
        return random.nextInt(from, to);
    }

    public boolean chance(int oneIn) {
        return random.nextInt(oneIn) == 0;
    }

    public long interesting() {
        return chance(3) ? random.nextInt(-4, 12) : INTERESTING[random.nextInt(INTERESTING.length)];
    }

    public <T> T pick(List<T> items) {
        return items.get(random.nextInt(items.size()));
    }

    /** 1 to 4 byte-level mutations of {@code in}. */
    public byte[] mutateBytes(byte[] in) {
        byte[] b = in;
        int n = 1 + random.nextInt(4);
        for (int k = 0; k < n; k++) b = mutateOnce(b);
        return b;
    }

    private byte[] mutateOnce(byte[] b) {
        if (b.length == 0) return new byte[] {(byte) random.nextInt(256)};
        int at = random.nextInt(b.length);
        switch (random.nextInt(8)) {
            case 0 -> { b = b.clone(); b[at] ^= (byte) (1 << random.nextInt(8)); }
            case 1 -> { b = b.clone(); b[at] = (byte) interesting(); }
            case 2 -> { // little-endian 4 or 8 byte interesting value
                b = b.clone();
                long v = interesting();
                int width = chance(2) ? 4 : 8;
                for (int i = 0; i < width && at + i < b.length; i++) b[at + i] = (byte) (v >>> (8 * i));
            }
            case 3 -> b = Arrays.copyOf(b, random.nextInt(b.length)); // truncate
            case 4 -> { // delete a chunk
                int len = Math.min(b.length - at, 1 + random.nextInt(16));
                byte[] out = new byte[b.length - len];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, at + len, out, at, b.length - at - len);
                b = out;
            }
            case 5 -> { // duplicate a chunk in place
                int len = Math.min(b.length - at, 1 + random.nextInt(32));
                byte[] out = new byte[b.length + len];
                System.arraycopy(b, 0, out, 0, at + len);
                System.arraycopy(b, at, out, at + len, b.length - at);
                b = out;
            }
            case 6 -> { // insert random bytes
                int len = 1 + random.nextInt(8);
                byte[] out = new byte[b.length + len];
                System.arraycopy(b, 0, out, 0, at);
                for (int i = 0; i < len; i++) out[at + i] = (byte) random.nextInt(256);
                System.arraycopy(b, at, out, at + len, b.length - at);
                b = out;
            }
            default -> { // ASCII digit tweak (npy headers, strings)
                b = b.clone();
                if (b[at] >= '0' && b[at] <= '9') b[at] = (byte) ('0' + random.nextInt(10));
                else b[at] = (byte) "0123456789-,() L'".charAt(random.nextInt(17));
            }
        }
        return b;
    }

    /** A structure-aware mutation of a valid model (1 to 3 field changes), serialised. */
    public byte[] mutateModel(ModelProto model) {
        ModelProto.Builder m = model.toBuilder();
        int n = 1 + random.nextInt(3);
        for (int k = 0; k < n; k++) mutateGraph(m);
        byte[] bytes = m.build().toByteArray();
        return chance(4) ? mutateBytes(bytes) : bytes;
    }

    private void mutateGraph(ModelProto.Builder m) {
        GraphProto.Builder g = m.getGraphBuilder();
        switch (random.nextInt(9)) {
            case 0 -> { // an input dim
                if (g.getInputCount() == 0) return;
                ValueInfoProto.Builder in = g.getInputBuilder(random.nextInt(g.getInputCount()));
                TensorShapeProto.Builder shape = in.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
                if (shape.getDimCount() == 0 || chance(5)) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(random.nextInt(1, 5)));
                else if (chance(5)) shape.removeDim(random.nextInt(shape.getDimCount()));
                else shape.getDimBuilder(random.nextInt(shape.getDimCount())).setDimValue(chance(2) ? random.nextInt(0, 9) : interesting());
            }
            case 1, 2 -> { // an attribute value
                NodeProto.Builder node = randomNode(g);
                if (node == null) return;
                if (node.getAttributeCount() == 0 || chance(4)) {
                    node.addAttribute(Attributes.random(this, pick(Attributes.NAMES)));
                    return;
                }
                int i = random.nextInt(node.getAttributeCount());
                node.setAttribute(i, Attributes.random(this, node.getAttribute(i).getName()));
            }
            case 3 -> { // an initializer's dims or data
                if (g.getInitializerCount() == 0) return;
                TensorProto.Builder t = g.getInitializerBuilder(random.nextInt(g.getInitializerCount()));
                if (t.getDimsCount() > 0 && chance(2)) t.setDims(random.nextInt(t.getDimsCount()), chance(2) ? random.nextInt(0, 9) : interesting());
                else if (chance(2)) t.setDataType(random.nextInt(0, 17));
                else if (!t.getRawData().isEmpty()) t.setRawData(ByteString.copyFrom(mutateBytes(t.getRawData().toByteArray())));
                else t.addInt64Data(interesting());
            }
            case 4 -> { // an op type
                NodeProto.Builder node = randomNode(g);
                if (node != null) node.setOpType(pick(Attributes.OPS));
            }
            case 5 -> { // rewire an input
                NodeProto.Builder node = randomNode(g);
                if (node == null || node.getInputCount() == 0) return;
                List<String> names = g.getNodeList().stream().flatMap(x -> x.getOutputList().stream()).toList();
                node.setInput(random.nextInt(node.getInputCount()), names.isEmpty() || chance(4) ? "" : pick(names));
            }
            case 6 -> { // drop or duplicate a node
                if (g.getNodeCount() == 0) return;
                int i = random.nextInt(g.getNodeCount());
                if (chance(2)) g.removeNode(i);
                else g.addNode(g.getNode(i));
            }
            case 7 -> {
                if (m.getOpsetImportCount() == 0) m.addOpsetImportBuilder();
                m.getOpsetImportBuilder(0).setVersion(random.nextInt(1, 24));
            }
            default -> { // an input's element type
                if (g.getInputCount() == 0) return;
                g.getInputBuilder(random.nextInt(g.getInputCount())).getTypeBuilder().getTensorTypeBuilder().setElemType(pick(List.of(1, 2, 3, 6, 7, 9, 10, 11, 16)));
            }
        }
    }

    private NodeProto.Builder randomNode(GraphProto.Builder g) {
        return g.getNodeCount() == 0 ? null : g.getNodeBuilder(random.nextInt(g.getNodeCount()));
    }

    /** Attribute names and values the attribute fuzzer draws from. */
    static final class Attributes {
        static final List<String> NAMES = List.of("kernel_shape", "strides", "pads", "dilations", "group", "axis", "axes", "keepdims", "perm",
                "blocksize", "size", "alpha", "beta", "bias", "epsilon", "p", "transA", "transB", "ceil_mode", "count_include_pad", "auto_pad",
                "mode", "split", "num_outputs", "to", "upper", "k", "largest", "sorted", "start", "end", "output_padding", "output_shape",
                "storage_order", "select_last_index", "batch_dims", "allowzero", "coordinate_transformation_mode", "nearest_mode",
                "cubic_coeff_a", "exclude_outside", "extrapolation_value", "scales", "value", "value_float", "value_int", "value_ints",
                "num_groups", "stash_type", "fmod", "equation", "reduction", "noop_with_empty_axes", "momentum", "spatial", "training_mode",
                "antialias", "keep_aspect_ratio_policy", "saturate", "lambd", "gamma", "min", "max", "seed");
        static final List<String> STRINGS = List.of("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect", "edge", "wrap",
                "nearest", "linear", "cubic", "half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "tf_crop_and_resize",
                "round_prefer_floor", "floor", "ceil", "DCR", "CRD", "add", "mul", "none", "ij,jk->ik", "i,i", "...ii->...i", "", "bogus",
                "not_larger", "stretch");
        static final List<String> OPS = dev.jdnn.graph.op.Registry.supported().stream().filter(o -> !o.startsWith("jdnn.")).toList();

        static AttributeProto random(Mutator r, String name) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
            switch (r.nextInt(5)) {
                case 0 -> a.setType(AttributeProto.AttributeType.INT).setI(r.interesting());
                case 1 -> {
                    a.setType(AttributeProto.AttributeType.INTS);
                    int n = r.chance(6) ? r.nextInt(9) : r.nextInt(1, 5);
                    for (int i = 0; i < n; i++) a.addInts(r.chance(2) ? r.nextInt(4) : r.interesting());
                }
                case 2 -> a.setType(AttributeProto.AttributeType.FLOAT).setF(r.pick(List.of(0f, 1f, -1f, 0.5f, 1e-5f, 2f, Float.NaN,
                        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e30f, -0f, Float.MIN_VALUE)));
                case 3 -> a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFrom(r.pick(STRINGS), StandardCharsets.UTF_8));
                default -> {
                    a.setType(AttributeProto.AttributeType.FLOATS);
                    int n = r.nextInt(0, 5);
                    for (int i = 0; i < n; i++) a.addFloats(r.pick(List.of(0f, 1f, 2f, 0.5f, -1f, Float.NaN, 1e30f)));
                }
            }
            return a.build();
        }
    }
}
