package dev.jdnn.dnnl;

import static dev.jdnn.bindings.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The oneDNN CPU engine (one per process) and its streams (one per Java thread that executes).
 *
 * <p>Lifetimes: the engine lives as long as the JVM (it is tied to the global arena). A stream is
 * created the first time a thread executes a primitive and tied to an automatic arena held only by
 * that thread's {@link ThreadLocal}: when the thread dies, the stream becomes unreachable and is
 * destroyed by the garbage collector. oneDNN streams are not meant to be shared between threads
 * executing at once, so no stream is ever shared.
 */
public final class Engine {
    private static volatile MemorySegment cpu;

    private static final ThreadLocal<MemorySegment> STREAM = ThreadLocal.withInitial(() -> {
        MemorySegment engine = cpu();
        return Dnnl.create(Arena.ofAuto(), "dnnl_stream_create", "cpu engine, default flags",
                out -> dnnl_stream_create(out, engine, dnnl_stream_default_flags()),
                s -> dnnl_stream_destroy(s));
    });

    private Engine() {}

    /** The process-wide CPU engine ({@code dnnl_engine_t}). */
    public static MemorySegment cpu() {
        MemorySegment engine = cpu;
        if (engine == null) {
            synchronized (Engine.class) {
                engine = cpu;
                if (engine == null) {
                    Dnnl.ensureLoaded();
                    engine = Dnnl.create(Arena.global(), "dnnl_engine_create", "kind cpu, index 0",
                            out -> dnnl_engine_create(out, dnnl_cpu(), 0), e -> dnnl_engine_destroy(e));
                    cpu = engine;
                }
            }
        }
        return engine;
    }

    /** The calling thread's stream ({@code dnnl_stream_t}) on the CPU engine. */
    public static MemorySegment stream() {
        return STREAM.get();
    }
}
