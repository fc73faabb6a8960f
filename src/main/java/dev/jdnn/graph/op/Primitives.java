package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.eltwise.NativeEltwise;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.ToIntFunction;

/**
 * The oneDNN building blocks op classes lower to: a primitive with its argument kinds and constants
 * ({@link PrimitiveOp}), an eltwise primitive, a binary primitive, and the layout-preserving identity
 * and plain copy used by shape-only ops.
 */
public final class Primitives {
    private Primitives() {}

    /**
     * One primitive with its argument kinds: runtime inputs, the output, constants bound once, scratchpad.
     * Usage: {@code new PrimitiveOp(description)}, then {@link #create}, then set {@link #inputKinds},
     * {@link #inputDescs}, {@link #outputKind}, {@link #outputDesc} (and constants); close it on failure.
     */
    public static final class PrimitiveOp implements NativeOp {
        public record Constant(int kind, MemorySegment desc, MemorySegment data) {}

        public final Arena arena = Arena.ofShared();
        public Primitive primitive;
        public String description;
        public int[] inputKinds;
        public MemorySegment[] inputDescs;
        public int outputKind;
        public MemorySegment outputDesc;
        public final List<Constant> constants = new ArrayList<>();
        public long scratchpadBytes;
        public int reusesInput = -1;   // oneDNN runs this primitive in place (dst = src) correctly

        public PrimitiveOp(String description) {
            this.description = description;
        }

        /** Creates the primitive (pd out-pointer → status) and reads its scratchpad size; closes on failure. */
        public PrimitiveOp create(String function, ToIntFunction<MemorySegment> createDesc) {
            try {
                primitive = Primitive.create(function, description, createDesc);
                scratchpadBytes = MemoryDescs.size(primitive.queryDesc(dnnl_query_scratchpad_md(), 0));
                description += " [" + primitive.implementation() + "]";
                return this;
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        /** A float32 constant argument (1-D, plain). */
        public PrimitiveOp constant(int kind, float[] values) {
            MemorySegment desc = MemoryDescs.plain(arena, new long[] {values.length});
            constants.add(new Constant(kind, desc, arena.allocateFrom(ValueLayout.JAVA_FLOAT, values)));
            return this;
        }

        /** A float32 constant argument with its own descriptor (e.g. a broadcast operand). */
        public PrimitiveOp constant(int kind, MemorySegment desc, float[] values) {
            constants.add(new Constant(kind, desc, arena.allocateFrom(ValueLayout.JAVA_FLOAT, values)));
            return this;
        }

        /** One runtime input, argument {@code kind} in {@code desc}; the output DST in the layout the primitive chose. */
        public PrimitiveOp input(int kind, MemorySegment desc) {
            inputKinds = new int[] {kind};
            inputDescs = new MemorySegment[] {desc};
            outputKind = DNNL_ARG_DST();
            outputDesc = primitive.queryDesc(dnnl_query_dst_md(), 0);
            return this;
        }

        /** Runtime input SRC and output DST, both in the layouts the primitive chose (after {@link #create}). */
        public PrimitiveOp srcToDst() {
            return input(DNNL_ARG_SRC(), primitive.queryDesc(dnnl_query_src_md(), 0));
        }

        @Override public MemorySegment inputDesc(int i) { return inputDescs[i]; }
        @Override public MemorySegment outputDesc() { return outputDesc; }
        @Override public long scratchpadBytes() { return scratchpadBytes; }
        @Override public int reusesInput() { return reusesInput; }
        @Override public String description() { return description; }

        @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
            return Primitives.bind(primitive, inputKinds, inputDescs, inputs, outputKind, outputDesc, output, constants, scratchpadBytes, scratchpad);
        }

        private boolean closed;

        /** Idempotent: a failed create may already have closed it before the caller's cleanup runs. */
        @Override public void close() {
            if (closed) return;
            closed = true;
            if (primitive != null) primitive.close();
            arena.close();
        }
    }

