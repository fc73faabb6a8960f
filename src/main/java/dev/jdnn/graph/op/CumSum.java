package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;

/**
 * CumSum (opsets 11, 14): the running sum of x (float32, int32 or int64, any rank ≥ 1) along {@code axis},
 * a 0-D (or one-element) int32/int64 input in [−rank, rank), read at run time when it is not a constant;
 * the output has x's shape and type. {@code exclusive=1} leaves out the element itself (the first sum is 0),
 * {@code reverse=1} sums from the end of the axis. Float sums accumulate in double and round each output
 * once, as PyTorch's CPU {@code torch.cumsum} does; integer sums wrap in their type. Java.
 */
public final class CumSum implements Op {
    static void register(Registry.Table t) {
        t.add("CumSum", 11, new CumSum());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "x");
        DataType type = in.type(0);
        if (type != DataType.FLOAT && type != DataType.INT32 && type != DataType.INT64) {
            throw error(node, "x of type " + type.onnxName() + " is not supported; jdnn runs CumSum on float32, int32 and int64");
        }
        if (x.length == 0) throw error(node, "x must have rank >= 1, got a scalar");
        long[] axisShape = in.require(1, node, "axis");
        if (in.type(1) != DataType.INT32 && in.type(1) != DataType.INT64) throw error(node, "axis must be int32 or int64, got " + in.type(1).onnxName());
        if (count(axisShape) != 1 || axisShape.length > 1) throw error(node, "axis must be a scalar, got shape " + format(axisShape));
        boolean exclusive = Checks.flag(node, "exclusive", node.attributes().getInt("exclusive", 0));
        boolean reverse = Checks.flag(node, "reverse", node.attributes().getInt("reverse", 0));
        if (in.isConstant(1)) Checks.axis(node, "axis", in.constantLongs(1, node, "axis")[0], x.length); // refuse a bad constant at load
        int size = arraySize(x, node);
        long[] stride = strides(x);
        return step(x, type, v -> {
            int a = Checks.axis(node, "axis", longs(v, 1, node)[0], x.length);
            int length = (int) x[a], inner = (int) stride[a];
            int outer = length == 0 ? 0 : size / (length * inner);
            if (v.get(0) instanceof Value.Longs l) {
                long[] src = l.view(), dst = new long[size];
                for (int o = 0; o < outer; o++) {
                    for (int i = 0; i < inner; i++) {
                        int base = o * length * inner + i;
                        long sum = 0;
                        for (int k = 0; k < length; k++) {
                            int at = base + (reverse ? length - 1 - k : k) * inner;
                            if (exclusive) {
                                dst[at] = sum;
                                sum += src[at];
                            } else {
                                sum += src[at];
                                dst[at] = sum;
                            }
                        }
                    }
                }
                return result(type, dst, x); // Value.Longs wraps int32 sums into range
            }
            float[] src = floats(v, 0, node).toArray(), dst = new float[size];
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    int base = o * length * inner + i;
                    double sum = 0;
                    for (int k = 0; k < length; k++) {
                        int at = base + (reverse ? length - 1 - k : k) * inner;
                        if (exclusive) {
                            dst[at] = (float) sum;
                            sum += src[at];
                        } else {
                            sum += src[at];
                            dst[at] = (float) sum;
                        }
                    }
                }
            }
            return result(dst, x);
        });
    }
}
