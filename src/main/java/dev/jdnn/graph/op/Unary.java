package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import dev.jdnn.ops.eltwise.Erf;
import java.util.function.BiFunction;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * Element-wise unary math and activations, X → Y of the same shape and type, as one table: for each ONNX
 * op the opset it appeared in, its attributes, the Java reference (plain loop, computed in double and
 * rounded once to float32) and, where oneDNN computes the same function, its eltwise algorithm — then
 * the node runs as a oneDNN eltwise primitive, or as a post-op of the conv before it in a compiled plan.
 *
 * <p>Native only where oneDNN 3.13 agrees with the exact function to 1.5e-6 relative wherever |y| ≥ 0.1
 * and to 1.5e-6·max(1, |y|) absolute everywhere, on AVX-512 and AVX2 (measured over [−20, 20] in
 * {@code EltwiseAlgorithmTest}; worst is gelu_erf, 1.2e-6 relative on AVX2; below |y| = 0.1 the
 * differences are float32 cancellation that ONNX's own float formulas share, e.g. Elu's {@code e^x − 1}
 * near 0). Java only, because oneDNN approximates more: Log (2.7e-5 relative near x = 1), Softplus and
 * Mish (2.3e-6, 2.7e-6); and those oneDNN has no single algorithm for: Erf, Selu, Celu (alpha ≠ 1),
 * Softsign, ThresholdedRelu, Floor, Ceil, Sign, Shrink and the trigonometric and hyperbolic functions. Abs, Neg and Sign also take integer tensors (Java, wrapping as
 * numpy does: Abs(int8 −128) = −128).
 *
 * <p>{@code jdnn.Gelu}, {@code jdnn.Silu} and {@code jdnn.HardSwish} (alpha, beta) are what
 * {@link dev.jdnn.graph.rewrite.Rewrites} turn the exported Erf form of GELU, {@code x·Sigmoid(x)} and
 * {@code x·HardSigmoid(x)} into; they are registered for every opset.
 */
public final class Unary implements Op {

    /** What one node computes, its attributes read: the reference and its oneDNN form (null: Java only). */
    record Fn(DoubleUnaryOperator reference, PostOp dnnl) {}

    private final String type;
    private final BiFunction<Node, Context, Fn> parse;
    private final LongUnaryOperator integer; // null: float32 only

    private Unary(String type, BiFunction<Node, Context, Fn> parse, LongUnaryOperator integer) {
        this.type = type;
        this.parse = parse;
        this.integer = integer;
    }

    private static void add(Registry.Table t, String type, int since, BiFunction<Node, Context, Fn> parse, LongUnaryOperator integer) {
        t.add(type, since, new Unary(type, parse, integer));
    }

    private static void add(Registry.Table t, String type, int since, BiFunction<Node, Context, Fn> parse) {
        add(t, type, since, parse, null);
    }

    /** A function without attributes. */
    private static BiFunction<Node, Context, Fn> fixed(DoubleUnaryOperator f, EltwiseAlgorithm alg, float alpha, float beta) {
        Fn fn = new Fn(f, alg == null ? null : new PostOp(alg, alpha, beta));
        return (n, c) -> fn;
    }