    /**
     * Binds one frame's buffers to {@code primitive} as one {@link Execution}: runtime input i as argument
     * {@code inputKinds[i]} in {@code inputDescs[i]}, the output, the constants, and the scratchpad (when
     * {@code scratchpadBytes > 0}). Every primitive-backed {@link NativeOp} binds through here.
     */
    static NativeOp.Bound bind(Primitive primitive, int[] inputKinds, MemorySegment[] inputDescs, MemorySegment[] inputs,
                               int outputKind, MemorySegment outputDesc, MemorySegment output,
                               List<PrimitiveOp.Constant> constants, long scratchpadBytes, MemorySegment scratchpad) {
        Execution e = new Execution(primitive, inputKinds.length + constants.size() + 2);
        try {
            for (int i = 0; i < inputKinds.length; i++) e.arg(inputKinds[i], inputDescs[i]).set(inputKinds[i], inputs[i]);
            e.arg(outputKind, outputDesc).set(outputKind, output);
            for (PrimitiveOp.Constant c : constants) e.arg(c.kind(), c.desc()).set(c.kind(), c.data());
            if (scratchpadBytes > 0) {
                e.arg(DNNL_ARG_SCRATCHPAD(), primitive.queryDesc(dnnl_query_scratchpad_md(), 0)).set(DNNL_ARG_SCRATCHPAD(), scratchpad);
            }
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
        return new NativeOp.Bound() {
            @Override public void run() { e.run(); }
            @Override public void close() { e.close(); }
        };
    }

    /** {@code values}, laid out as {@code from}, reordered once into the layout {@code to} (a constant argument's data, owned by {@code arena}). */
    static MemorySegment pack(Arena arena, MemorySegment from, MemorySegment to, float[] values, String description) {
        try (Arena staging = Arena.ofConfined()) {
            return pack(arena, from, to, staging.allocateFrom(ValueLayout.JAVA_FLOAT, values), description);
        }
    }

    /** As above, from native memory laid out as {@code from} (the caller keeps it). */
    static MemorySegment pack(Arena arena, MemorySegment from, MemorySegment to, MemorySegment values, String description) {
        MemorySegment packed = arena.allocate(Math.max(64, MemoryDescs.size(to)), 64);
        try (NativeReorder pack = new NativeReorder(from, to, description)) {
            pack.run(values, packed);
        }
        return packed;
    }

    /** A primitive attribute with a user-managed scratchpad (every frame of a compiled plan brings its own). */
    public static MemorySegment userScratchpad(Arena arena, String description) {
        MemorySegment attr = Dnnl.create(arena, "dnnl_primitive_attr_create", description,
                out -> dnnl_primitive_attr_create(out), a -> dnnl_primitive_attr_destroy(a));
        Dnnl.check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user()), "dnnl_primitive_attr_set_scratchpad_mode", description);
        return attr;
    }

