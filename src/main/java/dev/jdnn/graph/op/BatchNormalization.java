package dev.jdnn.graph.op;

import static dev.jdnn.bindings.dnnl_h.*;
import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Engine;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.NativeOp;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Value;
import dev.jdnn.ops.batchnorm.BatchNorm;
import dev.jdnn.ops.batchnorm.BatchNormMode;
import dev.jdnn.ops.eltwise.EltwiseAlgorithm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * BatchNormalization: X N×C×..., scale γ, B β, mean, var (each [C]) → Y. Inference (default) uses the
 * given mean and var. With training_mode=1 (opset 14+) it normalises with the batch's mean and biased
 * variance and also outputs ONNX's running statistics: {@code running = input·momentum + batch·(1 − momentum)}
 * (ONNX's momentum is the weight of the old value; PyTorch's is the weight of the new one).
 * Runs on jdnn's {@link BatchNorm} layer; compiled plans fold it into the conv before it, or lower it to
 * a scale-shift (see {@link #lower}).
 */
public final class BatchNormalization implements Op {
    static void register(Registry.Table t) {
        t.add("BatchNormalization", 1, new BatchNormalization());
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        long[] x = in.require(0, node, "X");
        for (int i = 0; i <= 4; i++) in.requireFloat(i, node, "input " + i);
        if (x.length < 2) throw error(node, "input " + format(x) + " must be N×C×... (rank >= 2)");
        int c = toInt(x[1], node, "channels");
        for (int i = 1; i <= 4; i++) {
            if (!in.has(i) || in.shape(i).length != 1 || in.shape(i)[0] != c) {
                throw error(node, "input " + i + " must have " + c + " values (one per channel), got " + (in.has(i) ? format(in.shape(i)) : "none"));
            }
        }
        float eps = node.attributes().getFloat("epsilon", 1e-5f);
        if (!(eps >= 0)) throw error(node, "epsilon " + eps + " must be >= 0");
        float momentum = node.attributes().getFloat("momentum", 0.9f);
        boolean training = Checks.flag(node, "training_mode", node.attributes().getInt("training_mode", 0));
        List<long[]> outShapes = new ArrayList<>();
        outShapes.add(x);
        for (int i = 1; i < node.outputs().size(); i++) outShapes.add(new long[] {c});
        if (!training && node.outputs().size() > 1 && node.outputs().subList(1, node.outputs().size()).stream().anyMatch(s -> !s.isEmpty())) {
            throw error(node, "mean/var outputs are only produced with training_mode=1");
        }
        List<DataType> outTypes = outShapes.stream().map(s -> DataType.FLOAT).toList();
        BatchNorm layer = new BatchNorm(c, BatchNorm.Options.defaults().withEps(eps).withTrackRunningStats(!training));
        layer.setBackend(ctx.backend());
        return new Step() {
            @Override public List<long[]> outputShapes() { return outShapes; }
            @Override public List<DataType> outputTypes() { return outTypes; }

            @Override public List<Value> run(List<Value> inputs) {
                float[] mean = floats(inputs, 3, node).toArray();
                float[] var = floats(inputs, 4, node).toArray();
                List<Value> outputs = new ArrayList<>();
                synchronized (layer) {
                    layer.setWeight(floats(inputs, 1, node).toArray()).setBias(floats(inputs, 2, node).toArray());
                    Tensor input = floats(inputs, 0, node);
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

    /** Inference with constant statistics and no statistics outputs: what a compiled plan folds or lowers. */
    public static boolean foldable(Node n, Inputs in) {
        if (!n.opType().equals("BatchNormalization") || n.attributes().getInt("training_mode", 0) == 1) return false;
        for (int o = 1; o < n.outputs().size(); o++) if (!n.outputs().get(o).isEmpty()) return false;
        for (int k = 1; k <= 4; k++) if (!(in.constant(k) instanceof Value.Floats)) return false;
        return true;
    }

    /** A ReLU after an inference batch norm runs inside its scale-shift primitive. */
    @Override
    public boolean fusesPostOp(Node node, Inputs in, PostOp activation) {
        return foldable(node, in) && !in.isConstant(0) && activation.algorithm() == EltwiseAlgorithm.RELU && activation.alpha() == 0;
    }

    /**
     * Inference batch norm with constant statistics, in the input's layout, as the per-channel affine map
     * it is: {@code y = x·s + t} with {@code s = γ/√(var+ε)}, {@code t = β − mean·s} (computed in double,
     * rounded once), run as oneDNN's binary multiply by s with an add-t binary post-op, and a fused ReLU
     * as an eltwise post-op. (oneDNN's own batch-norm primitive measured 5-20× slower than this on AVX2
     * for the same blocked tensors.)
     */
    @Override
    public NativeOp lower(Node node, Inputs in, Lowering lowering) {
        if (!foldable(node, in) || in.isConstant(0) || lowering.runtimeDescs().size() != 1) return null;
        PostOp relu = lowering.fused();
        if (relu != null && (relu.algorithm() != EltwiseAlgorithm.RELU || relu.alpha() != 0)) return null;
        double eps = node.attributes().getFloat("epsilon", 1e-5f);
        long[] x = in.shape(0);
        int c = (int) x[1];
        float[] gamma = Primitives.array(in.constants(), 1, node), beta = Primitives.array(in.constants(), 2, node);
        float[] mean = Primitives.array(in.constants(), 3, node), var = Primitives.array(in.constants(), 4, node);
        float[] scale = new float[c], shift = new float[c];
        for (int k = 0; k < c; k++) {
            double sk = gamma[k] / Math.sqrt((double) var[k] + eps);
            scale[k] = (float) sk;
            shift[k] = (float) (beta[k] - mean[k] * sk);
        }
        long[] channelDims = new long[x.length];
        Arrays.fill(channelDims, 1);
        channelDims[1] = c;
        String description = node.label() + ": batch norm (inference) as scale-shift " + MemoryDescs.dims(x) + " eps " + (float) eps + (relu != null ? " +relu" : "");
        Primitives.PrimitiveOp op = new Primitives.PrimitiveOp(description);
        try {
            Arena a = op.arena;
            MemorySegment src = lowering.desc(0);
            MemorySegment channel = MemoryDescs.plain(a, channelDims);
            MemorySegment attr = Primitives.userScratchpad(a, description);
            MemorySegment postOps = Dnnl.create(a, "dnnl_post_ops_create", description, o -> dnnl_post_ops_create(o), p -> dnnl_post_ops_destroy(p));
            Dnnl.check(dnnl_post_ops_append_binary(postOps, dnnl_binary_add(), channel), "dnnl_post_ops_append_binary", description);
            if (relu != null) Dnnl.check(dnnl_post_ops_append_eltwise(postOps, dnnl_eltwise_relu(), 0f, 0f), "dnnl_post_ops_append_eltwise", description);
            Dnnl.check(dnnl_primitive_attr_set_post_ops(attr, postOps), "dnnl_primitive_attr_set_post_ops", description);
            MemorySegment engine = Engine.cpu();
            op.create("dnnl_binary_primitive_desc_create", o -> dnnl_binary_primitive_desc_create(o, engine, dnnl_binary_mul(), src, channel, src, attr));
            op.reusesInput = 0;
            op.input(DNNL_ARG_SRC_0(), op.primitive.queryDesc(dnnl_query_src_md(), 0));
            op.constants.add(new Primitives.PrimitiveOp.Constant(DNNL_ARG_SRC_1(), channel, a.allocateFrom(ValueLayout.JAVA_FLOAT, scale)));
            op.constants.add(new Primitives.PrimitiveOp.Constant(DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE() | DNNL_ARG_SRC_1(), channel,
                    a.allocateFrom(ValueLayout.JAVA_FLOAT, shift)));
            return op;
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
    }
}
