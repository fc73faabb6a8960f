package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.DnnlException;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.dnnl.Primitive;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A chain of float32 element-wise binary operations with broadcasting as one oneDNN binary primitive:
 * {@code dst = (((op₁ ⊙₁ op₂) ⊙₂ op₃) ⊙₃ …)} then optional eltwise post-ops, where the first ⊙ is the
 * primitive's algorithm and the rest are binary post-ops ({@code Sum(a,b,c)} = add with an add post-op).
 * Every operand is broadcast to the output over dimensions of size 1 (oneDNN needs equal ranks, so a
 * lower-rank operand is given leading 1s: {@code [C,1,1]} is read as {@code [1,C,1,1]}); a constant operand
 * is bound once with the primitive ({@code [1,C,1,1]} per-channel scales), a runtime one is an input of
 * the {@link NativeOp}, in node input order.
 *
 * <p>Layouts: the first operand should have the output's shape; it and the output then keep whatever
 * layout the producer left (blocked or NHWC), and other same-rank runtime operands keep theirs. When
 * oneDNN has no optimized kernel for that mix (it falls back to its reference kernel) or none at all,
 * everything is made plain row-major instead (the plan reorders).
 */
final class BinaryPrimitive implements NativeOp {
    /**
     * One operand of the chain.
     *
     * @param shape        its shape (rank ≤ output rank, broadcastable to the output)
     * @param constant     its data when known at prepare time (bound once), else null
     * @param runtimeIndex its index among the node's runtime inputs (constant: -1)
     * @param desc         its current layout (runtime operands; null means plain)
     */
    record Operand(long[] shape, float[] constant, int runtimeIndex, MemorySegment desc) {}

    private final Arena arena = Arena.ofShared();
    private final String description0;
    private String description;
    private Primitive primitive;
    private MemorySegment[] visibleDescs;   // per runtime input: the layout the plan must supply
    private int[] runtimeKinds;             // per runtime input: the argument kind
    private MemorySegment[] runtimeArgDescs; // per runtime input: the (rank-extended) descriptor the primitive reads
    private final List<Primitives.PrimitiveOp.Constant> constants = new ArrayList<>();
    private MemorySegment dstDesc;
    private long scratchpadBytes;
    private int reuses = -1;

    private BinaryPrimitive(String description) {
        this.description0 = description;
        this.description = description;
    }

    /** The argument kind of binary post-op {@code index}'s second source. */
    static int postOpSrc1(int index) {
        return DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE() * (index + 1) | DNNL_ARG_SRC_1();
    }

    /**
     * Creates the chain, or returns null when oneDNN has no implementation for it.
     *
     * @param algorithms {@code operands.size() - 1} oneDNN binary algorithms ({@code dnnl_binary_add()}, ...)
     * @param eltwise    eltwise post-ops after the chain, {@code {alg, alpha, beta}} each (may be empty)
     */
    static BinaryPrimitive create(Node node, String what, long[] out, List<Operand> operands, int[] algorithms, List<float[]> eltwise) {
        if (operands.size() < 2 || algorithms.length != operands.size() - 1) throw new IllegalArgumentException("a chain needs n ≥ 2 operands and n - 1 algorithms");
        if (!Primitives.nativeShape(out)) return null;
        int runtime = 0;
        for (Operand o : operands) {
            if (o.shape().length > out.length || !Primitives.nativeShape(o.shape()) && o.shape().length > 0) return null;
            if (o.runtimeIndex() >= 0) runtime++;
        }
        if (runtime == 0) return null;
        StringBuilder d = new StringBuilder(node.label() + ": " + what + " ");
        for (int i = 0; i < operands.size(); i++) {
            Operand o = operands.get(i);
            d.append(i == 0 ? "" : " , ").append(o.shape().length == 0 ? "scalar" : MemoryDescs.dims(o.shape())).append(o.constant() != null ? " (const)" : "");
        }
        d.append(" -> ").append(MemoryDescs.dims(out));
        // First the layouts we were given; if oneDNN has only its reference kernel (or nothing) for them, all plain.
        BinaryPrimitive kept = attempt(d.toString(), out, operands, algorithms, eltwise, runtime, false);
        if (kept != null && !kept.primitive.implementation().startsWith("ref")) return kept;
        boolean anyLayout = false;
        for (Operand o : operands) if (o.desc() != null) anyLayout = true;
        if (!anyLayout) return kept;
        BinaryPrimitive plain = attempt(d.toString(), out, operands, algorithms, eltwise, runtime, true);
        if (plain == null) return kept;
        if (kept != null && plain.primitive.implementation().startsWith("ref")) {
            plain.close();
            return kept;
        }
        if (kept != null) kept.close();
        return plain;
    }

