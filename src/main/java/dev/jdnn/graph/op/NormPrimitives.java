package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.C_POINTER;

import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.graph.NativeOp;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * oneDNN entry points the reductions and layer normalisation need that the committed jextract
 * bindings do not cover ({@code native/dnnl-includes.txt} predates them, and jextract is not on the
 * build machines): {@code dnnl_reduction_primitive_desc_create} and
 * {@code dnnl_layer_normalization_forward_primitive_desc_create}, bound here by hand with the C
 * signatures of oneDNN 3.13's {@code dnnl.h}, plus the enum values they take (from {@code dnnl_types.h}).
 * When the bindings are regenerated with these functions included, this class can go.
 *
 * <p>Also {@link #reshaped}: a primitive run on a reshaped view of row-major buffers (the keepdims=0
 * form of a reduction, layer normalisation on its 2-D view), reporting the node's own shapes.
 */
final class NormPrimitives {
    private NormPrimitives() {}

    // dnnl_alg_kind_t: dnnl_resampling_linear = 0x2fff1, then the reductions in declaration order.
    static final int REDUCTION_MAX = 0x2fff2;
    static final int REDUCTION_MIN = 0x2fff3;
    static final int REDUCTION_SUM = 0x2fff4;
    static final int REDUCTION_MUL = 0x2fff5;
    static final int REDUCTION_MEAN = 0x2fff6;
    static final int REDUCTION_NORM_LP_MAX = 0x2fff7;
    static final int REDUCTION_NORM_LP_SUM = 0x2fff8;
    static final int REDUCTION_NORM_LP_POWER_P_MAX = 0x2fff9;
    static final int REDUCTION_NORM_LP_POWER_P_SUM = 0x2fffa;

    // dnnl_normalization_flags_t
    static final int USE_SCALE = 0x2;
    static final int USE_SHIFT = 0x4;

    private static final class Handles {
        static final MethodHandle REDUCTION;
        static final MethodHandle LAYER_NORM;

        static {
            Dnnl.ensureLoaded();
            SymbolLookup lookup = SymbolLookup.loaderLookup();
            Linker linker = Linker.nativeLinker();
            // dnnl_status_t dnnl_reduction_primitive_desc_create(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
            //     dnnl_alg_kind_t alg, const_dnnl_memory_desc_t src, const_dnnl_memory_desc_t dst, float p, float eps,
            //     const_dnnl_primitive_attr_t attr)
            REDUCTION = linker.downcallHandle(lookup.findOrThrow("dnnl_reduction_primitive_desc_create"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, C_POINTER, C_POINTER, ValueLayout.JAVA_INT, C_POINTER, C_POINTER,
                            ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT, C_POINTER));
            // dnnl_status_t dnnl_layer_normalization_forward_primitive_desc_create(dnnl_primitive_desc_t *pd,
            //     dnnl_engine_t engine, dnnl_prop_kind_t prop, const_dnnl_memory_desc_t src, const_dnnl_memory_desc_t dst,
            //     const_dnnl_memory_desc_t stat, float epsilon, unsigned flags, const_dnnl_primitive_attr_t attr)
            LAYER_NORM = linker.downcallHandle(lookup.findOrThrow("dnnl_layer_normalization_forward_primitive_desc_create"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, C_POINTER, C_POINTER, ValueLayout.JAVA_INT, C_POINTER, C_POINTER,
                            C_POINTER, ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_INT, C_POINTER));
        }
    }

    static int reductionCreate(MemorySegment pd, MemorySegment engine, int alg, MemorySegment src, MemorySegment dst,
                               float p, float eps, MemorySegment attr) {
        try {
            return (int) Handles.REDUCTION.invokeExact(pd, engine, alg, src, dst, p, eps, attr);
        } catch (Throwable t) {
            throw new IllegalStateException("dnnl_reduction_primitive_desc_create failed", t);
        }
    }

    static int layerNormCreate(MemorySegment pd, MemorySegment engine, int propKind, MemorySegment src, MemorySegment dst,
                               MemorySegment stat, float epsilon, int flags, MemorySegment attr) {
        try {
            return (int) Handles.LAYER_NORM.invokeExact(pd, engine, propKind, src, dst, stat, epsilon, flags, attr);
        } catch (Throwable t) {
            throw new IllegalStateException("dnnl_layer_normalization_forward_primitive_desc_create failed", t);
        }
    }

    /**
     * {@code op} (whose one runtime input and output descriptors describe a reshaped view) as a node whose
     * input and output are the plain row-major {@code inDesc} and {@code outDesc} of the same sizes: the
     * bytes are the same, only the dimensions differ.
     */
    static NativeOp reshaped(Primitives.PrimitiveOp op, MemorySegment inDesc, MemorySegment outDesc) {
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return inDesc; }
            @Override public MemorySegment outputDesc() { return outDesc; }
            @Override public long scratchpadBytes() { return op.scratchpadBytes(); }
            @Override public int reusesInput() { return op.reusesInput(); }
            @Override public String description() { return op.description(); }
            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                return op.bind(inputs, output, scratchpad);
            }
            @Override public void close() { op.close(); }
        };
    }
}
