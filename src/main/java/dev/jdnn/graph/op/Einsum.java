package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Einsum (opset 12+), numpy's Einstein summation: {@code "bij,bjk->bik"} is a batched matmul,
 * {@code "ij->ji"} a transpose, {@code "ii->i"} a diagonal, {@code "...ii->...i"} a batch diagonal,
 * {@code "i,i"} an inner product. Every label of the output indexes it; the others are summed over. A
 * label repeated in one operand takes its diagonal; {@code ...} stands for the operand's leading
 * unlabelled axes, broadcast across operands (size 1 against any size) as numpy does. Without
 * {@code ->} the output is the {@code ...} axes followed by the labels seen exactly once, sorted.
 *
 * <p>The reference is one loop over every label combination (products and sums in double; in long for
 * integer operands). Natively, two float operands whose labels form a batched matmul — batch labels in
 * both or one operand, at most one row label only in A, one column label only in B, one summed label,
 * output {@code [batch…, row, column]} — run as oneDNN matmul over strided views of the operands
 * ({@code "bij,bjk->bik"}, {@code "ij,kj->ik"}, {@code "bhwc,ck->bhwk"}, {@code "ji,jk->ik"}).
 */
public final class Einsum implements Op {
    static void register(Registry.Table t) {
        t.add("Einsum", 12, new Einsum());
    }

    /**
     * A parsed equation bound to operand shapes: {@code labels} gives, per operand, the label id of each
     * axis; label ids {@code 0..ellipsis-1} are the broadcast {@code ...} axes (right-aligned), then
     * letters. {@code output} lists the output's label ids; {@code sizes} every label's extent.
     */
    record Spec(int[][] labels, int[] output, long[] sizes, int ellipsis) {}

    static Spec parse(Node node, String equation, List<long[]> shapes) {
        String eq = equation.replace(" ", "");
        int arrow = eq.indexOf("->");
        String lhs = arrow < 0 ? eq : eq.substring(0, arrow);
        String rhs = arrow < 0 ? null : eq.substring(arrow + 2);
        String[] terms = lhs.split(",", -1);
        if (terms.length != shapes.size()) {
            throw error(node, "equation '" + equation + "' has " + terms.length + " operand(s), the node has " + shapes.size() + " input(s)");
        }
        // Pass 1: the ellipsis rank (the most unlabelled axes of any operand).
        int ellipsis = 0;
        int[] unlabelled = new int[terms.length];
        for (int i = 0; i < terms.length; i++) {
            int letters = letters(node, equation, terms[i]);
            boolean dots = terms[i].contains("...");
            unlabelled[i] = shapes.get(i).length - letters;
            if (unlabelled[i] < 0 || (!dots && unlabelled[i] != 0)) {
                throw error(node, "operand " + i + " '" + terms[i] + "' of equation '" + equation + "' does not match its shape " + format(shapes.get(i)));
            }
            ellipsis = Math.max(ellipsis, unlabelled[i]);
        }
        int labelCount = ellipsis + 128;
        long[] sizes = new long[labelCount];
        Arrays.fill(sizes, -1);
        int[] occurrences = new int[labelCount];
        int[][] labels = new int[terms.length][];
        for (int i = 0; i < terms.length; i++) {
            long[] shape = shapes.get(i);
            labels[i] = ids(terms[i], unlabelled[i], ellipsis);
            for (int a = 0; a < shape.length; a++) {
                int l = labels[i][a];
                occurrences[l]++;
                if (l < ellipsis) { // broadcast: 1 yields to any size
                    if (sizes[l] == -1 || sizes[l] == 1) sizes[l] = shape[a];
                    else if (shape[a] != 1 && shape[a] != sizes[l]) {
                        throw error(node, "the '...' axes of equation '" + equation + "' do not broadcast: operand " + i + " " + format(shape));
                    }
                } else if (sizes[l] == -1) {
                    sizes[l] = shape[a];
                } else if (sizes[l] != shape[a]) {
                    throw error(node, "label '" + (char) (l - ellipsis) + "' of equation '" + equation + "' has sizes " + sizes[l] + " and " + shape[a]);
                }
            }
        }
        int[] output;
        if (rhs != null) {
            int rhsLetters = letters(node, equation, rhs);
            boolean dots = rhs.contains("...");
            output = ids(rhs, dots ? ellipsis : 0, ellipsis);
            if (rhsLetters + (dots ? ellipsis : 0) != output.length) throw new IllegalStateException();
            boolean[] seen = new boolean[labelCount];
            for (int l : output) {
                if (l >= ellipsis && occurrences[l] == 0) {
                    throw error(node, "output label '" + (char) (l - ellipsis) + "' of equation '" + equation + "' is in no operand");
                }
                if (seen[l]) throw error(node, "output label '" + (char) (l - ellipsis) + "' of equation '" + equation + "' is repeated");
                seen[l] = true;
            }
        } else {
            List<Integer> out = new ArrayList<>();
            for (int l = 0; l < ellipsis; l++) out.add(l);
            for (int l = ellipsis; l < labelCount; l++) if (occurrences[l] == 1) out.add(l);
            output = out.stream().mapToInt(Integer::intValue).toArray();
        }
        return new Spec(labels, output, sizes, ellipsis);
    }