    /** Appends {@code activation} as an eltwise post-op to a primitive attribute (nothing when null). */
    public static void appendEltwise(Arena arena, MemorySegment attr, PostOp activation, String description) {
        if (activation == null) return;
        MemorySegment postOps = Dnnl.create(arena, "dnnl_post_ops_create", description, o -> dnnl_post_ops_create(o), p -> dnnl_post_ops_destroy(p));
        Dnnl.check(dnnl_post_ops_append_eltwise(postOps, activation.algorithm().dnnl(), activation.alpha(), activation.beta()),
                "dnnl_post_ops_append_eltwise", description);
        Dnnl.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "dnnl_primitive_attr_set_post_ops", description);
    }

    /** A float32 constant input's data, or an error naming the node. */
    public static float[] array(List<Value> constants, int i, Node node) {
        if (!(constants.get(i) instanceof Value.Floats f)) throw Ops.error(node, "input " + i + " must be a float32 constant");
        return f.tensor().toArray();
    }

    /** oneDNN descriptors cover rank 1..6 with positive dimensions. */
    public static boolean nativeShape(long[] shape) {
        if (shape == null || shape.length < 1 || shape.length > 6) return false;
        for (long d : shape) if (d <= 0) return false;
        return true;
    }

    /** {@code alg(x; alpha, beta)} element-wise in the input's layout (runs in place). */
    public static NativeOp eltwise(Node node, PostOp a, long[] shape, MemorySegment srcDesc) {
        String description = node.label() + ": eltwise " + a.algorithm() + "(" + a.alpha() + ", " + a.beta() + ") " + MemoryDescs.dims(shape);
        PrimitiveOp op = new PrimitiveOp(description);
        try {
            MemorySegment attr = userScratchpad(op.arena, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_eltwise_forward_primitive_desc_create", o -> dnnl_eltwise_forward_primitive_desc_create(o, engine,
                    dnnl_forward_inference(), a.algorithm().dnnl(), srcDesc, srcDesc, a.alpha(), a.beta(), attr));
            op.reusesInput = 0;
            return op.input(DNNL_ARG_SRC(), srcDesc);
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /**
     * Node-by-node native {@code alg(x; alpha, beta)} on a plain float32 input 0 of {@code shape} (Backend.NATIVE
     * without a compiled plan): one oneDNN eltwise primitive, run into a fresh tensor.
     */
    static Op.Step eltwiseStep(Node node, PostOp f, long[] shape) {
        NativeEltwise compiled = new NativeEltwise(f.algorithm(), f.alpha(), f.beta(), shape);
        return new Op.Step() {
            @Override public List<long[]> outputShapes() { return List.of(shape); }
            @Override public List<DataType> outputTypes() { return List.of(DataType.FLOAT); }
            @Override public List<Value> run(List<Value> inputs) {
                Tensor y = Tensor.zeros(shape);
                compiled.run(Ops.floats(inputs, 0, node), y);
                return List.of(new Value.Floats(y));
            }
            @Override public void close() { compiled.close(); }
        };
    }

    /** An op that passes its input through unchanged, in whatever layout it has (runs in place when it can). */
    public static NativeOp identity(Node node, long[] shape, MemorySegment desc) {
        long bytes = MemoryDescs.size(desc);
        String description = node.label() + ": " + node.opType() + " (identity) " + MemoryDescs.dims(shape);
        return sameDesc(desc, description, (src, output) -> () -> {
            if (src.address() != output.address()) MemorySegment.copy(src, 0, output, 0, bytes);
        });
    }

    /**
     * A one-input step whose output has the input's descriptor (any layout) and may take over its buffer:
     * {@code body} makes the run from the (input, output) buffers.
     */
    public static NativeOp sameDesc(MemorySegment desc, String description, java.util.function.BiFunction<MemorySegment, MemorySegment, NativeOp.Bound> body) {
        return new NativeOp() {
            @Override public MemorySegment inputDesc(int i) { return desc; }
            @Override public MemorySegment outputDesc() { return desc; }
            @Override public long scratchpadBytes() { return 0; }
            @Override public int reusesInput() { return 0; }
            @Override public String description() { return description; }
            @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                return body.apply(inputs[0], output);
            }
            @Override public void close() { }
        };
    }

    /**
     * Shape-only ops (Flatten, Reshape, ...) on plain tensors: row-major data does not change, so the plan
     * gives the output its input's buffer when nothing reads the input afterwards ({@link NativeOp#sameBytesAsInput});
     * otherwise a plain copy.
     */
    public static NativeOp copy(Node node, long[] in, long[] out) {
        String description = node.label() + ": " + node.opType() + " (copy) " + MemoryDescs.dims(in) + " -> " + MemoryDescs.dims(out);
        long bytes = Ops.count(out) * Float.BYTES;
        return move(in, out, description, true, (src, output) -> () -> {
            if (src.address() != output.address()) MemorySegment.copy(src, 0, output, 0, bytes);
        });
    }

    /**
     * Data movement between plain float32 tensors {@code in → out} done in Java (no primitive):
     * {@code bind} binds one frame's source and destination buffers.
     */
    static NativeOp move(long[] in, long[] out, String description, BiFunction<MemorySegment, MemorySegment, NativeOp.Bound> bind) {
        return move(in, out, description, false, bind);
    }

    /** As above; {@code sameBytes}: the output is the input's bytes unchanged (see {@link NativeOp#sameBytesAsInput}). */
    private static NativeOp move(long[] in, long[] out, String description, boolean sameBytes, BiFunction<MemorySegment, MemorySegment, NativeOp.Bound> bind) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment inDesc = MemoryDescs.plain(arena, in);
            MemorySegment outDesc = MemoryDescs.plain(arena, out);
            return new NativeOp() {
                @Override public MemorySegment inputDesc(int i) { return inDesc; }
                @Override public MemorySegment outputDesc() { return outDesc; }
                @Override public long scratchpadBytes() { return 0; }
                @Override public boolean sameBytesAsInput() { return sameBytes; }
                @Override public String description() { return description; }
                @Override public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
                    return bind.apply(inputs[0], output);
                }
                @Override public void close() { arena.close(); }
            };
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }
}
