package dev.jdnn.graph.ops;

import static dev.jdnn.graph.ops.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Kernel;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;
import dev.jdnn.ops.conv.Conv2d;
import dev.jdnn.ops.conv.Conv2dParams;
import dev.jdnn.ops.conv.NativeConv2d;
import dev.jdnn.ops.conv.ReferenceConv2d;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Conv (1-D and 2-D) and BatchNormalization, on jdnn's conv and batch-norm families. */
final class ConvOps {
    private ConvOps() {}

    static void register(Map<String, Kernel> k) {
        k.put("Conv", ConvOps::conv);
        k.put("BatchNormalization", ConvOps::batchNorm);
    }

    /** Begin/end padding per spatial axis from ONNX's pads or auto_pad (SAME_UPPER, SAME_LOWER, VALID). */
    static long[] pads(Node node, long[] in, long[] kernel, long[] strides, long[] dilations) {
        int spatial = kernel.length;
        String autoPad = node.attributes().getString("auto_pad", "NOTSET");
        long[] pads = new long[2 * spatial];
        switch (autoPad) {
            case "NOTSET" -> {
                long[] given = node.attributes().getInts("pads", new long[2 * spatial]);
                if (given.length != 2 * spatial) throw error(node, "pads has " + given.length + " values, expected " + 2 * spatial);
                pads = given;
            }
            case "VALID" -> { }
            case "SAME_UPPER", "SAME_LOWER" -> {
                for (int i = 0; i < spatial; i++) {
                    long out = (in[i + 2] + strides[i] - 1) / strides[i];
                    long total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in[i + 2]);
                    long small = total / 2;
                    pads[i] = autoPad.equals("SAME_UPPER") ? small : total - small;
                    pads[i + spatial] = total - pads[i];
                }
            }
            default -> throw error(node, "auto_pad " + autoPad + " is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
        }
        for (long p : pads) if (p < 0) throw error(node, "negative pads " + format(pads));
        return pads;
    }

    static long[] ints(Node node, String name, int n, long fallback) {
        long[] v = node.attributes().getInts(name, null);
        if (v == null) {
            v = new long[n];
            java.util.Arrays.fill(v, fallback);
        }
        if (v.length != n) throw error(node, name + " has " + v.length + " values, expected " + n);
        return v;
    }

    /** X N×C×(L | H×W), W K×C/g×(k | R×S), optional B → Y; a 1-D conv runs as 2-D with height 1. */
    static Kernel.Step conv(Node node, List<long[]> shapes, List<Value> constants, Kernel.Context ctx) {
        long[] x = shapes.get(0);
        long[] w = shapes.get(1);
        if (x.length != 3 && x.length != 4) throw error(node, "jdnn runs 1-D and 2-D convolutions; input " + format(x) + " has rank " + x.length);
        if (w.length != x.length) throw error(node, "weights " + format(w) + " and input " + format(x) + " differ in rank");
        int spatial = x.length - 2;
        long[] kernel = new long[spatial];
        System.arraycopy(w, 2, kernel, 0, spatial);
        long[] given = node.attributes().getInts("kernel_shape", null);
        if (given != null && !java.util.Arrays.equals(given, kernel)) throw error(node, "kernel_shape " + format(given) + " does not match weights " + format(w));
        long[] strides = ints(node, "strides", spatial, 1);
        long[] dilations = ints(node, "dilations", spatial, 1);
        long[] pads = pads(node, x, kernel, strides, dilations);
        int group = (int) node.attributes().getInt("group", 1);
        boolean oneD = spatial == 1;
        Conv2dParams params = oneD
                ? new Conv2dParams((int) x[1], (int) w[0], 1, (int) kernel[0], 1, (int) strides[0], 0, (int) pads[0], 0, (int) pads[1], 1, (int) dilations[0], group)
                : new Conv2dParams((int) x[1], (int) w[0], (int) kernel[0], (int) kernel[1], (int) strides[0], (int) strides[1],
                        (int) pads[0], (int) pads[1], (int) pads[2], (int) pads[3], (int) dilations[0], (int) dilations[1], group);
        if (w[1] != x[1] / Math.max(1, group)) {
            throw error(node, "weights " + format(w) + " do not fit input channels " + x[1] + " with group " + group);
        }
        long[] in4 = oneD ? new long[] {x[0], x[1], 1, x[2]} : x;
        long[] out4 = params.outputShape(in4);
        long[] out = oneD ? new long[] {out4[0], out4[1], out4[3]} : out4;
        boolean hasBias = node.input(2) != null;
        if (hasBias && (shapes.get(2).length != 1 || shapes.get(2)[0] != w[0])) throw error(node, "bias " + format(shapes.get(2)) + " must have " + w[0] + " values");

        // Weights known now (the usual case, initializers): compile the native convolution once.
        NativeConv2d compiled = null;
        if (ctx.backend() == Backend.NATIVE && constants.get(1) != null && (!hasBias || constants.get(2) != null)) {
            compiled = new NativeConv2d(layer(params, constants.get(1), hasBias ? constants.get(2) : null, node), in4, NativeConv2d.PostOps.NONE);
        }
        NativeConv2d prepared = compiled;
        return new Kernel.Step() {
            @Override public List<long[]> outputShapes() { return List.of(out); }

            @Override public List<Value> run(List<Value> in) {
                Tensor input = floats(in, 0, node).reshape(in4);
                Tensor y = Tensor.zeros(out4);
                if (prepared != null) {
                    prepared.run(input, null, y);
                } else {
                    Conv2d conv = layer(params, in.get(1), hasBias ? in.get(2) : null, node);
                    if (ctx.backend() == Backend.NATIVE) {
                        try (NativeConv2d once = new NativeConv2d(conv, in4, NativeConv2d.PostOps.NONE)) {
                            once.run(input, null, y);
                        }
                    } else {
                        ReferenceConv2d.run(conv, input, y);
                    }
                }
                if (oneD) {
                    Tensor y3 = Tensor.copyOf(y.reshape(out));
                    y.close();
                    return List.of(new Value.Floats(y3));
                }
                return List.of(new Value.Floats(y));
            }

            @Override public void close() {
                if (prepared != null) prepared.close();
            }
        };
    }

