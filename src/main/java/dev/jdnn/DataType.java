package dev.jdnn;

/**
 * Element types a {@link Tensor} can hold: float32 for activations and weights, and the integer and
 * boolean types that shape arithmetic, indices, masks and ArgMax results use. Float16 (IEEE half) is a
 * storage type only: float16 model inputs, outputs and weights are held as float16 at the boundary and
 * computed as float32 inside a graph ({@link #computed()}). Anything else ONNX has (bfloat16, double,
 * strings, complex) is refused with a message naming the type.
 */
public enum DataType {
    FLOAT(1, 4, "<f4"),
    UINT8(2, 1, "|u1"),
    INT8(3, 1, "|i1"),
    INT32(6, 4, "<i4"),
    INT64(7, 8, "<i8"),
    BOOL(9, 1, "|b1"),
    /** IEEE 754 binary16; read and written through {@link Float#float16ToFloat}/{@link Float#floatToFloat16} (ties to even). */
    FLOAT16(10, 2, "<f2");

    private final int onnx;
    private final int bytes;
    private final String npy;

    DataType(int onnx, int bytes, String npy) {
        this.onnx = onnx;
        this.bytes = bytes;
        this.npy = npy;
    }

    /** ONNX's {@code TensorProto.DataType} code. */
    public int onnxCode() {
        return onnx;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** NumPy's {@code descr} for this type (little-endian). */
    public String npyDescr() {
        return npy;
    }

    /** Float32 (the type ops compute floats in); see {@link #isFloatingPoint()} for float16 too. */
    public boolean isFloat() {
        return this == FLOAT;
    }

    /** Float32 or float16: read with {@link Tensor#toArray()} as floats. */
    public boolean isFloatingPoint() {
        return this == FLOAT || this == FLOAT16;
    }

    /** The type values of this type are computed in inside a graph: float32 for float16, else the type itself. */
    public DataType computed() {
        return this == FLOAT16 ? FLOAT : this;
    }

    /** {@code x} rounded to the nearest float16 value (ties to even), as float32: what storing it as float16 keeps. */
    public static float roundToFloat16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /** The type with ONNX code {@code code}, or null if jdnn does not hold that type. */
    public static DataType fromOnnx(int code) {
        for (DataType t : values()) if (t.onnx == code) return t;
        return null;
    }

    /** The type with NumPy {@code descr} (e.g. {@code <i8}), or null. */
    public static DataType fromNpy(String descr) {
        String d = descr.replace('=', '<');
        if (d.length() < 2) return null;
        for (DataType t : values()) {
            if (t.npy.equals(d) || (t.bytes == 1 && t.npy.substring(1).equals(d.substring(1)))) return t;
        }
        return null;
    }

    /**
     * {@code v} as this type stores it: two's-complement wrap-around for the narrow integer types (as a
     * C cast does), 0 or 1 for bool, unchanged for int64. Float is not an integer type.
     */
    public long wrap(long v) {
        return switch (this) {
            case INT64 -> v;
            case INT32 -> (int) v;
            case INT8 -> (byte) v;
            case UINT8 -> v & 0xFF;
            case BOOL -> v != 0 ? 1 : 0;
            case FLOAT, FLOAT16 -> throw new IllegalStateException(onnxName() + " is not an integer type");
        };
    }

    /** Lower-case ONNX-style name (float, int64, bool, ...). */
    public String onnxName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