    private static BinaryPrimitive attempt(String description, long[] out, List<Operand> operands, int[] algorithms, List<float[]> eltwise,
                                           int runtime, boolean allPlain) {
        BinaryPrimitive p = new BinaryPrimitive(allPlain ? description + " (plain layouts)" : description);
        try {
            p.build(out, operands, algorithms, eltwise, runtime, allPlain);
            return p;
        } catch (DnnlException e) {
            p.close();
            return null;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    private void build(long[] out, List<Operand> operands, int[] algorithms, List<float[]> eltwise, int runtime, boolean allPlain) {
        int rank = out.length;
        visibleDescs = new MemorySegment[runtime];
        runtimeKinds = new int[runtime];
        runtimeArgDescs = new MemorySegment[runtime];
        MemorySegment[] descs = new MemorySegment[operands.size()];
        for (int i = 0; i < operands.size(); i++) {
            Operand o = operands.get(i);
            long[] extended = extend(o.shape(), rank);
            boolean ownLayout = !allPlain && o.runtimeIndex() >= 0 && o.desc() != null && o.shape().length == rank
                    && (i > 0 || Arrays.equals(o.shape(), out));
            descs[i] = ownLayout ? o.desc() : MemoryDescs.plain(arena, extended);
            int kind = i == 0 ? DNNL_ARG_SRC_0() : i == 1 ? DNNL_ARG_SRC_1() : postOpSrc1(i - 2);
            if (o.runtimeIndex() >= 0) {
                int r = o.runtimeIndex();
                runtimeKinds[r] = kind;
                runtimeArgDescs[r] = descs[i];
                visibleDescs[r] = o.shape().length == rank || o.shape().length == 0 ? descs[i] : MemoryDescs.plain(arena, o.shape());
            } else {
                constants.add(new Primitives.PrimitiveOp.Constant(kind, descs[i], arena.allocateFrom(ValueLayout.JAVA_FLOAT, o.constant())));
            }
        }
        boolean src0Full = Arrays.equals(operands.get(0).shape(), out);
        MemorySegment dst = src0Full ? descs[0] : MemoryDescs.plain(arena, out);
        MemorySegment attr = Primitives.userScratchpad(arena, description);
        if (operands.size() > 2 || !eltwise.isEmpty()) {
            MemorySegment postOps = Dnnl.create(arena, "dnnl_post_ops_create", description, o -> dnnl_post_ops_create(o), po -> dnnl_post_ops_destroy(po));
            for (int i = 2; i < operands.size(); i++) {
                Dnnl.check(dnnl_post_ops_append_binary(postOps, algorithms[i - 1], descs[i]), "dnnl_post_ops_append_binary", description);
            }
            for (float[] e : eltwise) {
                Dnnl.check(dnnl_post_ops_append_eltwise(postOps, (int) e[0], e[1], e[2]), "dnnl_post_ops_append_eltwise", description);
            }
            Dnnl.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "dnnl_primitive_attr_set_post_ops", description);
        }
        MemorySegment engine = Engine.cpu();
        MemorySegment src0 = descs[0], src1 = descs[1];
        primitive = Primitive.create("dnnl_binary_primitive_desc_create", description,
                o -> dnnl_binary_primitive_desc_create(o, engine, algorithms[0], src0, src1, dst, attr));
        dstDesc = primitive.queryDesc(dnnl_query_dst_md(), 0);
        scratchpadBytes = MemoryDescs.size(primitive.queryDesc(dnnl_query_scratchpad_md(), 0));
        // oneDNN's binary runs in place on src0 (dst = src0, same layout): the output may take over that buffer.
        Operand first = operands.get(0);
        if (first.runtimeIndex() >= 0 && src0Full && MemoryDescs.equal(dstDesc, descs[0])) reuses = first.runtimeIndex();
        description = description0 + " [" + primitive.implementation() + "]";
    }

    /** {@code shape} with leading 1s up to {@code rank} (a scalar becomes all 1s). */
    static long[] extend(long[] shape, int rank) {
        long[] e = new long[rank];
        Arrays.fill(e, 1);
        System.arraycopy(shape, 0, e, rank - shape.length, shape.length);
        return e;
    }

    @Override public MemorySegment inputDesc(int i) { return visibleDescs[i]; }
    @Override public MemorySegment outputDesc() { return dstDesc; }
    @Override public long scratchpadBytes() { return scratchpadBytes; }
    @Override public int reusesInput() { return reuses; }
    @Override public String description() { return description; }

    @Override
    public Bound bind(MemorySegment[] inputs, MemorySegment output, MemorySegment scratchpad) {
        return Primitives.bind(primitive, runtimeKinds, runtimeArgDescs, inputs, DNNL_ARG_DST(), dstDesc, output, constants, scratchpadBytes, scratchpad);
    }

    @Override
    public void close() {
        if (primitive != null) primitive.close();
        arena.close();
    }

    /**
     * A node-by-node step running this chain on plain tensors (the simple native path): runtime inputs
     * {@code runtimeInputs[r]} are node input positions; every run binds fresh buffers.
     */
    Op.Step step(long[] out, int[] runtimeInputs, Node node) {
        BinaryPrimitive self = this;
        return new Op.Step() {
            @Override public List<long[]> outputShapes() { return List.of(out); }
            @Override public List<DataType> outputTypes() { return List.of(DataType.FLOAT); }

            @Override
            public List<Value> run(List<Value> inputs) {
                MemorySegment[] in = new MemorySegment[runtimeInputs.length];
                for (int r = 0; r < in.length; r++) in[r] = Ops.floats(inputs, runtimeInputs[r], node).segment();
                Tensor y = Tensor.zeros(out);
                try (Arena scratch = Arena.ofConfined(); Bound b = self.bind(in, y.segment(), scratchpadBytes > 0 ? scratch.allocate(scratchpadBytes, 64) : MemorySegment.NULL)) {
                    b.run();
                } catch (RuntimeException e) {
                    y.close();
                    throw e;
                }
                return List.of(new Value.Floats(y));
            }

            @Override public void close() { self.close(); }
        };
    }
}
