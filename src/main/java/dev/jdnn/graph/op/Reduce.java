package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.DnnlException;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The ten ONNX reductions over a set of axes: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
 * ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp. {@code d0×…×dr-1 → } the same
 * with every reduced axis 1 (keepdims=1, the default) or removed (keepdims=0).
 *
 * <p>Axes: an attribute up to opset 12 for ReduceSum and up to 17 for the others, then an optional
 * int64 input (which jdnn needs as a constant, since the output shape depends on it). No axes (or an
 * empty list) reduces every axis, unless noop_with_empty_axes=1 (input forms only): then nothing is
 * reduced and each element goes through the reduction's element-wise part alone (x for Sum, |x| for
 * L1, x² for SumSquare, log x for LogSum), as ONNX's reference does.
 *
 * <p>Types: float32 for all; int32/int64 for Sum, Prod, Max and Min (wrapping as the type does);
 * int8/uint8 for Max and Min from opset 12 and bool from opset 20. An empty reduction gives the
 * identity of the operation (0, 1, −∞/+∞ or the type's limits, NaN for Mean).
 *
 * <p>Java: plain loops accumulating in double (long for integers). Native (float32, rank ≤ 6; LogSumExp
 * stays on Java): Mean or Max over every spatial dim of {@code N×C×spatial} (MNASNet's ReduceMean over
 * [2, 3]) as oneDNN global pooling in the producer's layout; otherwise oneDNN's reduction primitive (sum,
 * mean, max, min, mul, Lp norms; LogSum as sum with a log post-op), on plain data when the reduced dims
 * are the innermost ones (oneDNN 3.13's only jit case), else in the producer's layout (its ref kernel).
 */
public final class Reduce implements Op {
    enum Kind { SUM, MEAN, MAX, MIN, PROD, L1, L2, SUM_SQUARE, LOG_SUM, LOG_SUM_EXP }

    private final Kind kind;
    /** The first opset where axes is an input instead of an attribute. */
    private final int axesInput;

    private Reduce(Kind kind) {
        this.kind = kind;
        this.axesInput = kind == Kind.SUM ? 13 : 18;
    }

    static void register(Registry.Table t) {
        t.add("ReduceSum", 1, new Reduce(Kind.SUM));
        t.add("ReduceMean", 1, new Reduce(Kind.MEAN));
        t.add("ReduceMax", 1, new Reduce(Kind.MAX));
        t.add("ReduceMin", 1, new Reduce(Kind.MIN));
        t.add("ReduceProd", 1, new Reduce(Kind.PROD));
        t.add("ReduceL1", 1, new Reduce(Kind.L1));
        t.add("ReduceL2", 1, new Reduce(Kind.L2));
        t.add("ReduceSumSquare", 1, new Reduce(Kind.SUM_SQUARE));
        t.add("ReduceLogSum", 1, new Reduce(Kind.LOG_SUM));
        t.add("ReduceLogSumExp", 1, new Reduce(Kind.LOG_SUM_EXP));
    }

    /** What prepare decided: which axes are reduced, and the output shapes with and without keepdims. */
    record Plan(boolean[] reduced, long[] kept, long[] out) {}

    /** Parses axes/keepdims/noop_with_empty_axes for {@code x} and checks them. */
    Plan plan(Node node, Inputs in, int opset) {
        long[] x = in.require(0, node, "data");
        int rank = x.length;
        long keep = node.attributes().getInt("keepdims", 1);
        if (keep != 0 && keep != 1) throw error(node, "keepdims must be 0 or 1, got " + keep);
        long[] axes;
        boolean noop = false;
        if (opset >= axesInput) {
            if (node.attributes().has("axes")) {
                throw error(node, "axes is an input from opset " + axesInput + " on, not an attribute (model opset " + opset + ")");
            }
            long n = node.attributes().getInt("noop_with_empty_axes", 0);
            if (n != 0 && n != 1) throw error(node, "noop_with_empty_axes must be 0 or 1, got " + n);
            noop = n == 1;
            axes = in.constantLongs(1, node, "axes");
            if (axes != null && in.shape(1).length > 1) throw error(node, "axes must be 1-D, got shape " + format(in.shape(1)));
        } else {
            if (node.attributes().has("noop_with_empty_axes")) {
                throw error(node, "noop_with_empty_axes exists from opset " + axesInput + " on (model opset " + opset + ")");
            }
            if (in.has(1)) throw error(node, "axes is an attribute before opset " + axesInput + ", not an input (model opset " + opset + ")");
            axes = node.attributes().getInts("axes", null);
        }
        boolean[] reduced = new boolean[rank];
        if (axes == null || axes.length == 0) {
            if (!noop) Arrays.fill(reduced, true);
        } else {
            for (long a : axes) {
                if (a < -rank || a >= rank) throw error(node, "axes " + Arrays.toString(axes) + ": axis " + a + " is out of range for rank " + rank);
                int k = (int) (a < 0 ? a + rank : a);
                if (reduced[k]) throw error(node, "axes " + Arrays.toString(axes) + " names axis " + k + " twice");
                reduced[k] = true;
            }
        }
        long[] kept = x.clone();
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < rank; i++) {
            if (reduced[i]) kept[i] = 1;
            if (!reduced[i] || keep == 1) out.add(kept[i]);
        }
        return new Plan(reduced, kept, out.stream().mapToLong(Long::longValue).toArray());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        Plan p = plan(node, in, ctx.opset());
        DataType type = in.type(0);
        checkType(node, type, ctx.opset());
        long[] x = in.shape(0);
        arraySize(x, node);
        return step(p.out(), type, inputs -> type == DataType.FLOAT
                ? result(reduceFloats(floats(inputs, 0, node).toArray(), x, p.reduced(), kind), p.out())
                : result(type, reduceLongs(longs(inputs, 0, node), x, p.reduced(), kind, type), p.out()));
    }

    private void checkType(Node node, DataType type, int opset) {
        boolean ok = switch (type) {
            case FLOAT -> true;
            case INT32, INT64 -> kind == Kind.SUM || kind == Kind.PROD || kind == Kind.MAX || kind == Kind.MIN;
            case INT8, UINT8 -> (kind == Kind.MAX || kind == Kind.MIN) && opset >= 12;
            case BOOL -> (kind == Kind.MAX || kind == Kind.MIN) && opset >= 20;
            case FLOAT16 -> false;   // never inside a graph: float16 values are computed as float32
        };
        if (!ok) throw error(node, "data of type " + type.onnxName() + " is not supported for " + node.opType() + " at opset " + opset);
    }

    /** For each input element (row-major), the flat index of the output element it reduces into. */
    static int[] target(long[] x, boolean[] reduced) {
        int rank = x.length;
        long[] stride = new long[rank];
        long s = 1;
        for (int i = rank - 1; i >= 0; i--) {
            stride[i] = reduced[i] ? 0 : s;
            if (!reduced[i]) s *= x[i];
        }
        int n = (int) count(x);
        int[] target = new int[n];
        long[] coord = new long[rank];
        long offset = 0;
        for (int i = 0; i < n; i++) {
            target[i] = (int) offset;
            for (int d = rank - 1; d >= 0; d--) {
                coord[d]++;
                offset += stride[d];
                if (coord[d] < x[d]) break;
                offset -= stride[d] * coord[d];
                coord[d] = 0;
            }
        }
        return target;
    }

    static int outputCount(long[] x, boolean[] reduced) {
        long n = 1;
        for (int i = 0; i < x.length; i++) if (!reduced[i]) n *= x[i];
        return (int) n;
    }

    /** The reduction in double, rounded once to float. */
    static float[] reduceFloats(float[] v, long[] x, boolean[] reduced, Kind kind) {
        int[] target = target(x, reduced);
        int m = outputCount(x, reduced);
        double[] acc = new double[m];
        long[] n = new long[m];
        double init = switch (kind) {
            case MAX, LOG_SUM_EXP -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
            case PROD -> 1;
            default -> 0;
        };
        Arrays.fill(acc, init);
        double[] max = null;
        if (kind == Kind.LOG_SUM_EXP) {
            // log Σ exp(x) = max + log Σ exp(x − max), which neither overflows nor underflows to log 0.
            max = new double[m];
            Arrays.fill(max, Double.NEGATIVE_INFINITY);
            for (int i = 0; i < v.length; i++) max[target[i]] = Math.max(max[target[i]], v[i]);
            Arrays.fill(acc, 0);
        }
        for (int i = 0; i < v.length; i++) {
            int t = target[i];
            double a = v[i];
            switch (kind) {
                case SUM, MEAN, LOG_SUM -> acc[t] += a;
                case MAX -> acc[t] = Math.max(acc[t], a);
                case MIN -> acc[t] = Math.min(acc[t], a);
                case PROD -> acc[t] *= a;
                case L1 -> acc[t] += Math.abs(a);
                case L2, SUM_SQUARE -> acc[t] += a * a;
                case LOG_SUM_EXP -> acc[t] += Double.isInfinite(max[t]) ? 0 : Math.exp(a - max[t]);
            }
            n[t]++;
        }
        float[] out = new float[m];
        for (int t = 0; t < m; t++) {
            double r = switch (kind) {
                case MEAN -> acc[t] / n[t];
                case L2 -> Math.sqrt(acc[t]);
                case LOG_SUM -> Math.log(acc[t]);
                // an all −∞ (or empty) slice gives −∞; one holding +∞ gives +∞ (NaN stays NaN through max)
                case LOG_SUM_EXP -> Double.isInfinite(max[t]) ? max[t] : max[t] + Math.log(acc[t]);
                default -> acc[t];
            };
            out[t] = (float) r;
        }
        return out;
    }

    /** Integer Sum, Prod, Max, Min in long arithmetic, wrapped to the type at the end (as the type's own arithmetic does). */
    static long[] reduceLongs(long[] v, long[] x, boolean[] reduced, Kind kind, DataType type) {
        int[] target = target(x, reduced);
        int m = outputCount(x, reduced);
        long lowest = switch (type) {
            case INT64 -> Long.MIN_VALUE;
            case INT32 -> Integer.MIN_VALUE;
            case INT8 -> Byte.MIN_VALUE;
            default -> 0;   // uint8, bool
        };
        long highest = switch (type) {
            case INT64 -> Long.MAX_VALUE;
            case INT32 -> Integer.MAX_VALUE;
            case INT8 -> Byte.MAX_VALUE;
            case UINT8 -> 255;
            default -> 1;   // bool
        };
        long[] acc = new long[m];
        Arrays.fill(acc, switch (kind) {
            case MAX -> lowest;
            case MIN -> highest;
            case PROD -> 1;
            default -> 0;
        });
        for (int i = 0; i < v.length; i++) {
            int t = target[i];
            switch (kind) {
                case SUM -> acc[t] += v[i];
                case PROD -> acc[t] *= v[i];
                case MAX -> acc[t] = Math.max(acc[t], v[i]);
                case MIN -> acc[t] = Math.min(acc[t], v[i]);
                default -> throw new IllegalStateException(kind + " on integers");
            }
        }
        for (int t = 0; t < m; t++) acc[t] = type.wrap(acc[t]);
        return acc;
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.type(0) != DataType.FLOAT || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        if (kind == Kind.LOG_SUM_EXP) return null;
        long[] x = in.shape(0);
        long[] out = lowering.output();
        if (!Primitives.nativeShape(x) || !Primitives.nativeShape(out)) return null;
        Plan p = plan(node, in, lowering.context().opset());
        boolean any = false;
        for (int i = 0; i < x.length; i++) any |= p.reduced()[i] && x[i] > 1;
        if (!any) return null; // nothing to reduce: oneDNN wants src and dst dims to differ
        int alg = switch (kind) {
            case SUM, LOG_SUM -> dnnl_reduction_sum();
            case MEAN -> dnnl_reduction_mean();
            case MAX -> dnnl_reduction_max();
            case MIN -> dnnl_reduction_min();
            case PROD -> dnnl_reduction_mul();
            case L1, L2 -> dnnl_reduction_norm_lp_sum();      // (Σ|x|^p + eps)^(1/p), eps = 0
            case SUM_SQUARE -> dnnl_reduction_norm_lp_power_p_sum();  // Σ|x|^p + eps
            case LOG_SUM_EXP -> throw new IllegalStateException();
        };
        float power = kind == Kind.L1 ? 1f : 2f;
        boolean keepdims = out.length == x.length;
        boolean[] r = p.reduced();
        // oneDNN 3.13 has jit reductions only for plain data reduced over its innermost dims (elsewhere: ref:any).
        // Mean/Max over every spatial dim is a global pooling, which runs jit in whatever layout the producer chose.
        boolean spatial = x.length >= 3 && x.length <= 5 && !r[0] && !r[1];
        for (int i = 2; i < x.length; i++) spatial &= r[i];
        if (spatial && (kind == Kind.MEAN || kind == Kind.MAX)) return globalPool(node, x, p.kept(), out, lowering.desc(0), keepdims);
        boolean trailing = true;
        for (int i = 1; i < x.length; i++) trailing &= r[i] || !r[i - 1];
        if (trailing) return primitive(node, x, p.kept(), out, null, alg, power, keepdims);
        try {
            return primitive(node, x, p.kept(), out, lowering.desc(0), alg, power, keepdims);
        } catch (DnnlException e) {
            return primitive(node, x, p.kept(), out, null, alg, power, keepdims);
        }
    }

    /** Mean or Max over all spatial dims of N×C×spatial as oneDNN global pooling (kernel = the spatial size) in the source's layout. */
    private NativeOp globalPool(Node node, long[] x, long[] kept, long[] out, MemorySegment srcDesc, boolean keepdims) {
        String description = node.label() + ": reduction " + kind.name().toLowerCase(java.util.Locale.ROOT) + " as global pooling "
                + MemoryDescs.dims(x) + " -> " + MemoryDescs.dims(out);
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            Arena a = op.arena;
            int spatial = x.length - 2;
            long[] kernel = Arrays.copyOfRange(x, 2, x.length);
            long[] ones = new long[spatial], zeros = new long[spatial];
            Arrays.fill(ones, 1);
            MemorySegment dst = dst(a, kept, keepdims);
            MemorySegment s = a.allocateFrom(C_LONG, ones), k = a.allocateFrom(C_LONG, kernel), d = a.allocateFrom(C_LONG, zeros);
            MemorySegment pl = a.allocateFrom(C_LONG, zeros), pr = a.allocateFrom(C_LONG, zeros);
            MemorySegment attr = Primitives.userScratchpad(a, description);
            MemorySegment engine = Engine.cpu();
            int alg = kind == Kind.MAX ? dnnl_pooling_max() : dnnl_pooling_avg_exclude_padding();
            op.create("dnnl_pooling_forward_primitive_desc_create", o -> dnnl_pooling_forward_primitive_desc_create(o, engine,
                    dnnl_forward_inference(), alg, srcDesc, dst, s, k, d, pl, pr, attr));
            return srcToDst(op, keepdims, out);
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /** The reduction {@code x → kept} (oneDNN keeps the rank); {@code srcDesc} null: plain. */
    private NativeOp primitive(Node node, long[] x, long[] kept, long[] out, MemorySegment srcDesc, int alg, float power, boolean keepdims) {
        String description = node.label() + ": reduction " + kind.name().toLowerCase(java.util.Locale.ROOT) + " "
                + MemoryDescs.dims(x) + " -> " + MemoryDescs.dims(out);
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            Arena a = op.arena;
            MemorySegment src = srcDesc != null ? srcDesc : MemoryDescs.plain(a, x);
            MemorySegment dst = dst(a, kept, keepdims);
            MemorySegment attr = Primitives.userScratchpad(a, description);
            if (kind == Kind.LOG_SUM) {
                MemorySegment postOps = Dnnl.create(a, "dnnl_post_ops_create", description, o -> dnnl_post_ops_create(o), q -> dnnl_post_ops_destroy(q));
                Dnnl.check(dnnl_post_ops_append_eltwise(postOps, dnnl_eltwise_log(), 0f, 0f), "dnnl_post_ops_append_eltwise", description);
                Dnnl.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "dnnl_primitive_attr_set_post_ops", description);
            }
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_reduction_primitive_desc_create",
                    o -> dnnl_reduction_primitive_desc_create(o, engine, alg, src, dst, power, 0f, attr));
            return srcToDst(op, keepdims, out);
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /** The primitive's output: any layout with keepdims, else plain (then the same bytes are the node's lower-rank plain output). */
    private static MemorySegment dst(Arena a, long[] kept, boolean keepdims) {
        return keepdims ? MemoryDescs.any(a, kept) : MemoryDescs.plain(a, kept);
    }

    /** {@code op} (created) reading src and writing dst; without keepdims the plan sees that output as the plain {@code out}. */
    private static NativeOp srcToDst(Primitives.PrimitiveOp op, boolean keepdims, long[] out) {
        op.srcToDst();
        return keepdims ? op : NormPrimitives.reshaped(op, op.inputDescs[0], MemoryDescs.plain(op.arena, out));
    }
}