    /** The number of letters in a term; only letters and one "..." are allowed. */
    private static int letters(Node node, String equation, String term) {
        String rest = term;
        int dots = rest.indexOf("...");
        if (dots >= 0) {
            rest = rest.substring(0, dots) + rest.substring(dots + 3);
            if (rest.contains(".")) throw error(node, "term '" + term + "' of equation '" + equation + "' has more than one '...'");
        }
        for (char c : rest.toCharArray()) {
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')) {
                throw error(node, "equation '" + equation + "' has '" + c + "' in term '" + term + "'; labels are letters");
            }
        }
        return rest.length();
    }

    /** Label ids of a term's axes, its {@code unlabelled} "..." axes mapped right-aligned onto ids {@code 0..ellipsis-1}. */
    private static int[] ids(String term, int unlabelled, int ellipsis) {
        int dots = term.indexOf("...");
        List<Integer> r = new ArrayList<>();
        for (int p = 0; p < term.length(); p++) {
            if (p == dots) {
                for (int e = 0; e < unlabelled; e++) r.add(ellipsis - unlabelled + e);
                p += 2;
            } else {
                r.add(ellipsis + term.charAt(p));
            }
        }
        return r.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        if (!node.attributes().has("equation")) throw error(node, "attribute equation is required");
        String equation = node.attributes().getString("equation", "");
        if (in.count() == 0) throw error(node, "Einsum needs at least one input");
        List<long[]> shapes = new ArrayList<>();
        DataType type = in.type(0);
        for (int i = 0; i < in.count(); i++) {
            shapes.add(in.require(i, node, "input " + i));
            if (in.type(i) != type) throw error(node, "inputs must have one type, got " + type.onnxName() + " and " + in.type(i).onnxName());
        }
        if (type == DataType.BOOL) throw error(node, "bool inputs are not supported");
        Spec spec = parse(node, equation, shapes);
        long[] out = new long[spec.output().length];
        for (int i = 0; i < out.length; i++) out[i] = spec.sizes()[spec.output()[i]];
        arraySize(out, node);
        if (ctx.backend() == dev.jdnn.Backend.NATIVE && type == DataType.FLOAT) {
            EinsumMatMul.Plan p = EinsumMatMul.plan(spec, shapes);
            if (p != null) {
                dev.jdnn.graph.NativeOp op = EinsumMatMul.primitive(node, spec, p, shapes, in.constant(1), out);
                if (op != null) return NativeStep.of(op, in.isConstant(1) ? new int[] {0} : new int[] {0, 1}, out, node);
            }
        }
        return reference(node, spec, shapes, out, type);
    }

    @Override
    public dev.jdnn.graph.NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (in.count() != 2 || in.type(0) != DataType.FLOAT || in.isConstant(0)) return null;
        List<long[]> shapes = List.of(in.shape(0), in.shape(1));
        Spec spec = parse(node, node.attributes().getString("equation", ""), shapes);
        EinsumMatMul.Plan p = EinsumMatMul.plan(spec, shapes);
        return p == null ? null : EinsumMatMul.primitive(node, spec, p, shapes, in.constant(1), lowering.output());
    }

    /** One loop over the output's labels, an inner one over the summed labels; operands addressed by per-label strides. */
    static Step reference(Node node, Spec spec, List<long[]> shapes, long[] out, DataType type) {
        int operands = shapes.size();
        int labelCount = spec.sizes().length;
        boolean[] inOutput = new boolean[labelCount];
        for (int l : spec.output()) inOutput[l] = true;
        List<Integer> summed = new ArrayList<>();
        for (int l = 0; l < labelCount; l++) if (!inOutput[l] && spec.sizes()[l] >= 0) summed.add(l);
        int[] order = new int[spec.output().length + summed.size()];
        for (int i = 0; i < spec.output().length; i++) order[i] = spec.output()[i];
        for (int i = 0; i < summed.size(); i++) order[spec.output().length + i] = summed.get(i);
        long[] extent = new long[order.length];
        for (int i = 0; i < order.length; i++) extent[i] = spec.sizes()[order[i]];
        // stride[o][i]: how far operand o moves when loop label i advances (diagonals add up; broadcast 1s stay).
        long[][] stride = new long[operands][order.length];
        for (int o = 0; o < operands; o++) {
            long[] shape = shapes.get(o), s = strides(shape);
            for (int a = 0; a < shape.length; a++) {
                int l = spec.labels()[o][a];
                if (shape[a] == 1 && spec.sizes()[l] != 1) continue;
                for (int i = 0; i < order.length; i++) if (order[i] == l) stride[o][i] += s[a];
            }
        }
        int outCount = (int) count(out);
        long inner = 1;
        for (int i = spec.output().length; i < order.length; i++) inner = Math.multiplyExact(inner, extent[i]);
        long sumCount = inner;
        int outLabels = spec.output().length;
        return step(out, type, v -> {
            boolean isFloat = type == DataType.FLOAT;
            float[][] f = new float[operands][];
            long[][] l = new long[operands][];
            for (int o = 0; o < operands; o++) {
                if (isFloat) f[o] = floats(v, o, node).toArray();
                else l[o] = longs(v, o, node);
            }
            double[] rf = isFloat ? new double[outCount] : null;
            long[] rl = isFloat ? null : new long[outCount];
            long[] coord = new long[order.length];
            long[] offset = new long[operands];
            for (int p = 0; p < outCount; p++) {
                double accF = 0;
                long accL = 0;
                for (long s = 0; s < sumCount; s++) {
                    if (isFloat) {
                        double prod = 1;
                        for (int o = 0; o < operands; o++) prod *= f[o][(int) offset[o]];
                        accF += prod;
                    } else {
                        long prod = 1;
                        for (int o = 0; o < operands; o++) prod *= l[o][(int) offset[o]];
                        accL += prod;
                    }
                    advance(coord, offset, extent, stride, outLabels, order.length);
                }
                if (isFloat) rf[p] = accF;
                else rl[p] = accL;
                advance(coord, offset, extent, stride, 0, outLabels);
            }
            if (!isFloat) return new Value.Longs(type, out, rl);
            float[] r = new float[outCount];
            for (int p = 0; p < outCount; p++) r[p] = (float) rf[p];
            return result(r, out);
        });
    }

    /** Odometer step over loop labels {@code from..to-1} (last fastest), keeping the operand offsets in step. */
    private static void advance(long[] coord, long[] offset, long[] extent, long[][] stride, int from, int to) {
        for (int i = to - 1; i >= from; i--) {
            coord[i]++;
            for (int o = 0; o < offset.length; o++) offset[o] += stride[o][i];
            if (coord[i] < extent[i]) return;
            for (int o = 0; o < offset.length; o++) offset[o] -= stride[o][i] * coord[i];
            coord[i] = 0;
        }
    }
}
