package dev.jdnn.dnnl;

import static dev.jdnn.bindings.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.ToIntFunction;

/**
 * A compiled oneDNN primitive: its primitive descriptor (which fixed the layouts and the kernel) and
 * the primitive itself, both owned by this object's arena. Create once, then run it many times
 * through {@link Execution}s, which hold the argument list.
 */
public final class Primitive implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final String description;
    private final MemorySegment primitiveDesc;
    private MemorySegment primitive;                            // null until made (then never changes)
    private final BackgroundWork.Task<MemorySegment> creation;  // non-null: made on the background thread
    private volatile boolean closed;

    private Primitive(String function, String description, ToIntFunction<MemorySegment> createDesc, int skipImplementations) {
        this.description = description;
        try {
            Dnnl.ensureLoaded();
            this.primitiveDesc = Dnnl.create(arena, function, description, createDesc,
                    pd -> dnnl_primitive_desc_destroy(pd));
            MemorySegment pd = primitiveDesc;
            for (int i = 0; i < skipImplementations; i++) {
                int status = dnnl_primitive_desc_next_impl(pd);
                if (status == dnnl_last_impl_reached()) throw new IllegalArgumentException(description + " has only " + (i + 1) + " implementations");
                Dnnl.check(status, "dnnl_primitive_desc_next_impl", description);
            }
            BackgroundWork background = BackgroundWork.current();
            if (background == null) {
                this.primitive = createPrimitive(pd);
                this.creation = null;
            } else {
                // The kernel (JIT code) is made in the background; the descriptor, which fixes the layouts the
                // caller asks about, is ready now. Some kernels fix their thread count when made: use the caller's.
                int threads = Dnnl.threads();
                this.creation = background.submit(() -> {
                    int before = Dnnl.threads();
                    if (before != threads) Dnnl.setThreads(threads);
                    try {
                        return createPrimitive(pd);
                    } finally {
                        if (before != threads) Dnnl.setThreads(before);
                    }
                }, true);
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private MemorySegment createPrimitive(MemorySegment pd) {
        MemorySegment made = Dnnl.create(arena, "dnnl_primitive_create", description, out -> dnnl_primitive_create(out, pd), p -> dnnl_primitive_destroy(p));
        ResidentMemory.primitiveCreated();
        return made;
    }

    /**
     * Creates the primitive descriptor with {@code createDesc} (which calls the C function named
     * {@code function} with the out-pointer it is given) and then the primitive.
     *
     * @param description shapes and attributes, used in every error message about this primitive
     */
    public static Primitive create(String function, String description, ToIntFunction<MemorySegment> createDesc) {
        return new Primitive(function, description, createDesc, 0);
    }

    /**
     * As {@link #create}, but with oneDNN's {@code skip}-th candidate implementation instead of its first
     * choice (oneDNN lists candidates best-first; {@code dnnl_primitive_desc_next_impl}).
     *
     * @throws IllegalArgumentException if there are not that many candidates
     */
    public static Primitive create(String function, String description, ToIntFunction<MemorySegment> createDesc, int skip) {
        if (skip < 0) throw new IllegalArgumentException("skip must be >= 0, got " + skip);
        return new Primitive(function, description, createDesc, skip);
    }

    /** A memory descriptor the primitive chose, e.g. {@code dnnl_query_weights_md()}; valid while this primitive is open. */
    public MemorySegment queryDesc(int what, int index) {
        ensureOpen();
        return MemoryDescs.query(primitiveDesc, what, index);
    }

    /** The implementation oneDNN picked, e.g. {@code brg_conv_fwd:avx2}. */
    public String implementation() {
        ensureOpen();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(C_POINTER);
            Dnnl.check(dnnl_primitive_desc_query(primitiveDesc, dnnl_query_impl_info_str(), 0, out),
                    "dnnl_primitive_desc_query", "impl_info_str of " + description);
            return out.get(C_POINTER, 0).reinterpret(1024).getString(0);
        }
    }

    public String description() {
        return description;
    }

    /** The primitive, made here now if the background thread has not started on it (then waited for). */
    MemorySegment handle() {
        ensureOpen();
        MemorySegment p = primitive;
        if (p == null) primitive = p = creation.join();
        return p;
    }

    Arena arena() {
        return arena;
    }

    void ensureOpen() {
        if (closed) throw new IllegalStateException("primitive " + description + " is closed");
    }

    public boolean isClosed() {
        return closed;
    }

    /** Destroys the primitive and its descriptor; idempotent. Executions made from it stop working. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (creation != null) creation.settle();   // never free the descriptor while the kernel is being made from it
        arena.close();
    }
}
