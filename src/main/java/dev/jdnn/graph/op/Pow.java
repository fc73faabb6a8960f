package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import java.util.Arrays;

/**
 * Pow: {@code Z = X^Y} with numpy broadcasting; Z has X's type. Opset 7: X and Y the same float type;
 * from 12 Y may be any numeric type (int exponent on a float base, float exponent on an int base).
 * The reference follows ONNX's ({@code np.power(x, y).astype(x.dtype)}): float results computed in double
 * and rounded once; an int base with a float exponent truncates toward zero; int^int is exact integer
 * power, wrapping to the type (a negative exponent gives the truncated real value: 0 unless |x| = 1).
 *
 * <p>A constant single-element exponent on a float base of the output's shape is oneDNN's eltwise pow
 * ({@code alpha·x^beta}, alpha = 1; measured exact to 1.2e-7 relative), native and fusable as a post-op.
 */
public final class Pow implements Op {
    static void register(Registry.Table t) {
        t.add("Pow", 7, new Pow());
    }

    private static boolean numeric(DataType t) {
        return t != null && t != DataType.BOOL;
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] a = in.require(0, node, "X"), b = in.require(1, node, "Y");
        DataType tx = in.type(0), ty = in.type(1);
        if (!numeric(tx) || !numeric(ty)) throw error(node, "Pow of " + tx.onnxName() + " and " + ty.onnxName() + " is not supported");
        if (ctx.opset() < 12 && (tx != DataType.FLOAT || ty != DataType.FLOAT)) {
            throw error(node, "X and Y of types " + tx.onnxName() + " and " + ty.onnxName() + " are not supported before opset 12; jdnn runs Pow-7 on float32");
        }
        long[] out = broadcast(a, b, node);
        int[] ia = broadcastIndex(a, out), ib = broadcastIndex(b, out);
        PostOp scalar = scalarExponent(in, out);
        if (scalar != null && ctx.backend() == Backend.NATIVE && Primitives.nativeShape(out)) {
            return Primitives.eltwiseStep(node, scalar, out);
        }
        return step(out, tx, inputs -> {
            double[] y = doubles(inputs.get(1));
            if (tx == DataType.FLOAT) {
                float[] x = floats(inputs, 0, node).toArray(), z = new float[ia.length];
                for (int i = 0; i < z.length; i++) z[i] = (float) Math.pow(x[ia[i]], y[ib[i]]);
                return result(z, out);
            }
            long[] x = longs(inputs, 0, node), z = new long[ia.length];
            if (ty == DataType.FLOAT) {
                for (int i = 0; i < z.length; i++) z[i] = (long) Math.pow(x[ia[i]], y[ib[i]]); // truncates, saturates
            } else {
                long[] e = longs(inputs, 1, node);
                for (int i = 0; i < z.length; i++) z[i] = power(x[ia[i]], e[ib[i]]);
            }
            return new Value.Longs(tx, out, z); // wraps to X's type
        });
    }

    private static double[] doubles(Value v) {
        if (v instanceof Value.Floats f) {
            float[] a = f.tensor().toArray();
            double[] d = new double[a.length];
            for (int i = 0; i < a.length; i++) d[i] = a[i];
            return d;
        }
        long[] l = ((Value.Longs) v).view();
        double[] d = new double[l.length];
        for (int i = 0; i < l.length; i++) d[i] = l[i];
        return d;
    }

    /** x^e by squaring, wrapping modulo 2^64 (then to the type); e &lt; 0 gives trunc(x^e). */
    static long power(long x, long e) {
        if (e < 0) return x == 1 ? 1 : x == -1 ? ((e & 1) == 0 ? 1 : -1) : 0;
        long r = 1;
        while (e > 0) {
            if ((e & 1) != 0) r *= x;
            x *= x;
            e >>= 1;
        }
        return r;
    }

    /** {@code pow(x; 1, c)} when Y is a constant single element, X float and of the output's shape; else null. */
    private static PostOp scalarExponent(Inputs in, long[] out) {
        if (in.type(0) != DataType.FLOAT || !Arrays.equals(in.shape(0), out)) return null;
        Value c = in.constant(1);
        float e;
        if (c instanceof Value.Floats f && f.tensor().elementCount() == 1) e = f.tensor().getFlat(0);
        else if (c instanceof Value.Longs l && l.view().length == 1 && Math.abs(l.view()[0]) < (1 << 24)) e = l.view()[0];
        else return null;
        return Float.isNaN(e) ? null : new PostOp(EltwiseAlgorithm.POW, 1, e);
    }

    @Override
    public PostOp postOp(Node node, Inputs in, Context ctx) {
        if (in.isConstant(0) || !in.has(1)) return null;
        return scalarExponent(in, broadcast(in.shape(0), in.shape(1), node));
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        PostOp f = scalarExponent(in, lowering.output());
        return f == null ? null : Primitives.eltwise(node, f, lowering.output(), lowering.desc(0));
    }
}