    static Conv2d layer(Conv2dParams params, Value weights, Value bias, Node node) {
        if (!(weights instanceof Value.Floats w)) throw error(node, "weights must be float32");
        float[] b = null;
        if (bias != null) {
            if (!(bias instanceof Value.Floats bf)) throw error(node, "bias must be float32");
            b = bf.tensor().toArray();
        }
        return new Conv2d(params, w.tensor().toArray(), b);
    }

    /**
     * BatchNormalization: X, scale γ, B β, mean, var. Inference (default) uses the given mean and var.
     * With training_mode=1 (opset 14+) it normalises with the batch's mean and biased variance and also
     * outputs ONNX's running statistics: {@code running = input·momentum + batch·(1 − momentum)}
     * (ONNX's momentum is the weight of the old value; PyTorch's is the weight of the new one).
     */
    static Kernel.Step batchNorm(Node node, List<long[]> shapes, List<Value> constants, Kernel.Context ctx) {
        long[] x = shapes.get(0);
        if (x.length < 2) throw error(node, "input " + format(x) + " must be N×C×... (rank >= 2)");
        int c = (int) x[1];
        for (int i = 1; i <= 4; i++) {
            if (shapes.get(i) == null || shapes.get(i).length != 1 || shapes.get(i)[0] != c) {
                throw error(node, "input " + i + " must have " + c + " values (one per channel), got " + (shapes.get(i) == null ? "none" : format(shapes.get(i))));
            }
        }
        float eps = node.attributes().getFloat("epsilon", 1e-5f);
        float momentum = node.attributes().getFloat("momentum", 0.9f);
        boolean training = node.attributes().getInt("training_mode", 0) == 1;
        List<long[]> outShapes = new ArrayList<>();
        outShapes.add(x);
        for (int i = 1; i < node.outputs().size(); i++) outShapes.add(new long[] {c});
        if (!training && node.outputs().size() > 1 && node.outputs().subList(1, node.outputs().size()).stream().anyMatch(s -> !s.isEmpty())) {
            throw error(node, "mean/var outputs are only produced with training_mode=1");
        }
        BatchNorm layer = new BatchNorm(c, BatchNorm.Options.defaults().withEps(eps).withTrackRunningStats(!training));
        layer.setBackend(ctx.backend());
        return new Kernel.Step() {
            @Override public List<long[]> outputShapes() { return outShapes; }

            @Override public List<Value> run(List<Value> in) {
                float[] mean = floats(in, 3, node).toArray();
                float[] var = floats(in, 4, node).toArray();
                List<Value> outputs = new ArrayList<>();
                synchronized (layer) {
                    layer.setWeight(floats(in, 1, node).toArray()).setBias(floats(in, 2, node).toArray());
                    Tensor input = floats(in, 0, node);
                    if (!training) {
                        layer.setRunningMean(mean).setRunningVar(var);
                        outputs.add(new Value.Floats(layer.forward(BatchNormMode.EVAL, input)));
                        return outputs;
                    }
                    outputs.add(new Value.Floats(layer.forward(BatchNormMode.TRAIN, input)));
                    float[] batchMean = layer.lastBatchMean();
                    float[] batchVar = layer.lastBatchVariance();
                    float[] runningMean = new float[c];
                    float[] runningVar = new float[c];
                    for (int i = 0; i < c; i++) {
                        runningMean[i] = mean[i] * momentum + batchMean[i] * (1 - momentum);
                        runningVar[i] = var[i] * momentum + batchVar[i] * (1 - momentum);
                    }
                    if (outShapes.size() > 1) outputs.add(result(runningMean, new long[] {c}));
                    if (outShapes.size() > 2) outputs.add(result(runningVar, new long[] {c}));
                }
                return outputs;
            }

            @Override public void close() {
                layer.close();
            }
        };
    }
}
