package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.LongBinaryOperator;

/**
 * Add, Sub, Mul, Div with numpy broadcasting, on float32 and integer types (integer Div truncates, as
 * ONNX's does). Compiled: same-shape float inputs are one oneDNN binary in the first input's layout; a
 * constant scalar operand of Add/Sub/Mul is an exact {@code linear} eltwise.
 */
public final class Binary implements Op {
    private final String type;
    private final DoubleBinaryOperator f;
    private final LongBinaryOperator g;

    private Binary(String type, DoubleBinaryOperator f, LongBinaryOperator g) {
        this.type = type;
        this.f = f;
        this.g = g;
    }

    static void register(Registry.Table t) {
        t.add("Add", 1, new Binary("Add", Double::sum, Long::sum));
        t.add("Sub", 1, new Binary("Sub", (a, b) -> a - b, (a, b) -> a - b));
        t.add("Mul", 1, new Binary("Mul", (a, b) -> a * b, (a, b) -> a * b));
        t.add("Div", 1, new Binary("Div", (a, b) -> a / b, (a, b) -> {
            if (b == 0) throw new ArithmeticException("integer division by zero in Div");
            return a / b; // truncates, as ONNX's integer Div
        }));
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] a = in.require(0, node, "A"), b = in.require(1, node, "B");
        DataType type = in.type(0);
        if (in.type(1) != type) throw error(node, "inputs differ in type: " + type.onnxName() + " and " + in.type(1).onnxName());
        long[] out = broadcast(a, b, node);
        int[] ia = broadcastIndex(a, out);
        int[] ib = broadcastIndex(b, out);
        return step(out, type, inputs -> {
            if (type != DataType.FLOAT) {
                long[] x = longs(inputs, 0, node), y = longs(inputs, 1, node), r = new long[ia.length];
                for (int i = 0; i < r.length; i++) r[i] = g.applyAsLong(x[ia[i]], y[ib[i]]);
                return new Value.Longs(type, out, r);
            }
            float[] x = floats(inputs, 0, node).toArray(), y = floats(inputs, 1, node).toArray();
            float[] r = new float[ia.length];
            for (int i = 0; i < r.length; i++) r[i] = (float) f.applyAsDouble(x[ia[i]], y[ib[i]]);
            return result(r, out);
        });
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.type(0) != DataType.FLOAT) return null;
        long[] out = lowering.output();
        if (lowering.runtimeDescs().size() == 2) {
            return Arrays.equals(in.shape(0), in.shape(1)) && Arrays.equals(in.shape(0), out) ? sameShape(node, out, lowering.desc(0)) : null;
        }
        return lowering.runtimeDescs().size() == 1 ? scalarLinear(node, in, out, lowering.desc(0)) : null;
    }

    /** Same-shape Add/Sub/Mul/Div; both inputs in the first one's layout. */
    private NativeOp sameShape(Node node, long[] shape, MemorySegment srcDesc) {
        int alg = switch (type) {
            case "Add" -> dnnl_binary_add();
            case "Sub" -> dnnl_binary_sub();
            case "Mul" -> dnnl_binary_mul();
            default -> dnnl_binary_div();
        };
        String description = node.label() + ": binary " + type + " " + MemoryDescs.dims(shape);
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            MemorySegment attr = Primitives.userScratchpad(op.arena, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_binary_primitive_desc_create", o -> dnnl_binary_primitive_desc_create(o, engine, alg, srcDesc, srcDesc, srcDesc, attr));
            op.reusesInput = 0;
            op.inputKinds = new int[] {DNNL_ARG_SRC_0(), DNNL_ARG_SRC_1()};
            op.inputDescs = new MemorySegment[] {srcDesc, srcDesc};
            op.outputKind = DNNL_ARG_DST();
            op.outputDesc = op.primitive.queryDesc(dnnl_query_dst_md(), 0);
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /**
     * {@code x·c}, {@code x + c}, {@code x − c}, {@code c − x} with a constant scalar c, as oneDNN's
     * {@code linear} eltwise ({@code alpha·x + beta}), exact for these (one rounding, like the plain op).
     * Division is left to Java ({@code x·(1/c)} is not {@code x/c}).
     */
    private NativeOp scalarLinear(Node node, Inputs in, long[] out, MemorySegment desc) {
        int runtime = in.isConstant(0) ? 1 : 0;
        if (!(in.constant(1 - runtime) instanceof Value.Floats c) || c.tensor().elementCount() != 1) return null;
        if (!Arrays.equals(in.shape(runtime), out) || type.equals("Div")) return null;
        float v = c.tensor().getFlat(0);
        PostOp linear = switch (type) {
            case "Mul" -> new PostOp(EltwiseAlgorithm.LINEAR, v, 0f);
            case "Add" -> new PostOp(EltwiseAlgorithm.LINEAR, 1f, v);
            default -> runtime == 0 ? new PostOp(EltwiseAlgorithm.LINEAR, 1f, -v) : new PostOp(EltwiseAlgorithm.LINEAR, -1f, v);
        };
        return Primitives.eltwise(node, linear, out, desc);
    }
}
