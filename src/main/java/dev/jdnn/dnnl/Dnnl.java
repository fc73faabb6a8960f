package dev.jdnn.dnnl;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.bindings.dnnl_version_t;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * The one place where oneDNN statuses become exceptions, plus process-wide facts about the loaded
 * library (version, ISA, threads). Everything in {@code dev.jdnn} that calls the bindings goes
 * through {@link #check} or {@link #create}.
 */
public final class Dnnl {
    private Dnnl() {}

    /** Loads oneDNN (idempotent); every entry point that touches the bindings calls this first. */
    public static void ensureLoaded() {
        NativeLibrary.load();
    }

    /**
     * Throws a {@link DnnlException} naming {@code function} and {@code detail} unless status is
     * {@code dnnl_success}. {@code detail} should carry the shapes involved.
     */
    public static void check(int status, String function, Object detail) {
        if (status != dnnl_success()) {
            throw new DnnlException(status, statusName(status), function, detail == null ? "" : detail.toString());
        }
    }

    /** {@code dnnl_status2str}, or "unknown status" for a value it does not know. */
    static String statusName(int status) {
        MemorySegment name = dnnl_status2str(status);
        String text = name.equals(MemorySegment.NULL) ? "unknown" : name.reinterpret(256).getString(0);
        return "dnnl_" + text;
    }

    /**
     * Calls a oneDNN {@code *_create(T *out, ...)} function and ties the new handle to {@code owner}:
     * when the owner arena closes, {@code destroy} runs. The handle is born owned, so it cannot leak.
     *
     * @param create calls the C function with the out-pointer and returns its status
     */
    public static MemorySegment create(Arena owner, String function, Object detail,
                                       ToIntFunction<MemorySegment> create, Consumer<MemorySegment> destroy) {
        ensureLoaded(); // the first native call of any path is a create: the library must be in before the bindings look it up
        MemorySegment handle;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(C_POINTER);
            check(create.applyAsInt(out), function, detail);
            handle = out.get(C_POINTER, 0);
        }
        return handle.reinterpret(owner, h -> destroy.accept(h));
    }

    /**
     * jdnn's per-user cache directory (the extracted oneDNN library, autotune decisions): {@code jdnn.cache.dir},
     * else {@code $XDG_CACHE_HOME/jdnn}, else {@code ~/.cache/jdnn}.
     */
    public static java.nio.file.Path cacheDirectory() {
        return NativeLibrary.cacheDirectory();
    }

    /** oneDNN's version as {@code major.minor.patch (commit hash)}. */
    public static String version() {
        ensureLoaded();
        MemorySegment v = dnnl_version().reinterpret(dnnl_version_t.sizeof());
        String hash = dnnl_version_t.hash(v).reinterpret(64).getString(0);
        return dnnl_version_t.major(v) + "." + dnnl_version_t.minor(v) + "." + dnnl_version_t.patch(v)
                + " (" + hash + ")";
    }

    /** The instruction set oneDNN dispatches to on this machine, e.g. "Intel AVX2 with ...". */
    public static String effectiveIsa() {
        ensureLoaded();
        int isa = dnnl_get_effective_cpu_isa();
        MemorySegment name = dnnl_cpu_isa2str(isa);
        return name.equals(MemorySegment.NULL) ? "isa " + isa : name.reinterpret(256).getString(0);
    }

    /** oneDNN's CPU threading here is OpenMP (libgomp); these are its thread controls. */
    private static final class OpenMp {
        // void omp_set_num_threads(int); int omp_get_max_threads(void);
        static final MethodHandle SET_NUM_THREADS;
        static final MethodHandle GET_MAX_THREADS;

        static {
            ensureLoaded();
            // dlopen by soname returns the libgomp that libdnnl already pulled in (RUNPATH $ORIGIN).
            Optional<SymbolLookup> gomp;
            try {
                gomp = Optional.of(SymbolLookup.libraryLookup("libgomp.so.1", Arena.global()));
            } catch (IllegalArgumentException e) {
                gomp = Optional.empty();
            }
            Linker linker = Linker.nativeLinker();
            SET_NUM_THREADS = gomp.flatMap(l -> l.find("omp_set_num_threads"))
                    .map(a -> linker.downcallHandle(a, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)))
                    .orElse(null);
            GET_MAX_THREADS = gomp.flatMap(l -> l.find("omp_get_max_threads"))
                    .map(a -> linker.downcallHandle(a, FunctionDescriptor.of(ValueLayout.JAVA_INT)))
                    .orElse(null);
        }
    }

    /**
     * Sets how many threads oneDNN primitives executed <em>from the calling Java thread</em> use
     * (OpenMP keeps this per calling thread). Must be at least 1.
     */
    public static void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (OpenMp.SET_NUM_THREADS == null) {
            throw new UnsupportedOperationException("the loaded oneDNN does not use OpenMP (no omp_set_num_threads in libgomp.so.1)");
        }
        try {
            OpenMp.SET_NUM_THREADS.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException("omp_set_num_threads(" + threads + ") failed", t);
        }
    }

    /** The number of threads oneDNN primitives executed from the calling Java thread will use. */
    public static int threads() {
        if (OpenMp.GET_MAX_THREADS == null) return 1;
        try {
            return (int) OpenMp.GET_MAX_THREADS.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("omp_get_max_threads() failed", t);
        }
    }
}