    private static BiFunction<Node, Context, Fn> javaOnly(DoubleUnaryOperator f) {
        return fixed(f, null, 0, 0);
    }

    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    static void register(Registry.Table t) {
        // Math. Registered from opset 1 = jdnn's minimum (their float semantics have not changed since 6).
        add(t, "Abs", 1, fixed(Math::abs, EltwiseAlgorithm.ABS, 0, 0), Math::abs);
        add(t, "Neg", 1, fixed(x -> -x, EltwiseAlgorithm.LINEAR, -1, 0), x -> -x);
        add(t, "Sign", 9, javaOnly(Math::signum), Long::signum);
        add(t, "Floor", 1, javaOnly(Math::floor));
        add(t, "Ceil", 1, javaOnly(Math::ceil));
        add(t, "Round", 11, fixed(Math::rint, EltwiseAlgorithm.ROUND, 0, 0));           // half to even
        add(t, "Reciprocal", 1, fixed(x -> 1 / x, EltwiseAlgorithm.POW, 1, -1));      // oneDNN: exact 1/x
        add(t, "Sqrt", 1, fixed(Math::sqrt, EltwiseAlgorithm.SQRT, 0, 0));
        add(t, "Exp", 1, fixed(Math::exp, EltwiseAlgorithm.EXP, 0, 0));
        add(t, "Log", 1, javaOnly(Math::log));
        add(t, "Erf", 9, javaOnly(Erf::erf));
        add(t, "Tanh", 1, fixed(Math::tanh, EltwiseAlgorithm.TANH, 0, 0));
        // Trigonometric and hyperbolic (sinusoidal position encodings, rotary embeddings, window functions):
        // oneDNN 3.13 has no eltwise algorithm for any of them. Outside the domain the result is NaN, as numpy's.
        add(t, "Sin", 7, javaOnly(Math::sin));
        add(t, "Cos", 7, javaOnly(Math::cos));
        add(t, "Tan", 7, javaOnly(Math::tan));
        add(t, "Asin", 7, javaOnly(Math::asin));
        add(t, "Acos", 7, javaOnly(Math::acos));
        add(t, "Atan", 7, javaOnly(Math::atan));
        add(t, "Sinh", 9, javaOnly(Math::sinh));
        add(t, "Cosh", 9, javaOnly(Math::cosh));
        add(t, "Asinh", 9, javaOnly(Unary::asinh));
        add(t, "Acosh", 9, javaOnly(Unary::acosh));
        add(t, "Atanh", 9, javaOnly(Unary::atanh));
        // Shrink (9): x < −lambd → x + bias, x > lambd → x − bias, else 0.
        add(t, "Shrink", 9, (n, c) -> {
            double lambd = n.attributes().getFloat("lambd", 0.5f), bias = n.attributes().getFloat("bias", 0f);
            if (Double.isNaN(lambd) || Double.isNaN(bias)) throw error(n, "attributes lambd=" + lambd + " and bias=" + bias + " must not be NaN");
            return new Fn(x -> x < -lambd ? x + bias : x > lambd ? x - bias : 0, null);
        });

        // Activations with attributes.
        add(t, "HardSigmoid", 1, (n, c) -> {
            float alpha = n.attributes().getFloat("alpha", 0.2f), beta = n.attributes().getFloat("beta", 0.5f);
            return new Fn(x -> Math.max(0, Math.min(1, alpha * x + beta)), new PostOp(EltwiseAlgorithm.HARDSIGMOID, alpha, beta));
        });
        // y = x·max(0, min(1, x/6 + 1/2)): oneDNN's hardswish with alpha 1/6, beta 1/2.
        add(t, "HardSwish", 14, fixed(x -> x * Math.max(0, Math.min(1, x / 6 + 0.5)), EltwiseAlgorithm.HARDSWISH, 1f / 6, 0.5f));
        add(t, "Elu", 1, (n, c) -> {
            float alpha = n.attributes().getFloat("alpha", 1f);
            return new Fn(x -> x > 0 ? x : alpha * Math.expm1(x), new PostOp(EltwiseAlgorithm.ELU, alpha, 0));
        });
        add(t, "Selu", 1, (n, c) -> {
            double alpha = n.attributes().getFloat("alpha", 1.67326319217681884765625f);
            double gamma = n.attributes().getFloat("gamma", 1.05070102214813232421875f);
            return new Fn(x -> x > 0 ? gamma * x : gamma * alpha * Math.expm1(x), null);
        });
        // Celu: max(0, x) + min(0, alpha·(e^(x/alpha) − 1)); alpha = 1 is oneDNN's elu with alpha 1.
        add(t, "Celu", 12, (n, c) -> {
            float alpha = n.attributes().getFloat("alpha", 1f);
            if (alpha == 0 || !Float.isFinite(alpha)) throw error(n, "attribute alpha must be a finite non-zero float, got " + alpha);
            return new Fn(x -> Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha)),
                    alpha == 1f ? new PostOp(EltwiseAlgorithm.ELU, 1, 0) : null);
        });
        add(t, "Softplus", 1, javaOnly(x -> x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))));
        add(t, "Softsign", 1, javaOnly(x -> x / (1 + Math.abs(x))));
        add(t, "Mish", 18, javaOnly(x -> x * Math.tanh(x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)))));
        // ThresholdedRelu left ai.onnx's experimental set at opset 10.
        add(t, "ThresholdedRelu", 10, (n, c) -> {
            float alpha = n.attributes().getFloat("alpha", 1f);
            return new Fn(x -> x > alpha ? x : 0, null);
        });
        add(t, "Gelu", 20, Unary::gelu);

        // jdnn's own types, produced by graph rewrites (any opset).
        add(t, "jdnn.Gelu", 1, Unary::gelu);
        add(t, "jdnn.Silu", 1, fixed(x -> x / (1 + Math.exp(-x)), EltwiseAlgorithm.SWISH, 1, 0));
        // x·HardSigmoid(x; alpha, beta) (HardSwish as exported before opset 14)
        add(t, "jdnn.HardSwish", 1, (n, c) -> {
            float alpha = n.attributes().getFloat("alpha", 1f / 6), beta = n.attributes().getFloat("beta", 0.5f);
            return new Fn(x -> x * Math.max(0, Math.min(1, alpha * x + beta)), new PostOp(EltwiseAlgorithm.HARDSWISH, alpha, beta));
        });
    }

    /**
     * Java has no inverse hyperbolic functions. In double these are exact to a few ulps of double, far below
     * float32's rounding: log1p keeps small |x| accurate, and float32's largest x² (1.2e77) fits a double.
     */
    static double asinh(double x) {
        double a = Math.abs(x);
        if (a == Double.POSITIVE_INFINITY) return x;
        return Math.copySign(Math.log1p(a + a * a / (1 + Math.sqrt(1 + a * a))), x);
    }

    /** NaN below 1. */
    static double acosh(double x) {
        return x < 1 ? Double.NaN : Math.log1p(x - 1 + Math.sqrt((x - 1) * (x + 1)));
    }

    /** NaN outside [−1, 1], ±∞ at ±1. */
    static double atanh(double x) {
        double a = Math.abs(x);
        return a > 1 ? Double.NaN : Math.copySign(0.5 * Math.log1p(2 * a / (1 - a)), x);
    }

    /** Gelu (opset 20): approximate = "none" (erf) or "tanh". */
    private static Fn gelu(Node n, Context c) {
        String approximate = n.attributes().getString("approximate", "none");
        return switch (approximate) {
            case "none" -> new Fn(x -> 0.5 * x * Erf.erfc(-x / Math.sqrt(2)), new PostOp(EltwiseAlgorithm.GELU_ERF, 0, 0));
            case "tanh" -> new Fn(x -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
                    new PostOp(EltwiseAlgorithm.GELU_TANH, 0, 0));
            default -> throw error(n, "attribute approximate is '" + approximate + "'; expected 'none' or 'tanh'");
        };
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] shape = in.require(0, node, "X");
        Fn fn = parse.apply(node, ctx);
        DataType t = in.type(0);
        if (t != DataType.FLOAT) {
            if (integer == null || t == DataType.BOOL) {
                throw error(node, "input X of type " + t.onnxName() + " is not supported; jdnn runs " + type
                        + (integer == null ? " on float32" : " on float32 and integer types"));
            }
            return step(shape, t, inputs -> {
                long[] x = longs(inputs, 0, node), y = new long[x.length];
                for (int i = 0; i < x.length; i++) y[i] = integer.applyAsLong(x[i]);
                return new Value.Longs(t, shape, y); // wraps to t
            });
        }
        PostOp f = fn.dnnl();
        if (f == null || ctx.backend() != Backend.NATIVE || !Primitives.nativeShape(shape)) {
            DoubleUnaryOperator ref = fn.reference();
            return step(shape, inputs -> map(floats(inputs, 0, node), ref));
        }
        return Primitives.eltwiseStep(node, f, shape);
    }

    @Override
    public PostOp postOp(Node node, Inputs in, Context ctx) {
        if (in.type(0) != DataType.FLOAT) return null;
        return parse.apply(node, ctx).dnnl();
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.type(0) != DataType.FLOAT || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        PostOp f = parse.apply(node, lowering.context()).dnnl();
        return f == null ? null : Primitives.eltwise(node, f, lowering.output(), lowering.desc(0));
    }
}
