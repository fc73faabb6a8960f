package dev.jdnn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A dense, row-major (C order) tensor in off-heap memory. Any rank from 0 up; images use the NCHW
 * convention ({@code N×C×H×W}). Elements are float32 unless made with another {@link DataType}
 * ({@link #zeros(DataType, long...)}, {@link #ofLongs}): int64/int32/int8/uint8/bool tensors carry
 * indices, masks and shapes, and are read with {@link #toLongArray()}; the float accessors refuse them.
 * Float16 tensors (model inputs and outputs of float16 models) are read and written through the float
 * accessors: reads widen exactly, writes round to the nearest float16 (ties to even).
 *
 * <p>Ownership: a tensor made by {@link #zeros}, {@link #of} or {@link #copyOf} owns its memory
 * (a shared {@link Arena}, 64-byte aligned) and frees it on {@link #close()}. A tensor made by
 * {@link #wrap} borrows the caller's segment and frees nothing. Views ({@link #reshape},
 * {@link #sliceBatch}) share their parent's memory: closing a view only closes the view, closing
 * the owner makes every view unusable. {@code close()} is idempotent; any later use throws
 * {@link IllegalStateException}, never a crash.
 *
 * <p>Safe to read from several threads; writes need external synchronisation, as with arrays.
 */
public final class Tensor implements AutoCloseable {
    /** oneDNN and AVX loads like cache-line alignment. */
    public static final long ALIGNMENT = 64;

    private final long[] shape;
    private final DataType dtype;
    private volatile MemorySegment data;          // null until a lazy tensor is first read
    private final MemorySegment lazySource;       // a lazy tensor's bytes (little-endian, any alignment), else null
    private final java.util.function.Supplier<MemorySegment> materialize;   // makes a lazy tensor's aligned copy
    private final Arena arena;     // non-null only for the owner of the memory
    private final Tensor owner;    // the tensor whose lifetime bounds this one (itself for roots)
    private final Leaks.Guard guard; // frees the arena if this owner becomes unreachable unclosed; null for views and wraps
    private volatile boolean closed;

    private Tensor(long[] shape, DataType dtype, MemorySegment data, Arena arena, Tensor owner) {
        this(shape, dtype, data, arena, owner, null, null);
    }

    private Tensor(long[] shape, DataType dtype, MemorySegment data, Arena arena, Tensor owner, MemorySegment lazySource,
                   java.util.function.Supplier<MemorySegment> materialize) {
        this.shape = shape;
        this.dtype = dtype;
        this.data = data;
        this.lazySource = lazySource;
        this.materialize = materialize;
        this.arena = arena;
        this.owner = owner == null ? this : owner;
        this.guard = arena == null ? null : Leaks.watch(this, () -> "tensor " + format(shape) + (dtype == DataType.FLOAT ? "" : " " + dtype.onnxName()), arena::close);
    }

    /** Names this tensor in the leak log (e.g. which result it belongs to). */
    void describeLeak(java.util.function.Supplier<String> description) {
        if (owner.guard != null) owner.guard.describe(description);   // a view names the memory's owner
    }

    /** A new tensor of zeros. */
    public static Tensor zeros(long... shape) {
        return zeros(DataType.FLOAT, shape);
    }

    /** A new tensor of zeros (false for bool) of the given element type. */
    public static Tensor zeros(DataType dtype, long... shape) {
        long[] dims = checkShape(shape);
        long count = elementCount(dims);
        long bytes = Math.multiplyExact(count, (long) dtype.bytes());
        Arena arena = Arena.ofShared();
        MemorySegment data = arena.allocate(Math.max(1, bytes), ALIGNMENT); // allocate() zeroes
        return new Tensor(dims, dtype, data.asSlice(0, bytes), arena, null);
    }

    /**
     * A new integer or bool tensor holding {@code values}, each stored as {@code dtype} stores it
     * (narrow types wrap as a C cast does, bool is {@code v != 0}).
     */
    public static Tensor ofLongs(long[] values, DataType dtype, long... shape) {
        if (dtype.isFloatingPoint()) throw new IllegalArgumentException("ofLongs makes integer or bool tensors; use Tensor.of(float[], shape)");
        long[] dims = checkShape(shape);
        if (values.length != elementCount(dims)) {
            throw new IllegalArgumentException("shape " + format(dims) + " holds " + elementCount(dims)
                    + " elements, got " + values.length + " values");
        }
        Tensor tensor = zeros(dtype, dims);
        for (int i = 0; i < values.length; i++) tensor.putLong(i, values[i]);
        return tensor;
    }

    /** A new tensor holding a copy of {@code values}, whose length must equal the shape's element count. */
    public static Tensor of(float[] values, long... shape) {
        long[] dims = checkShape(shape);
        if (values.length != elementCount(dims)) {
            throw new IllegalArgumentException("shape " + format(dims) + " holds " + elementCount(dims)
                    + " elements, got " + values.length + " values");
        }
        Tensor tensor = zeros(dims);
        MemorySegment.copy(values, 0, tensor.data(), ValueLayout.JAVA_FLOAT, 0, values.length);
        return tensor;
    }

    /**
     * A new float32 or float16 tensor holding {@code values} (rounded to the nearest float16, ties to even,
     * for float16), whose length must equal the shape's element count.
     */
    public static Tensor of(float[] values, DataType dtype, long... shape) {
        if (!dtype.isFloatingPoint()) throw new IllegalArgumentException("Tensor.of(float[], dtype, shape) makes float32 or float16 tensors, not " + dtype.onnxName() + "; use ofLongs");
        if (dtype == DataType.FLOAT) return of(values, shape);
        Tensor tensor = zeros(dtype, shape);
        try {
            return tensor.copyFrom(values);
        } catch (RuntimeException e) {
            tensor.close();
            throw e;
        }
    }

    /**
     * A new tensor with this float32 or float16 tensor's values as {@code to} (float32 or float16): widening
     * to float32 is exact, narrowing to float16 rounds to nearest (ties to even; beyond ±65504 gives ±∞).
     */
    public Tensor toType(DataType to) {
        ensureFloat();
        if (!to.isFloatingPoint()) throw new IllegalArgumentException("toType converts between float32 and float16, not to " + to.onnxName() + " (integer conversion is Cast's business)");
        Tensor out = zeros(to, shape);
        long n = elementCount();
        MemorySegment from = data(), into = out.data();
        if (dtype == to) {
            MemorySegment.copy(from, 0, into, 0, from.byteSize());
        } else if (to == DataType.FLOAT) {
            for (long i = 0; i < n; i++) into.setAtIndex(ValueLayout.JAVA_FLOAT, i, Float.float16ToFloat(from.getAtIndex(ValueLayout.JAVA_SHORT, i)));
        } else {
            for (long i = 0; i < n; i++) into.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(from.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
        }
        return out;
    }

    /** A new tensor with the same shape and values as {@code source}. */
    public static Tensor copyOf(Tensor source) {
        Tensor tensor = zeros(source.dtype, source.shape());
        tensor.copyFrom(source);
        return tensor;
    }

    /**
     * Wraps an existing native segment without copying. The segment must hold exactly the shape's
     * element count of floats and be 4-byte aligned; the caller keeps ownership, and closing the
     * tensor does not free it.
     */
    public static Tensor wrap(MemorySegment segment, long... shape) {
        return wrap(segment, DataType.FLOAT, shape);
    }

    /** {@link #wrap(MemorySegment, long...)} for any element type; the segment must be aligned to the element size. */
    public static Tensor wrap(MemorySegment segment, DataType dtype, long... shape) {
        long[] dims = checkShape(shape);
        long bytes = Math.multiplyExact(elementCount(dims), (long) dtype.bytes());
        if (!segment.isNative()) {
            throw new IllegalArgumentException("can only wrap native (off-heap) segments; use Tensor.of(float[], shape) for arrays");
        }
        if (segment.byteSize() != bytes) {
            throw new IllegalArgumentException("shape " + format(dims) + " of " + dtype.onnxName() + " needs " + bytes + " bytes, segment has "
                    + segment.byteSize());
        }
        if (segment.address() % dtype.bytes() != 0) {
            throw new IllegalArgumentException("segment address 0x" + Long.toHexString(segment.address())
                    + " is not " + dtype.bytes() + "-byte aligned, as " + dtype.onnxName() + " data must be");
        }
        return new Tensor(dims, dtype, segment, null, null);
    }

    /**
     * A read-only float32 tensor over {@code bytes} (little-endian, any alignment: a weight inside a mapped
     * model file) that makes its aligned native copy, by {@code materialize}, only when first read; until then
     * {@link #copyBytesTo} reads the bytes in place. For loaders: the caller owns both the bytes and the copy.
     */
    public static Tensor lazy(MemorySegment bytes, java.util.function.Supplier<MemorySegment> materialize, long... shape) {
        long[] dims = checkShape(shape);
        if (bytes.byteSize() != elementCount(dims) * Float.BYTES) {
            throw new IllegalArgumentException("shape " + format(dims) + " needs " + elementCount(dims) * Float.BYTES + " bytes, got " + bytes.byteSize());
        }
        if (java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN) throw new IllegalStateException("lazy tensors read little-endian bytes in place");
        return new Tensor(dims, DataType.FLOAT, null, null, null, bytes, materialize);
    }

    /** The data, made now for a lazy tensor read the first time. */
    private MemorySegment data() {
        MemorySegment d = data;
        if (d != null) return d;
        synchronized (this) {
            if (data == null) {
                MemorySegment made = materialize.get();
                if (made.byteSize() != lazySource.byteSize()) throw new IllegalStateException("a lazy tensor's copy has the wrong size");
                data = made.asReadOnly();
            }
            return data;
        }
    }

    /**
     * Copies the raw bytes ({@code elementCount() * dtype().bytes()}, native order) into {@code destination}
     * without making a lazy tensor's copy.
     */
    public void copyBytesTo(MemorySegment destination) {
        ensureOpen();
        MemorySegment from = data != null || lazySource == null ? data() : lazySource;
        MemorySegment.copy(from, 0, destination, 0, from.byteSize());
    }

    /**
     * The raw bytes ({@code elementCount() * dtype().bytes()}, native order) where they are, without making a lazy
     * tensor's copy: for a {@link #lazy} tensor not yet read, a read-only view of its bytes in the mapped file
     * (any alignment: check it before handing them to native code that needs aligned floats), else {@link #segment()}.
     */
    public MemorySegment bytesInPlace() {
        ensureOpen();
        return data != null || lazySource == null ? data() : lazySource.asReadOnly();
    }

    /**
     * If this tensor's bytes are pages of a mapped file, drops them from the process's resident set (they stay
     * in the page cache and come back on the next read): for a loader's weights once a plan holds its own copy.
     */
    public void unloadMapped() {
        ensureOpen();
        MemorySegment mapped = lazySource != null ? lazySource : data();
        if (mapped.isMapped()) mapped.unload();
    }

    /** Whether a {@link #lazy} tensor has made its copy (always true for others). */
    public boolean materialized() {
        return data != null;
    }

    /** The element type (float32 unless made otherwise). */
    public DataType dtype() {
        return dtype;
    }

    /** Dimensions (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    public long dim(int axis) {
        return shape[axis];
    }

    public int rank() {
        return shape.length;
    }

    public long elementCount() {
        return elementCount(shape);
    }

    /** The data as a native segment of {@code elementCount() * dtype().bytes()} bytes. */
    public MemorySegment segment() {
        ensureOpen();
        return data();
    }

    /** The elements as floats (float16 widened exactly). */
    public float[] toArray() {
        ensureFloat();
        if (elementCount() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor " + format(shape) + " is too large for a float[]");
        }
        if (dtype == DataType.FLOAT) return data().toArray(ValueLayout.JAVA_FLOAT);
        float[] out = new float[(int) elementCount()];
        for (int i = 0; i < out.length; i++) out[i] = readFloat(i);
        return out;
    }

    /** Overwrites every element from {@code values}, which must have exactly {@link #elementCount()} elements. */
    public Tensor copyFrom(float[] values) {
        ensureFloat();
        if (values.length != elementCount()) {
            throw new IllegalArgumentException("tensor " + format(shape) + " has " + elementCount()
                    + " elements, got " + values.length + " values");
        }
        if (dtype == DataType.FLOAT) MemorySegment.copy(values, 0, data(), ValueLayout.JAVA_FLOAT, 0, values.length);
        else for (int i = 0; i < values.length; i++) writeFloat(i, values[i]);
        return this;
    }

    /** Element {@code i} of a float32 or float16 tensor, as a float. */
    private float readFloat(long i) {
        return dtype == DataType.FLOAT ? data().getAtIndex(ValueLayout.JAVA_FLOAT, i) : Float.float16ToFloat(data().getAtIndex(ValueLayout.JAVA_SHORT, i));
    }

    /** Stores {@code v} at element {@code i} (rounded to nearest float16 for a float16 tensor). */
    private void writeFloat(long i, float v) {
        if (dtype == DataType.FLOAT) data().setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
        else data().setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(v));
    }

    /** Overwrites every element from {@code source}, which must have the same shape. */
    public Tensor copyFrom(Tensor source) {
        ensureOpen();
        source.ensureOpen();
        if (!Arrays.equals(shape, source.shape) || dtype != source.dtype) {
            throw new IllegalArgumentException("cannot copy " + describe(source) + " into " + describe(this));
        }
        MemorySegment.copy(source.data(), 0, data(), 0, data().byteSize());
        return this;
    }

    /** The element at a full index ({@code rank()} coordinates). */
    public float get(long... index) {
        ensureFloat();
        return readFloat(offset(index));
    }

    public Tensor set(float value, long... index) {
        ensureFloat();
        writeFloat(offset(index), value);
        return this;
    }

    /** Flat element access (row-major position). */
    public float getFlat(long position) {
        ensureFloat();
        Objects.checkIndex(position, elementCount());
        return readFloat(position);
    }

    public Tensor setFlat(long position, float value) {
        ensureFloat();
        Objects.checkIndex(position, elementCount());
        writeFloat(position, value);
        return this;
    }

    /**
     * Every element as a long (integer and bool tensors; bool is 0 or 1). Float tensors are refused:
     * converting them is {@code Cast}'s business, with its rounding rules.
     */
    public long[] toLongArray() {
        ensureOpen();
        if (dtype.isFloatingPoint()) throw new IllegalStateException("tensor " + format(shape) + " is " + dtype.onnxName() + "; use toArray()");
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor " + format(shape) + " is too large for a long[]");
        long[] out = new long[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = getLong(i);
        return out;
    }

    /** Flat element of an integer or bool tensor, as a long. */
    public long getLongFlat(long position) {
        ensureOpen();
        if (dtype.isFloatingPoint()) throw new IllegalStateException("tensor " + format(shape) + " is " + dtype.onnxName() + "; use getFlat()");
        Objects.checkIndex(position, elementCount());
        return getLong(position);
    }

    private long getLong(long i) {
        return switch (dtype) {
            case INT64 -> data().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
            case INT32 -> data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
            case INT8 -> data().get(ValueLayout.JAVA_BYTE, i);
            case UINT8 -> data().get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            case BOOL -> data().get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
            case FLOAT, FLOAT16 -> throw new IllegalStateException("float tensor");
        };
    }

    private void putLong(long i, long v) {
        long w = dtype.wrap(v);
        switch (dtype) {
            case INT64 -> data().setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, w);
            case INT32 -> data().setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, (int) w);
            default -> data().set(ValueLayout.JAVA_BYTE, i, (byte) w);
        }
    }

    /**
     * A view with another shape and the same elements (no copy). One dimension may be -1 and is
     * inferred. The view lives no longer than this tensor's memory.
     */
    public Tensor reshape(long... newShape) {
        ensureOpen();
        long[] dims = newShape.clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                if (inferred >= 0) throw new IllegalArgumentException("only one dimension may be -1 in " + format(newShape));
                inferred = i;
            } else {
                if (dims[i] < 0) throw new IllegalArgumentException("negative dimension in " + format(newShape));
                known = Math.multiplyExact(known, dims[i]);
            }
        }
        if (inferred >= 0) {
            if (known == 0 || elementCount() % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + format(shape) + " to " + format(newShape));
            }
            dims[inferred] = elementCount() / known;
        }
        checkShape(dims);
        if (elementCount(dims) != elementCount()) {
            throw new IllegalArgumentException("cannot reshape " + format(shape) + " (" + elementCount()
                    + " elements) to " + format(dims) + " (" + elementCount(dims) + " elements)");
        }
        return new Tensor(dims, dtype, data(), null, owner);
    }

    /** A view of items {@code [from, to)} along the first axis (a batch slice; contiguous, no copy). */
    public Tensor sliceBatch(long from, long to) {
        ensureOpen();
        if (rank() == 0) throw new IllegalArgumentException("cannot slice a scalar");
        if (from < 0 || to > shape[0] || from >= to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") is outside axis 0 of " + format(shape));
        }
        long[] dims = shape.clone();
        dims[0] = to - from;
        long itemBytes = elementCount() / shape[0] * dtype.bytes();
        return new Tensor(dims, dtype, data().asSlice(from * itemBytes, (to - from) * itemBytes), null, owner);
    }

    public boolean isClosed() {
        return closed || owner.closed;
    }

    /** Frees the memory if this tensor owns it; idempotent. Later use of this tensor (and its views, for an owner) throws. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        if (guard != null) guard.closed();
        if (arena != null) arena.close();
    }

    void ensureOpen() {
        if (closed) throw new IllegalStateException("tensor " + format(shape) + " is closed");
        if (owner.closed) throw new IllegalStateException("tensor " + format(shape) + " is a view of a closed tensor");
    }

    private void ensureFloat() {
        ensureOpen();
        if (!dtype.isFloatingPoint()) throw new IllegalStateException("tensor " + format(shape) + " holds " + dtype.onnxName() + ", not float32 or float16; use toLongArray()");
    }

    private static String describe(Tensor t) {
        return (t.dtype.isFloat() ? "" : t.dtype.onnxName()) + format(t.shape);
    }

    private long offset(long[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " has " + index.length
                    + " coordinates, tensor " + format(shape) + " has rank " + shape.length);
        }
        long offset = 0;
        for (int i = 0; i < shape.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " is outside " + format(shape));
            }
            offset = offset * shape[i] + index[i];
        }
        return offset;
    }

    static long[] checkShape(long[] shape) {
        if (shape == null) throw new IllegalArgumentException("shape is null");
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + format(shape));
        }
        try {
            elementCount(shape);
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException("shape " + format(shape) + " has more elements than a long can count");
        }
        return shape.clone();
    }

    /** Number of elements of a shape (1 for rank 0); throws on overflow. */
    public static long elementCount(long[] shape) {
        long count = 1;
        for (long d : shape) count = Math.multiplyExact(count, d);
        return count;
    }

    /** Shape as {@code [1, 3, 224, 224]}. */
    public static String format(long[] shape) {
        return Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", ", "[", "]"));
    }

    @Override
    public String toString() {
        return "Tensor" + (dtype.isFloat() ? "" : "<" + dtype.onnxName() + ">") + format(shape) + (isClosed() ? " (closed)" : "");
    }
}
