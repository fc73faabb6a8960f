package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Resize (opsets 10, 11, 13, 18, 19) and its predecessor Upsample (opsets 7-9): every axis of
 * {@code X} (rank r, any r ≥ 1) is resampled from {@code n} to {@code m} elements,
 * {@code d0×…×d(r-1) → m0×…×m(r-1)}, with {@code m = floor(n·scale)} when scales are given and
 * {@code m = sizes[i]} (or the aspect-keeping rounding of opset 18) when sizes are.
 *
 * <p>Semantics follow the ONNX spec and its reference implementation (onnx/reference/ops/op_resize.py):
 * each output coordinate {@code x} is mapped to a source coordinate {@code x'} by the
 * {@code coordinate_transformation_mode}; nearest picks one neighbour by {@code nearest_mode}; linear
 * and cubic weight the 2 or 4 neighbours around {@code x'} (edge-clamped; with
 * {@code exclude_outside} the outside ones get weight 0 and the rest are renormalised), and with
 * {@code antialias} on a downscaled axis the filter is stretched by {@code 1/scale}. The reference
 * interpolates one axis at a time, innermost first, in double precision, rounding once to float; so
 * does the Java kernel here.
 *
 * <p>Opset differences: Upsample and Resize-10 have no coordinate/nearest attributes; they use
 * {@code asymmetric} coordinates and, for nearest, floor when upscaling and ceil when downscaling an
 * axis (ONNX Runtime's rule for these opsets, which ONNX's Resize-10 test data follows). Resize-11/12
 * add {@code tf_half_pixel_for_nn} (dropped in 13), 18 adds {@code antialias}, {@code axes} and
 * {@code keep_aspect_ratio_policy}, 19 adds {@code half_pixel_symmetric}.
 *
 * <p>Where the reference and the spec text differ, jdnn follows the spec: {@code pytorch_half_pixel}
 * maps an output of length 1 to {@code x' = 0} (the reference uses −0.5, which differs only for cubic),
 * and with {@code tf_crop_and_resize} and scales the output length is {@code floor(n·(roi_end − roi_start)·scale)}.
 *
 * <p>Native (oneDNN resampling, plain or blocked layouts) only where oneDNN computes the same thing:
 * oneDNN maps {@code x' = (x + 0.5)·n/m − 0.5} (float), rounds half away from zero for nearest and
 * interpolates bilinearly with edge clamping for linear, on the spatial axes (rank 3-5, N and C kept).
 * {@link #nativeAlgorithm} emulates oneDNN's index/weight tables per axis and lowers only when they equal
 * this node's (nearest: the same indices; linear: weights within 1e-5, the float-vs-double rounding of the
 * source coordinate), e.g. nearest ×2 upsampling with
 * asymmetric/floor or half_pixel, and linear half_pixel / pytorch_half_pixel when {@code m = n·scale}.
 */
public final class Resize implements Op {
    private final boolean upsample;

    private Resize(boolean upsample) {
        this.upsample = upsample;
    }

    public static void register(Registry.Table t) {
        t.add("Upsample", 7, 9, new Resize(true));
        t.add("Resize", 10, new Resize(false));
    }

    enum Mode { NEAREST, LINEAR, CUBIC }

    enum Coord { HALF_PIXEL, HALF_PIXEL_SYMMETRIC, PYTORCH_HALF_PIXEL, ALIGN_CORNERS, ASYMMETRIC, TF_HALF_PIXEL_FOR_NN, TF_CROP_AND_RESIZE }

    /** Nearest rounding; SIMPLE is Upsample's and Resize-10's: floor when upscaling an axis, ceil when downscaling it. */
    enum Rounding { ROUND_PREFER_FLOOR, ROUND_PREFER_CEIL, FLOOR, CEIL, SIMPLE }

    /**
     * Everything the kernel needs, fixed at prepare time.
     *
     * @param scale per axis, the scale used in the coordinate mapping (given, or m/n from sizes)
     * @param width per axis, the "output width" the reference uses for align_corners/tf_crop_and_resize (scale·n)
     * @param roi   2·rank start/end fractions for tf_crop_and_resize, else null
     */
    record Spec(Mode mode, Coord coord, Rounding rounding, double cubicA, boolean excludeOutside, float extrapolation,
                boolean antialias, long[] in, long[] out, double[] scale, double[] width, double[] roi) {}

    /**
     * One axis resampled {@code n → m}: output {@code o} reads {@code taps} input indices (already
     * edge-clamped) {@code index[o·taps + t]} with weights {@code weight[o·taps + t]}, or is
     * {@code extrapolation_value} when {@code outside[o]} (tf_crop_and_resize beyond the input).
     */
    record Taps(int n, int m, int taps, int[] index, double[] weight, boolean[] outside) {
        /** Output o is input o with weight 1, for every o: the axis is left as it is. */
        boolean identity() {
            if (n != m) return false;
            for (int o = 0; o < m; o++) {
                if (outside[o]) return false;
                double self = 0;
                for (int t = 0; t < taps; t++) {
                    double w = weight[o * taps + t];
                    if (index[o * taps + t] == o) self += w;
                    else if (w != 0) return false;
                }
                if (self != 1) return false;
            }
            return true;
        }
    }

    private static final Set<String> MODES_10 = Set.of("nearest", "linear");
    private static final Map<String, Coord> COORDS = new HashMap<>();

    static {
        for (Coord c : Coord.values()) COORDS.put(c.name().toLowerCase(), c);
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        Spec spec = spec(node, in, ctx.opset());
        long[] out = spec.out();
        DataType type = in.type(0);
        if (type != DataType.FLOAT && spec.mode() != Mode.NEAREST) {
            throw Ops.error(node, spec.mode().name().toLowerCase() + " resizing of " + type.onnxName() + " data is not supported (jdnn resizes integer tensors in nearest mode only)");
        }
        Ops.arraySize(out, node);
        Taps[] taps = new Taps[out.length];
        boolean[] skip = new boolean[out.length];
        for (int a = 0; a < out.length; a++) {
            // Each axis's index and weight table holds out[a] × taps entries even when another axis is 0 (an empty output).
            Ops.arraySize(new long[] {out[a], tapWidth(spec, a)}, node, Integer.BYTES + Double.BYTES);
            taps[a] = taps(spec, a);
            skip[a] = taps[a].identity();
        }
        if (ctx.backend() == Backend.NATIVE && type == DataType.FLOAT && !in.isConstant(0) && nativeAlgorithm(spec, taps) != 0) {
            Step s = nativeStep(node, spec, taps);
            if (s != null) return s;
        }
        return Ops.step(List.of(out), List.of(type), inputs -> List.of(run(node, spec, taps, skip, inputs.get(0))));
    }

    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.type(0) != DataType.FLOAT || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        Spec spec = spec(node, in, lowering.context().opset());
        Taps[] taps = new Taps[spec.out().length];
        for (int a = 0; a < taps.length; a++) taps[a] = taps(spec, a);
        int alg = nativeAlgorithm(spec, taps);
        if (alg == 0) return null;
        return primitive(node, spec, alg, lowering.desc(0));
    }

    // ---------------------------------------------------------------- attributes and inputs

    /** Parses and checks the attributes and the constant scales/sizes/roi inputs of one node. */
    Spec spec(Node node, Inputs in, int opset) {
        long[] x = in.require(0, node, "X");
        int rank = x.length;
        if (rank < 1) throw Ops.error(node, "X must have rank ≥ 1, got a scalar");
        boolean legacy = upsample || opset < 11;
        var attrs = node.attributes();
        for (String later : List.of("antialias", "axes", "keep_aspect_ratio_policy")) {
            if (attrs.has(later) && (legacy || opset < 18)) throw Ops.error(node, "attribute " + later + " needs Resize opset 18 or later, this model is opset " + opset);
        }
        if (legacy) {
            for (String later : List.of("coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value")) {
                if (attrs.has(later)) throw Ops.error(node, "attribute " + later + " needs Resize opset 11 or later, this model is opset " + opset);
            }
        }
        String modeName = attrs.getString("mode", "nearest");
        Mode mode = switch (modeName) {
            case "nearest" -> Mode.NEAREST;
            case "linear" -> Mode.LINEAR;
            case "cubic" -> Mode.CUBIC;
            default -> throw Ops.error(node, "attribute mode is '" + modeName + "', expected nearest, linear" + (legacy ? "" : " or cubic"));
        };
        if (legacy && !MODES_10.contains(modeName)) throw Ops.error(node, "attribute mode is '" + modeName + "', expected nearest or linear at this opset");

        Coord coord = Coord.ASYMMETRIC;
        Rounding rounding = Rounding.SIMPLE;
        double cubicA = -0.75;
        boolean excludeOutside = false, antialias = false;
        float extrapolation = 0f;
        if (!legacy) {
            String c = attrs.getString("coordinate_transformation_mode", "half_pixel");
            coord = COORDS.get(c);
            if (coord == null || (coord == Coord.TF_HALF_PIXEL_FOR_NN && opset >= 13) || (coord == Coord.HALF_PIXEL_SYMMETRIC && opset < 19)) {
                throw Ops.error(node, "attribute coordinate_transformation_mode is '" + c + "', expected half_pixel, "
                        + (opset >= 19 ? "half_pixel_symmetric, " : "") + "pytorch_half_pixel, align_corners, asymmetric, "
                        + (opset < 13 ? "tf_half_pixel_for_nn, " : "") + "or tf_crop_and_resize at opset " + opset);
            }
            String r = attrs.getString("nearest_mode", "round_prefer_floor");
            rounding = switch (r) {
                case "round_prefer_floor" -> Rounding.ROUND_PREFER_FLOOR;
                case "round_prefer_ceil" -> Rounding.ROUND_PREFER_CEIL;
                case "floor" -> Rounding.FLOOR;
                case "ceil" -> Rounding.CEIL;
                default -> throw Ops.error(node, "attribute nearest_mode is '" + r + "', expected round_prefer_floor, round_prefer_ceil, floor or ceil");
            };
            cubicA = attrs.getFloat("cubic_coeff_a", -0.75f);
            if (!Double.isFinite(cubicA)) throw Ops.error(node, "attribute cubic_coeff_a is " + cubicA + ", expected a finite number");
            long ex = attrs.getInt("exclude_outside", 0);
            if (ex != 0 && ex != 1) throw Ops.error(node, "attribute exclude_outside is " + ex + ", expected 0 or 1");
            excludeOutside = ex == 1;
            extrapolation = attrs.getFloat("extrapolation_value", 0f);
            long aa = attrs.getInt("antialias", 0);
            if (aa != 0 && aa != 1) throw Ops.error(node, "attribute antialias is " + aa + ", expected 0 or 1");
            antialias = aa == 1 && mode != Mode.NEAREST;   // the spec: antialiasing applies to linear and cubic only
        }

        // Axes (opset 18): the listed axes are resized, the others keep their length.
        int[] axes = new int[rank];
        for (int i = 0; i < rank; i++) axes[i] = i;
        long[] axesAttr = attrs.getInts("axes", null);
        if (axesAttr != null) {
            axes = new int[axesAttr.length];
            boolean[] seen = new boolean[rank];
            for (int i = 0; i < axesAttr.length; i++) {
                long a = axesAttr[i];
                if (a < -rank || a >= rank) throw Ops.error(node, "attribute axes has " + a + ", out of range for rank " + rank);
                axes[i] = (int) (a < 0 ? a + rank : a);
                if (seen[axes[i]]) throw Ops.error(node, "attribute axes " + Arrays.toString(axesAttr) + " repeats axis " + axes[i]);
                seen[axes[i]] = true;
            }
        }
        String policy = attrs.getString("keep_aspect_ratio_policy", "stretch");
        if (!Set.of("stretch", "not_larger", "not_smaller").contains(policy)) {
            throw Ops.error(node, "attribute keep_aspect_ratio_policy is '" + policy + "', expected stretch, not_larger or not_smaller");
        }

        // scales / sizes / roi: attribute (Upsample-7), inputs 1 (Upsample-9, Resize-10) or 1-3 (Resize-11+).
        float[] scales;
        long[] sizes = null;
        double[] roi = null;
        if (upsample && opset < 9) {
            scales = attrs.getFloats("scales", null);
            if (scales == null) throw Ops.error(node, "attribute scales is required");
        } else if (legacy) {
            scales = constantFloats(node, in, 1, "scales");
            if (scales == null) throw Ops.error(node, "scales (input 1) is required");
        } else {
            float[] r = constantFloats(node, in, 1, "roi", coord != Coord.TF_CROP_AND_RESIZE);
            scales = constantFloats(node, in, 2, "scales");
            sizes = in.has(3) ? in.constantLongs(3, node, "sizes") : null;
            if (sizes != null && sizes.length == 0) sizes = null;
            if ((scales == null) == (sizes == null)) {
                throw Ops.error(node, scales == null ? "one of scales (input 2) and sizes (input 3) is required" : "scales and sizes are both given; exactly one is allowed");
            }
            if (coord == Coord.TF_CROP_AND_RESIZE) {
                if (r == null) throw Ops.error(node, "roi (input 1) is required with coordinate_transformation_mode tf_crop_and_resize");
                if (r.length != 2 * axes.length) throw Ops.error(node, "roi has " + r.length + " values, expected " + 2 * axes.length + " (start and end per resized axis)");
                roi = new double[2 * rank];
                for (int i = 0; i < rank; i++) roi[rank + i] = 1;
                for (int i = 0; i < axes.length; i++) {
                    roi[axes[i]] = r[i];
                    roi[rank + axes[i]] = r[axes.length + i];
                }
            }
        }

        double[] scale = new double[rank];
        long[] out = x.clone();
        Arrays.fill(scale, 1);
        if (scales != null) {
            if (scales.length != axes.length) throw Ops.error(node, "scales has " + scales.length + " values, expected " + axes.length + (axes.length == rank ? " (one per axis of X)" : " (one per axis in axes)"));
            for (int i = 0; i < axes.length; i++) {
                float s = scales[i];
                if (!(s > 0) || !Float.isFinite(s)) throw Ops.error(node, "scales[" + i + "] is " + s + ", expected a positive number");
                if (upsample && s < 1) throw Ops.error(node, "scales[" + i + "] is " + s + ", Upsample needs scales ≥ 1");
                int a = axes[i];
                scale[a] = s;
                double crop = roi == null ? 1 : roi[rank + a] - roi[a];
                out[a] = (long) Math.floor(x[a] * crop * (double) s);
            }
        } else {
            if (sizes.length != axes.length) throw Ops.error(node, "sizes has " + sizes.length + " values, expected " + axes.length + (axes.length == rank ? " (one per axis of X)" : " (one per axis in axes)"));
            for (int i = 0; i < axes.length; i++) {
                if (sizes[i] < 0) throw Ops.error(node, "sizes[" + i + "] is " + sizes[i] + ", expected ≥ 0");
                if (x[axes[i]] == 0 && sizes[i] != 0) throw Ops.error(node, "axis " + axes[i] + " of X is empty, it cannot be resized to " + sizes[i]);
            }
            for (int i = 0; i < axes.length; i++) scale[axes[i]] = x[axes[i]] == 0 ? 1 : (double) sizes[i] / x[axes[i]];
            if (!policy.equals("stretch")) {
                double s = policy.equals("not_larger") ? Double.POSITIVE_INFINITY : 0;
                for (int a : axes) s = policy.equals("not_larger") ? Math.min(s, scale[a]) : Math.max(s, scale[a]);
                for (int a : axes) {
                    scale[a] = s;
                    out[a] = (long) (s * x[a] + 0.5);   // the reference's round-half-up
                }
            } else {
                for (int i = 0; i < axes.length; i++) out[axes[i]] = sizes[i];
            }
        }
        double[] width = new double[rank];
        for (int a = 0; a < rank; a++) {
            double crop = roi == null || scales == null ? 1 : roi[rank + a] - roi[a];
            width[a] = scale[a] * x[a] * crop;
        }
        return new Spec(mode, coord, rounding, cubicA, excludeOutside, extrapolation, antialias, x, out, scale, width, roi);
    }

    private static float[] constantFloats(Node node, Inputs in, int i, String what) {
        return constantFloats(node, in, i, what, false);
    }

    /** A float input known at prepare time; null when omitted or empty (opset 11-13 exports pass "" or [] for "absent"). */
    private static float[] constantFloats(Node node, Inputs in, int i, String what, boolean unused) {
        if (!in.has(i)) return null;
        long[] shape = in.shape(i);
        if (shape != null && Ops.count(shape) == 0) return null;
        Value v = in.constant(i);
        if (v == null) {
            if (unused) return null;   // e.g. a runtime roi that only tf_crop_and_resize would read
            throw new DataDependentException(node.opType() + " node " + node.label() + ": " + what + " (input " + i + ") must be known when the plan is prepared (an initializer, computable from shapes, or a small graph input)");
        }
        if (v instanceof Value.Floats f) return f.tensor().toArray();
        throw Ops.error(node, what + " (input " + i + ") must be float32, got " + v.type().onnxName());
    }

    // ---------------------------------------------------------------- coordinates and weights

    /** The source coordinate x' of output coordinate x on axis a (spec formulas, in double). */
    static double source(Spec s, int a, long x) {
        double scale = s.scale()[a];
        long n = s.in()[a], m = s.out()[a];
        double w = s.width()[a];
        return switch (s.coord()) {
            case HALF_PIXEL -> (x + 0.5) / scale - 0.5;
            case HALF_PIXEL_SYMMETRIC -> {
                double adjustment = m / w;
                double offset = n / 2.0 * (1 - adjustment);
                yield offset + (x + 0.5) / scale - 0.5;
            }
            case PYTORCH_HALF_PIXEL -> m > 1 ? (x + 0.5) / scale - 0.5 : 0;
            case ALIGN_CORNERS -> w == 1 ? 0 : x * (n - 1) / (w - 1);
            case ASYMMETRIC -> x / scale;
            case TF_HALF_PIXEL_FOR_NN -> (x + 0.5) / scale;
            case TF_CROP_AND_RESIZE -> {
                double r0 = s.roi()[a], r1 = s.roi()[s.in().length + a];
                double xo = w == 1 ? (r1 - r0) * (n - 1) / 2 : x * (r1 - r0) * (n - 1) / (w - 1);
                yield xo + r0 * (n - 1);
            }
        };
    }

    /** Cubic convolution kernel (Keys) with parameter A at distance |d|. */
    static double cubic(double d, double a) {
        d = Math.abs(d);
        if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
        if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
        return 0;
    }

    /**
     * Source taps per output along axis a: 1 for nearest; for linear/cubic the filter's support (2 or 4 taps,
     * widened by 1/scale when antialiasing a downscale), {@code 2 − 2·start} with {@code start = ⌊−r/scale⌋ + 1}.
     * A long: an extreme scale can ask for more taps than an int counts.
     */
    static long tapWidth(Spec s, int a) {
        if (s.mode() == Mode.NEAREST) return 1;
        double filterScale = s.antialias() ? Math.min(s.scale()[a], 1) : 1;
        double start = Math.floor((s.mode() == Mode.CUBIC ? -2 : -1) / filterScale) + 1;
        return (long) Math.min(Long.MAX_VALUE / 4, 2 - 2 * start);
    }

    /** The index and weight table of axis a (see {@link Taps}). */
    static Taps taps(Spec s, int a) {
        int n = (int) s.in()[a], m = (int) s.out()[a];
        double scale = s.scale()[a];
        boolean[] outside = new boolean[m];
        if (s.mode() == Mode.NEAREST) {
            int[] index = new int[m];
            double[] weight = new double[m];
            for (int o = 0; o < m; o++) {
                double xo = source(s, a, o);
                if (s.coord() == Coord.TF_CROP_AND_RESIZE && (xo < 0 || xo > n - 1)) {
                    outside[o] = true;
                    continue;
                }
                double f = Math.floor(xo), r = xo - f;
                long i;
                if (r == 0) i = (long) f;
                else i = switch (s.rounding()) {
                    case ROUND_PREFER_FLOOR -> r <= 0.5 ? (long) f : (long) f + 1;
                    case ROUND_PREFER_CEIL -> r < 0.5 ? (long) f : (long) f + 1;
                    case FLOOR -> (long) f;
                    case CEIL -> (long) f + 1;
                    case SIMPLE -> scale < 1 ? (long) f + 1 : (long) f;
                };
                index[o] = (int) Math.max(0, Math.min(n - 1, i));
                weight[o] = 1;
            }
            return new Taps(n, m, 1, index, weight, outside);
        }
        // Linear/cubic: filter support start..start+taps-1 around base, where x' = base + ratio, ratio in (0, 1].
        boolean cubic = s.mode() == Mode.CUBIC;
        double filterScale = s.antialias() ? Math.min(scale, 1) : 1;
        int width = (int) tapWidth(s, a);
        int start = 1 - width / 2;
        int[] index = new int[m * width];
        double[] weight = new double[m * width];
        double[] c = new double[width];
        for (int o = 0; o < m; o++) {
            double xo = source(s, a, o);
            if (s.coord() == Coord.TF_CROP_AND_RESIZE && (xo < 0 || xo > n - 1)) {
                outside[o] = true;
                continue;
            }
            double base = Math.floor(xo);
            double ratio = xo - base;
            if (ratio == 0) {
                base -= 1;
                ratio = 1;
            }
            double sum = 0;
            for (int t = 0; t < width; t++) {
                double d = (start + t - ratio) * filterScale;
                c[t] = cubic ? cubic(d, s.cubicA()) : Math.max(0, Math.min(1, 1 - Math.abs(d)));
                long i = (long) base + start + t;
                if (s.excludeOutside() && (i < 0 || i >= n)) c[t] = 0;
                sum += c[t];
            }
            // Antialiased filters and exclude_outside are normalised to sum 1 (the reference divides by the sum).
            boolean normalise = s.antialias() || s.excludeOutside();
            for (int t = 0; t < width; t++) {
                long i = (long) base + start + t;
                index[o * width + t] = (int) Math.max(0, Math.min(n - 1, i));
                weight[o * width + t] = normalise ? c[t] / sum : c[t];
            }
        }
        return new Taps(n, m, width, index, weight, outside);
    }

    // ---------------------------------------------------------------- Java kernel

    /**
     * Resizes one value: nearest is a gather (any element type); linear/cubic run one pass per axis,
     * last axis first as the reference nests them, in double, skipping axes that stay as they are.
     */
    static Value run(Node node, Spec s, Taps[] taps, boolean[] skip, Value xv) {
        long[] out = s.out();
        int rank = out.length;
        int count = Ops.arraySize(out, node);
        if (s.mode() == Mode.NEAREST) {
            // Gather: each output element copies one input element (or is the extrapolation value).
            long[] inStrides = Ops.strides(s.in());
            int[] coord = new int[rank];
            boolean isFloat = xv instanceof Value.Floats;
            float[] xf = isFloat ? ((Value.Floats) xv).tensor().toArray() : null;
            long[] xl = isFloat ? null : ((Value.Longs) xv).view();
            float[] yf = isFloat ? new float[count] : null;
            long[] yl = isFloat ? null : new long[count];
            for (int i = 0; i < count; i++) {
                long src = 0;
                boolean outside = false;
                for (int d = 0; d < rank; d++) {
                    Taps t = taps[d];
                    if (t.outside()[coord[d]]) outside = true;
                    src += t.index()[coord[d]] * inStrides[d];
                }
                if (isFloat) yf[i] = outside ? s.extrapolation() : xf[(int) src];
                else yl[i] = outside ? xv.type().wrap((long) s.extrapolation()) : xl[(int) src];
                for (int d = rank - 1; d >= 0; d--) {
                    if (++coord[d] < out[d]) break;
                    coord[d] = 0;
                }
            }
            return isFloat ? Ops.result(yf, out) : Ops.result(xv.type(), yl, out);
        }
        float[] xf = ((Value.Floats) xv).tensor().toArray();
        double[] cur = new double[xf.length];
        for (int i = 0; i < xf.length; i++) cur[i] = xf[i];
        long[] shape = s.in().clone();
        for (int d = rank - 1; d >= 0; d--) {
            if (skip[d]) continue;
            long[] next = shape.clone();
            next[d] = out[d];
            Ops.arraySize(next, node, Double.BYTES);   // an intermediate (one axis resized, in double) can outgrow both input and output
            cur = pass(cur, shape, d, taps[d], s.extrapolation());
            shape = next;
        }
        float[] y = new float[count];
        for (int i = 0; i < count; i++) y[i] = (float) cur[i];
        return Ops.result(y, out);
    }

    /** Resamples axis d of {@code src} (shape {@code shape}): outer×n×inner → outer×m×inner, in double. */
    static double[] pass(double[] src, long[] shape, int d, Taps t, float extrapolation) {
        int outer = 1, inner = 1;
        for (int i = 0; i < d; i++) outer *= (int) shape[i];
        for (int i = d + 1; i < shape.length; i++) inner *= (int) shape[i];
        int n = t.n(), m = t.m(), w = t.taps();
        double[] dst = new double[outer * m * inner];
        for (int o = 0; o < outer; o++) {
            int srcBase = o * n * inner, dstBase = o * m * inner;
            for (int j = 0; j < m; j++) {
                int row = dstBase + j * inner;
                if (t.outside()[j]) {
                    Arrays.fill(dst, row, row + inner, extrapolation);
                    continue;
                }
                for (int k = 0; k < w; k++) {
                    double wk = t.weight()[j * w + k];
                    if (wk == 0) continue;
                    int from = srcBase + t.index()[j * w + k] * inner;
                    for (int i = 0; i < inner; i++) dst[row + i] += wk * src[from + i];
                }
            }
        }
        return dst;
    }

    // ---------------------------------------------------------------- oneDNN

    /**
     * The oneDNN algorithm ({@code dnnl_resampling_nearest} or {@code dnnl_resampling_linear}) computing
     * exactly this node, or 0: float data, rank 3-5 (1-3 spatial axes),
     * batch and channel axes unchanged, and per spatial axis oneDNN's table equal to ours. oneDNN maps
     * {@code x' = (x + 0.5f)·n/m − 0.5f} in float; nearest takes {@code roundf(x')}, linear
     * {@code floor(x')} and {@code ceil(x')} with weights {@code 1 − (x' − floor)}, {@code x' − floor},
     * indices clamped to the input (oneDNN's resampling documentation).
     */
    static int nativeAlgorithm(Spec s, Taps[] taps) {
        long[] in = s.in(), out = s.out();
        int rank = in.length;
        if (rank < 3 || rank > 5 || !Primitives.nativeShape(in) || !Primitives.nativeShape(out)) return 0;
        if (s.mode() == Mode.CUBIC) return 0;
        if (!taps[0].identity() || !taps[1].identity()) return 0;
        for (int d = 2; d < rank; d++) {
            Taps t = taps[d];
            int n = t.n(), m = t.m();
            for (int o = 0; o < m; o++) {
                if (t.outside()[o]) return 0;
                float xo = ((float) o + 0.5f) * (float) n / (float) m - 0.5f;
                if (s.mode() == Mode.NEAREST) {
                    int i = Math.max(0, Math.min(n - 1, (int) roundAwayFromZero(xo)));
                    if (t.index()[o] != i) return 0;
                } else {
                    float f = (float) Math.floor(xo);
                    int i0 = Math.max(0, Math.min(n - 1, (int) f)), i1 = Math.max(0, Math.min(n - 1, (int) Math.ceil(xo)));
                    float w1 = xo - f, w0 = 1 - w1;
                    // Compare weight per source index (both sides may name an index twice after clamping).
                    Map<Integer, Double> ours = new HashMap<>();
                    for (int k = 0; k < t.taps(); k++) ours.merge(t.index()[o * t.taps() + k], t.weight()[o * t.taps() + k], Double::sum);
                    Map<Integer, Double> theirs = new HashMap<>();
                    theirs.merge(i0, (double) w0, Double::sum);
                    theirs.merge(i1, (double) w1, Double::sum);
                    for (int i : union(ours.keySet(), theirs.keySet())) {
                        // oneDNN maps coordinates in float, as ONNX Runtime and PyTorch do; the reference maps them in
                        // double. With a fractional ratio n/m (DeepLab's 33 → 520) the two weights differ by a few float
                        // ulps of x', up to ~4e-6 at 520 outputs: an output error below 1e-5 of the input's range.
                        if (Math.abs(ours.getOrDefault(i, 0.0) - theirs.getOrDefault(i, 0.0)) > 1e-5) return 0;
                    }
                }
            }
        }
        return s.mode() == Mode.NEAREST ? dnnl_resampling_nearest() : dnnl_resampling_linear();
    }

    private static float roundAwayFromZero(float v) {
        return Math.signum(v) * (float) Math.floor(Math.abs(v) + 0.5f);
    }

    private static Set<Integer> union(Set<Integer> a, Set<Integer> b) {
        Set<Integer> u = new java.util.TreeSet<>(a);
        u.addAll(b);
        return u;
    }

    /** The resampling primitive reading {@code srcDesc}'s layout, writing the layout oneDNN picks (its src layout). */
    static Primitives.PrimitiveOp primitive(Node node, Spec s, int alg, MemorySegment srcDesc) {
        String description = node.label() + ": " + node.opType() + " resampling " + (alg == dnnl_resampling_nearest() ? "nearest" : "linear")
                + " " + MemoryDescs.dims(s.in()) + " -> " + MemoryDescs.dims(s.out());
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            Arena a = op.arena;
            MemorySegment dstAny = MemoryDescs.any(a, s.out());
            int rank = s.in().length;
            float[] f = new float[rank - 2];
            for (int d = 2; d < rank; d++) f[d - 2] = (float) s.out()[d] / s.in()[d];
            MemorySegment factors = a.allocateFrom(ValueLayout.JAVA_FLOAT, f);
            MemorySegment attr = Primitives.userScratchpad(a, description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_resampling_forward_primitive_desc_create",
                    pd -> dnnl_resampling_forward_primitive_desc_create(pd, engine, dnnl_forward_inference(), alg, factors, srcDesc, dstAny, attr));
            return op.srcToDst();
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }

    /** Node-by-node native: the primitive on plain row-major tensors. */
    private static Step nativeStep(Node node, Spec s, Taps[] taps) {
        Arena arena = Arena.ofShared();
        Primitives.PrimitiveOp op;
        try {
            MemorySegment plainIn = MemoryDescs.plain(arena, s.in());
            op = primitive(node, s, nativeAlgorithm(s, taps), plainIn);
            MemorySegment plainOut = MemoryDescs.plain(arena, s.out());
            if (!MemoryDescs.equal(op.outputDesc, plainOut) || !MemoryDescs.equal(op.inputDescs[0], plainIn)) {
                op.close();
                arena.close();
                return null;
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        long[] out = s.out();
        return new Step() {
            @Override public List<long[]> outputShapes() { return List.of(out); }
            @Override public List<DataType> outputTypes() { return List.of(DataType.FLOAT); }
            @Override public List<Value> run(List<Value> inputs) {
                Tensor x = Ops.floats(inputs, 0, node);
                Tensor y = Tensor.zeros(out);
                try (Arena call = Arena.ofConfined()) {
                    MemorySegment scratch = op.scratchpadBytes() > 0 ? call.allocate(op.scratchpadBytes(), 64) : MemorySegment.NULL;
                    try (NativeOp.Bound b = op.bind(new MemorySegment[] {x.segment()}, y.segment(), scratch)) {
                        b.run();
                    }
                } catch (RuntimeException e) {
                    y.close();
                    throw e;
                }
                return List.of(new Value.Floats(y));
            }
            @Override public void close() {
                op.close();
                arena.close();
            }
        };
    }
}
