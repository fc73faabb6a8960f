package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.error;
import static dev.jdnn.graph.op.Ops.format;

import dev.jdnn.graph.Node;

/**
 * Range checks for attribute parsing, shared by the op classes: each failure is an
 * {@link IllegalArgumentException} of the form {@code "<Op> node <name>: <attribute> <value> must be …"},
 * so a malformed model is refused before any native call with the node, the op, the attribute and the
 * offending value. Limits follow the ONNX spec (kernel, strides, dilations ≥ 1; pads ≥ 0 and, for pools,
 * less than the kernel); every value that reaches an int (loop bounds, oneDNN dims) must fit one.
 */
public final class Checks {
    private Checks() {}

    /** {@code value ≥ 1} and fitting an int. */
    public static int positive(Node node, String attribute, long value) {
        if (value < 1) throw error(node, attribute + " " + value + " must be >= 1");
        return toInt(node, attribute, value);
    }

    /** Every value ≥ 1 and fitting an int (kernel_shape, strides, dilations). */
    public static long[] positive(Node node, String attribute, long[] values) {
        for (long v : values) {
            if (v < 1) throw error(node, attribute + " " + format(values) + " must be >= 1 in every axis (got " + v + ")");
            fitsInt(node, attribute, values, v);
        }
        return values;
    }

    /** Every value ≥ 0 and fitting an int (pads, output_padding). */
    public static long[] nonNegative(Node node, String attribute, long[] values) {
        for (long v : values) {
            if (v < 0) throw error(node, attribute + " " + format(values) + " must be >= 0 (got " + v + ")");
            fitsInt(node, attribute, values, v);
        }
        return values;
    }

    /** A long attribute (or a value derived from it) that becomes an int: {@link Math#toIntExact} with the name. */
    public static int toInt(Node node, String attribute, long value) {
        if (value != (int) value) throw error(node, attribute + " " + value + " does not fit a 32-bit int");
        return (int) value;
    }

    private static void fitsInt(Node node, String attribute, long[] values, long v) {
        if (v != (int) v) throw error(node, attribute + " " + format(values) + " does not fit a 32-bit int (got " + v + ")");
    }

    /** A boolean-like int attribute: 0 or 1. */
    public static boolean flag(Node node, String attribute, long value) {
        if (value != 0 && value != 1) throw error(node, attribute + " " + value + " must be 0 or 1");
        return value == 1;
    }

    /** An axis attribute in [-rank, rank), normalised to [0, rank). */
    public static int axis(Node node, String attribute, long axis, int rank) {
        if (axis < -rank || axis >= rank) throw error(node, attribute + " " + axis + " is out of range for rank " + rank + " (must be in [" + -rank + ", " + (rank - 1) + "])");
        return (int) (axis < 0 ? axis + rank : axis);
    }

    /**
     * Pool pads (begin values then end values, one per spatial axis): each must be less than the
     * (dilated) kernel extent in its axis, as ONNX and PyTorch require; a larger pad only adds windows
     * that see nothing but padding.
     */
    public static void poolPads(Node node, long[] pads, long[] kernel, long[] dilations) {
        int spatial = kernel.length;
        for (int i = 0; i < pads.length; i++) {
            int a = i % spatial;
            long extent = (kernel[a] - 1) * dilations[a] + 1;
            if (pads[i] >= extent) {
                throw error(node, "pads " + format(pads) + " must be smaller than the kernel extent " + extent + " on spatial axis " + a + " (got " + pads[i] + ")");
            }
        }
    }
}
