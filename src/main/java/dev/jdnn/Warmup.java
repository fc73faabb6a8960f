package dev.jdnn;

import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.graph.op.Registry;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Start-up work that the first plan would otherwise do on the caller's thread, begun on a background
 * thread while the model loads, so that time to first result overlaps the two.
 *
 * <p>In a fresh JVM, preparing the first plan of a model spends much of its time not in oneDNN's kernels
 * but in one-off costs: loading {@code libdnnl.so}, creating the engine, the JVM generating an FFM
 * downcall stub for each oneDNN function the first time its binding class is initialised, and loading the
 * op classes ({@link Registry}). None of these depends on the model, so {@link #start()} (called by
 * {@code Model.load}) runs them on a daemon thread while the caller parses the model file. The results are the same objects the caller would have made:
 * class initialisation and loading the library happen once per JVM whoever gets there first (the
 * other thread waits), so nothing is done twice and nothing depends on which thread wins. A failure here
 * is ignored: the caller meets the same failure, with its usual message, when it needs oneDNN.
 *
 * <p>Off with {@code -Djdnn.warmup=false} (for instance when a JVM only ever uses the Java backend and
 * should not map oneDNN).
 */
final class Warmup {
    static final String PROPERTY = "jdnn.warmup";

    private static final AtomicBoolean STARTED = new AtomicBoolean();

    /**
     * The oneDNN functions every compiled plan of a CNN calls (their jextract holder classes in
     * {@code dnnl_h}): memory descriptors, attributes and post-ops, the common primitives, reorders,
     * execution. A function missing here only loses its head start.
     */
    static final List<String> FUNCTIONS = List.of(
            "dnnl_memory_desc_create_with_tag", "dnnl_memory_desc_get_size", "dnnl_memory_desc_equal",
            "dnnl_memory_desc_clone", "dnnl_memory_desc_destroy",
            "dnnl_primitive_attr_create", "dnnl_primitive_attr_set_scratchpad_mode", "dnnl_primitive_attr_set_post_ops",
            "dnnl_primitive_attr_destroy", "dnnl_post_ops_create", "dnnl_post_ops_append_eltwise",
            "dnnl_post_ops_append_sum", "dnnl_post_ops_destroy",
            "dnnl_convolution_forward_primitive_desc_create", "dnnl_pooling_forward_primitive_desc_create",
            "dnnl_eltwise_forward_primitive_desc_create", "dnnl_inner_product_forward_primitive_desc_create",
            "dnnl_concat_primitive_desc_create", "dnnl_reorder_primitive_desc_create",
            "dnnl_primitive_desc_query", "dnnl_primitive_desc_query_md", "dnnl_primitive_desc_destroy",
            "dnnl_primitive_create", "dnnl_primitive_destroy", "dnnl_primitive_execute",
            "dnnl_memory_create", "dnnl_memory_set_data_handle", "dnnl_memory_destroy",
            "dnnl_stream_create", "dnnl_stream_wait");

    private Warmup() {}

    /** Starts the warm-up once per JVM, unless {@value #PROPERTY} is {@code false}; returns at once. */
    static void start() {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true")) || !STARTED.compareAndSet(false, true)) return;
        Thread.ofPlatform().name("jdnn-warmup").daemon().start(Warmup::run);
    }

    private static void run() {
        try {
            Engine.cpu();
            Dnnl.threads();
            Class.forName(Registry.class.getName(), true, Warmup.class.getClassLoader());   // the caller needs it at the end of loading
            for (String function : FUNCTIONS) {
                // Initialising the holder class creates the function's downcall handle (and stub).
                Class.forName("dev.jdnn.bindings.dnnl_h$" + function, true, Warmup.class.getClassLoader());
            }
        } catch (Throwable e) {
            System.getLogger("dev.jdnn.warmup").log(System.Logger.Level.DEBUG, "warm-up stopped (the first plan will report any real problem): " + e);
        }
    }
}
