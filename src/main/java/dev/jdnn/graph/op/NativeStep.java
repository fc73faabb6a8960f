package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
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
        return MemoryDescs.strided(arena, dims, strides);
    }

    /**
     * A primitive whose runtime inputs and output are plain tensors of the node's shapes, seen by the
     * primitive through other descriptors over the same bytes. Build: construct, {@link #create}, then
     * {@link #input} per runtime input, {@link #output}, constants; close on failure.
     */
    static final class Viewed implements NativeOp {
        record Arg(int kind, MemorySegment argDesc, MemorySegment planDesc) {}

        final Arena arena = Arena.ofShared();
        Primitive primitive;
        String description;
        final List<Arg> inputs = new ArrayList<>();
        Arg output;
        final List<Primitives.PrimitiveOp.Constant> constants = new ArrayList<>();
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
            MemorySegment packed = Primitives.pack(arena, MemoryDescs.plain(arena, dims), chosen, values, "constant of " + description);
            constants.add(new Primitives.PrimitiveOp.Constant(kind, chosen, packed));
            return this;
        }

        /** A constant argument already in the layout {@code desc} describes. */
        Viewed constant(int kind, MemorySegment desc, float[] values) {
            constants.add(new Primitives.PrimitiveOp.Constant(kind, desc, arena.allocateFrom(ValueLayout.JAVA_FLOAT, values)));
            return this;
        }

        @Override public MemorySegment inputDesc(int i) { return inputs.get(i).planDesc(); }
        @Override public MemorySegment outputDesc() { return output.planDesc(); }
        @Override public long scratchpadBytes() { return scratchpadBytes; }
        @Override public String description() { return description; }

        @Override public Bound bind(MemorySegment[] in, MemorySegment out, MemorySegment scratchpad) {
            int[] kinds = new int[inputs.size()];
            MemorySegment[] descs = new MemorySegment[inputs.size()];
            for (int i = 0; i < kinds.length; i++) {
                kinds[i] = inputs.get(i).kind();
                descs[i] = inputs.get(i).argDesc();
            }
            return Primitives.bind(primitive, kinds, descs, in, output.kind(), output.argDesc(), out, constants, scratchpadBytes, scratchpad);
        }

        @Override public void close() {
            if (primitive != null) primitive.close();
            arena.close();
        }
    }
}
