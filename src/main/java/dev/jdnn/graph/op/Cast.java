package dev.jdnn.graph.op;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Cast (attribute {@code to}) and CastLike (15+: the type of input 1) between the element types jdnn
 * holds: float32, int64, int32, int8, uint8, bool. Same shape in and out. The conversions are the ONNX
 * reference's ({@code numpy.astype} on x86-64, which ONNX Runtime's {@code static_cast} matches there):
 * <ul>
 *   <li>float → int64/int32: truncation toward zero; NaN, ±∞ and values out of the type's range give
 *       the type's minimum (x86's "integer indefinite" {@code 0x80…0}; ONNX calls this undefined);</li>
 *   <li>float → int8/uint8: truncated to int32 as above, then wrapped to 8 bits (so 300.7 → 44, NaN → 0);</li>
 *   <li>float → bool: {@code x ≠ 0} (NaN is true);</li>
 *   <li>integer/bool → float: nearest float (ties to even), bool as 0/1;</li>
 *   <li>integer → narrower integer: two's-complement wrap-around; → bool: {@code x ≠ 0}.</li>
 * </ul>
 * Float16 values are computed as float32 inside a graph ({@link DataType#computed()}): a Cast to float16 rounds
 * to the nearest float16 value (ties to even, ±∞ beyond ±65504) and keeps float32 storage, so an explicit
 * cast keeps its meaning; a Cast from float16 to float is a copy. (A CastLike whose target is a float16 value
 * sees it as float32 and does not round.)
 * Opset 19's {@code saturate} only concerns float8 targets, which jdnn does not hold; it is accepted and ignored.
 * A float→float Cast in a compiled plan passes its input through in whatever layout it is in.
 */
public final class Cast implements Op {
    private final boolean like;

    private Cast(boolean like) {
        this.like = like;
    }

    static void register(Registry.Table t) {
        t.add("Cast", 6, new Cast(false));
        t.add("CastLike", 15, new Cast(true));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "input");
        DataType declared = target(node, in);
        DataType to = declared.computed();
        if (node.attributes().has("saturate")) {
            long s = node.attributes().getInt("saturate", 1);
            if (s != 0 && s != 1) throw Ops.error(node, "saturate must be 0 or 1, got " + s);
        }
        if (declared == DataType.FLOAT16) return Ops.step(x, to, v -> roundedToFloat16(cast(v.get(0), to)));
        return Ops.step(x, to, v -> cast(v.get(0), to));
    }

    /** {@code v} (a new float32 value, modified in place) with each element rounded to float16 precision. */
    private static Value roundedToFloat16(Value v) {
        MemorySegment s = ((Value.Floats) v).tensor().segment();
        roundToFloat16(s, s, s.byteSize() / Float.BYTES);
        return v;
    }

    /** The first {@code floats} floats of {@code from}, each rounded to float16 precision, into {@code into} (may be {@code from}). */
    private static void roundToFloat16(MemorySegment from, MemorySegment into, long floats) {
        for (long i = 0; i < floats; i++) into.setAtIndex(ValueLayout.JAVA_FLOAT, i, DataType.roundToFloat16(from.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        // float→float is a pass-through; float→float16 rounds each element (float32 storage) in whatever layout it is in.
        if (in.type(0) != DataType.FLOAT || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        DataType to = target(node, in);
        if ((to != DataType.FLOAT && to != DataType.FLOAT16) || !Primitives.nativeShape(in.shape(0))) return null;
        if (to == DataType.FLOAT) return Primitives.identity(node, in.shape(0), lowering.desc(0));
        return roundingToFloat16(node, in.shape(0), lowering.desc(0));
    }

    /**
     * Rounds every float of the input's buffer to float16 precision into the output (same descriptor; in place when the
     * plan gives them one buffer). Element-wise, so any layout works; a blocked layout's zero padding stays zero.
     */
    private static NativeOp roundingToFloat16(Node node, long[] shape, MemorySegment desc) {
        long floats = dev.jdnn.dnnl.MemoryDescs.size(desc) / Float.BYTES;
        String description = node.label() + ": " + node.opType() + " to float16 (round to nearest even, float32 storage) " + dev.jdnn.dnnl.MemoryDescs.dims(shape);
        return Primitives.sameDesc(desc, description, (src, output) -> () -> roundToFloat16(src, output, floats));
    }

    private DataType target(Node node, Inputs in) {
        if (like) {
            in.require(1, node, "target_type");
            DataType t = in.type(1);
            if (t == null) throw Ops.error(node, "the type of target_type (input 1) is unknown");
            return t;
        }
        if (!node.attributes().has("to")) throw Ops.error(node, "attribute to is required");
        long code = node.attributes().getInt("to", 0);
        DataType t = code == (int) code ? DataType.fromOnnx((int) code) : null;
        if (t == null) {
            throw Ops.error(node, "to = " + code + " (" + onnxTypeName(code) + ") is not supported: jdnn holds float, float16 (as float32), int64, int32, int8, uint8 and bool");
        }
        return t;
    }

    /** {@code v} converted to {@code to} (a new value; same shape). */
    static Value cast(Value v, DataType to) {
        long[] shape = v.shape();
        if (v instanceof Value.Floats f) {
            Tensor x = f.tensor();
            if (to == DataType.FLOAT) return new Value.Floats(Tensor.copyOf(x));
            MemorySegment s = x.segment();
            int n = Math.toIntExact(x.elementCount());
            long[] out = new long[n];
            for (int i = 0; i < n; i++) out[i] = fromFloat(s.getAtIndex(ValueLayout.JAVA_FLOAT, i), to);
            return new Value.Longs(to, shape, out); // wraps int8/uint8 to 8 bits
        }
        Value.Longs l = (Value.Longs) v;
        long[] src = l.view();
        if (to == DataType.FLOAT) {
            float[] out = new float[src.length];
            for (int i = 0; i < src.length; i++) out[i] = (float) src[i]; // JLS: round to nearest, ties to even
            return Ops.result(out, shape);
        }
        return new Value.Longs(to, shape, src); // the constructor wraps to the target (bool: x ≠ 0)
    }

    /** One float converted to an integer type as numpy does on x86-64 (before the 8-bit wrap). */
    static long fromFloat(float x, DataType to) {
        return switch (to) {
            case BOOL -> x != 0 ? 1 : 0; // NaN != 0 is true
            case INT64 -> x >= -0x1p63f && x < 0x1p63f ? (long) x : Long.MIN_VALUE;
            case INT32, INT8, UINT8 -> x >= -0x1p31f && x < 0x1p31f ? (long) (int) x : Integer.MIN_VALUE;
            case FLOAT, FLOAT16 -> throw new IllegalArgumentException(to.onnxName() + " is not an integer type");
        };
    }

    /** ONNX's name for a {@code TensorProto.DataType} code, for messages. */
    static String onnxTypeName(long code) {
        return switch ((int) code) {
            case 0 -> "undefined";
            case 1 -> "float";
            case 2 -> "uint8";
            case 3 -> "int8";
            case 4 -> "uint16";
            case 5 -> "int16";
            case 6 -> "int32";
            case 7 -> "int64";
            case 8 -> "string";
            case 9 -> "bool";
            case 10 -> "float16";
            case 11 -> "double";
            case 12 -> "uint32";
            case 13 -> "uint64";
            case 14 -> "complex64";
            case 15 -> "complex128";
            case 16 -> "bfloat16";
            case 17 -> "float8e4m3fn";
            case 18 -> "float8e4m3fnuz";
            case 19 -> "float8e5m2";
            case 20 -> "float8e5m2fnuz";
            case 21 -> "uint4";
            case 22 -> "int4";
            case 23 -> "float4e2m1";
            default -> "unknown type";
        };
    }
}
