package dev.jdnn.dnnl;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.bindings.dnnl_exec_arg_t;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One argument list of a {@link Primitive}: a oneDNN memory object per argument (source, weights,
 * destination, ...) and the {@code dnnl_exec_arg_t[]} array, built once. Running it only points the
 * memory objects at buffers and calls {@code dnnl_primitive_execute}: nothing is allocated.
 *
 * <p>Not thread-safe: one execution per thread (the data handles are its state). Build with
 * {@link #arg}, bind buffers with {@link #set}, then {@link #run}.
 */
public final class Execution implements AutoCloseable {
    private final Primitive primitive;
    private final Arena arena = Arena.ofShared();
    private final int[] kinds;
    private final MemorySegment[] descs;
    private final long[] requiredBytes;
    private final MemorySegment[] memories;
    private final boolean[] bound;
    private int count;
    private MemorySegment args;
    private boolean closed;

    public Execution(Primitive primitive, int capacity) {
        this.primitive = primitive;
        this.kinds = new int[capacity];
        this.descs = new MemorySegment[capacity];
        this.requiredBytes = new long[capacity];
        this.memories = new MemorySegment[capacity];
        this.bound = new boolean[capacity];
    }

    /** Declares argument {@code kind} (e.g. {@code DNNL_ARG_SRC()}) with the layout {@code desc}. */
    public Execution arg(int kind, MemorySegment desc) {
        ensureOpen();
        if (args != null) throw new IllegalStateException("arguments are fixed once the execution has run");
        if (count == kinds.length) throw new IllegalStateException("more arguments than the declared " + kinds.length);
        for (int i = 0; i < count; i++) {
            if (kinds[i] == kind) throw new IllegalArgumentException("argument " + kind + " declared twice");
        }
        MemorySegment engine = Engine.cpu();
        // A null handle: the buffer is supplied by set() before every run.
        memories[count] = Dnnl.create(arena, "dnnl_memory_create", primitive.description(),
                out -> dnnl_memory_create(out, desc, engine, MemorySegment.NULL), m -> dnnl_memory_destroy(m));
        kinds[count] = kind;
        descs[count] = desc;
        requiredBytes[count] = MemoryDescs.size(desc);
        count++;
        return this;
    }

    /** Bytes the buffer of argument {@code kind} must have. */
    public long requiredBytes(int kind) {
        return requiredBytes[slot(kind)];
    }

    /** Points argument {@code kind} at {@code data}, after checking it is large enough and 4-byte aligned. */
    public Execution set(int kind, MemorySegment data) {
        ensureOpen();
        int slot = slot(kind);
        if (data.byteSize() < requiredBytes[slot]) {
            throw new IllegalArgumentException("argument " + kind + " of " + primitive.description() + " needs "
                    + requiredBytes[slot] + " bytes, got a buffer of " + data.byteSize());
        }
        if (data.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException("argument " + kind + " of " + primitive.description() + " is not 4-byte aligned");
        }
        if (!data.isNative()) {
            throw new IllegalArgumentException("argument " + kind + " of " + primitive.description() + " is a heap segment; oneDNN needs native memory");
        }
        Dnnl.check(dnnl_memory_set_data_handle(memories[slot], data), "dnnl_memory_set_data_handle", primitive.description());
        bound[slot] = true;
        return this;
    }

    /** Executes the primitive on the calling thread's stream and waits for it. */
    public void run() {
        ensureOpen();
        MemorySegment handle = primitive.handle();
        if (args == null) buildArgs();
        for (int i = 0; i < count; i++) {
            if (!bound[i]) {
                throw new IllegalStateException("argument " + kinds[i] + " of " + primitive.description() + " has no buffer");
            }
        }
        MemorySegment stream = Engine.stream();
        Dnnl.check(dnnl_primitive_execute(handle, stream, count, args), "dnnl_primitive_execute", primitive.description());
        Dnnl.check(dnnl_stream_wait(stream), "dnnl_stream_wait", primitive.description());
    }

    private void buildArgs() {
        args = dnnl_exec_arg_t.allocateArray(count, arena);
        for (int i = 0; i < count; i++) {
            MemorySegment arg = dnnl_exec_arg_t.asSlice(args, i);
            dnnl_exec_arg_t.arg(arg, kinds[i]);
            dnnl_exec_arg_t.memory(arg, memories[i]);
        }
    }

    private int slot(int kind) {
        for (int i = 0; i < count; i++) if (kinds[i] == kind) return i;
        throw new IllegalArgumentException("argument " + kind + " was not declared for " + primitive.description()
                + " (declared: " + Arrays.toString(Arrays.copyOf(kinds, count)) + ")");
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("execution of " + primitive.description() + " is closed");
        primitive.ensureOpen();
    }

    /** Releases the memory objects; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        arena.close();
    }
}
