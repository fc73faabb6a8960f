package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Running a {@link NativeOp} built for plain tensors node by node (Backend.NATIVE without a compiled
 * plan), and {@link Viewed}, a primitive whose arguments are views of the node's tensors with other
 * dimensions or strides than the tensors themselves (a 1-D MatMul operand as 1×K, a transposed Gemm A
 * as M×K with strides (1, M), an Einsum operand with its axes permuted).
 */
final class NativeStep {
    private NativeStep() {}

    /**
     * A step running {@code op} on plain float32 tensors: {@code runtime[i]} is the node input bound to
     * the op's runtime input i. The step owns {@code op}.
     */
    static Op.Step of(NativeOp op, int[] runtime, long[] out, Node node) {
        return new Op.Step() {
            @Override public List<long[]> outputShapes() { return List.of(out); }
            @Override public List<DataType> outputTypes() { return List.of(DataType.FLOAT); }
            @Override public List<Value> run(List<Value> inputs) {
                Tensor y = Tensor.zeros(out);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment[] ins = new MemorySegment[runtime.length];
                    for (int i = 0; i < ins.length; i++) ins[i] = Ops.floats(inputs, runtime[i], node).segment();
                    MemorySegment scratch = op.scratchpadBytes() > 0 ? arena.allocate(op.scratchpadBytes(), 64) : MemorySegment.NULL;
                    try (NativeOp.Bound b = op.bind(ins, y.segment(), scratch)) {
                        b.run();
                    }
                } catch (RuntimeException e) {
                    y.close();
                    throw e;
                }
                return List.of(new Value.Floats(y));
            }
            @Override public void close() { op.close(); }
        };
    }

    /** A strided f32 descriptor: {@code dims} with element {@code strides}, owned by {@code arena}. */
    static MemorySegment strided(Arena arena, long[] dims, long[] strides) {
        MemorySegment d = arena.allocateFrom(C_LONG, dims), s = arena.allocateFrom(C_LONG, strides);
        return Dnnl.create(arena, "dnnl_memory_desc_create_with_strides", "f32 " + MemoryDescs.dims(dims) + " strides " + MemoryDescs.dims(strides),
                out -> dnnl_memory_desc_create_with_strides(out, dims.length, d, dnnl_f32(), s), m -> dnnl_memory_desc_destroy(m));
    }

    /**
     * A primitive whose runtime inputs and output are plain tensors of the node's shapes, seen by the
     * primitive through other descriptors over the same bytes. Build: construct, {@link #create}, then
     * {@link #input} per runtime input, {@link #output}, constants; close on failure.
     */
    static final class Viewed implements NativeOp {
        record Arg(int kind, MemorySegment argDesc, MemorySegment planDesc) {}
        record Constant(int kind, MemorySegment desc, MemorySegment data) {}

        final Arena arena = Arena.ofShared();
        Primitive primitive;
        String description;
        final List<Arg> inputs = new ArrayList<>();
        Arg output;
        final List<Constant> constants = new ArrayList<>();
        long scratchpadBytes;

        Viewed(String description) {
            this.description = description;
        }

        Viewed create(String function, java.util.function.ToIntFunction<MemorySegment> createDesc) {
            primitive = Primitive.create(function, description, createDesc);
            scratchpadBytes = MemoryDescs.size(primitive.queryDesc(dnnl_query_scratchpad_md(), 0));
            description += " [" + primitive.implementation() + "]";
            return this;
        }

        /** A runtime input: the primitive's argument {@code kind} in {@code argDesc}, the tensor plain of {@code shape}. */
        Viewed input(int kind, MemorySegment argDesc, long[] shape) {
            inputs.add(new Arg(kind, argDesc, MemoryDescs.plain(arena, shape)));
            return this;
        }

        Viewed output(int kind, MemorySegment argDesc, long[] shape) {
            output = new Arg(kind, argDesc, MemoryDescs.plain(arena, shape));
            return this;
        }

        /** A constant argument, reordered once from plain {@code dims} into the layout the primitive chose for {@code query}. */
        Viewed packed(int kind, int query, long[] dims, float[] values) {
            MemorySegment chosen = MemoryDescs.clone(arena, primitive.queryDesc(query, 0));
            MemorySegment packed = arena.allocate(Math.max(64, MemoryDescs.size(chosen)), 64);
            MemorySegment plain = MemoryDescs.plain(arena, dims);
            try (Arena staging = Arena.ofConfined();
                 dev.jdnn.ops.reorder.NativeReorder pack = new dev.jdnn.ops.reorder.NativeReorder(plain, chosen, "constant of " + description)) {
                pack.run(staging.allocateFrom(ValueLayout.JAVA_FLOAT, values), packed);
            }
            constants.add(new Constant(kind, chosen, packed));
            return this;
        }

        /** A constant argument already in the layout {@code desc} describes. */
        Viewed constant(int kind, MemorySegment desc, float[] values) {
            constants.add(new Constant(kind, desc, arena.allocateFrom(ValueLayout.JAVA_FLOAT, values)));
            return this;
        }

        @Override public MemorySegment inputDesc(int i) { return inputs.get(i).planDesc(); }
        @Override public MemorySegment outputDesc() { return output.planDesc(); }
        @Override public long scratchpadBytes() { return scratchpadBytes; }
        @Override public String description() { return description; }

        @Override public Bound bind(MemorySegment[] in, MemorySegment out, MemorySegment scratchpad) {
            Execution e = new Execution(primitive, inputs.size() + constants.size() + 2);
            try {
                for (int i = 0; i < inputs.size(); i++) e.arg(inputs.get(i).kind(), inputs.get(i).argDesc()).set(inputs.get(i).kind(), in[i]);
                e.arg(output.kind(), output.argDesc()).set(output.kind(), out);
                for (Constant c : constants) e.arg(c.kind(), c.desc()).set(c.kind(), c.data());
                if (scratchpadBytes > 0) {
                    e.arg(DNNL_ARG_SCRATCHPAD(), primitive.queryDesc(dnnl_query_scratchpad_md(), 0)).set(DNNL_ARG_SCRATCHPAD(), scratchpad);
                }
            } catch (RuntimeException ex) {
                e.close();
                throw ex;
            }
            return new Bound() {
                @Override public void run() { e.run(); }
                @Override public void close() { e.close(); }
            };
        }

        @Override public void close() {
            if (primitive != null) primitive.close();
            arena.close();
        }
    }
}
