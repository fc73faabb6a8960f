package dev.jdnn.graph.op;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every ONNX operator jdnn runs, with the opsets each implementation accepts (as ONNX Runtime registers
 * its kernels: "since version 7, up to 12"). A model whose opset falls outside an op's range is refused
 * at load, naming the node. Adding an op is one class and one line here.
 */
public final class Registry {
    private Registry() {}

    /** The lowest and highest default-domain opsets jdnn loads. */
    public static final int MIN_OPSET = 7;
    public static final int MAX_OPSET = 22;

    /** One implementation of {@code opType} for opsets {@code since..until} (inclusive). */
    public record Entry(String opType, int since, int until, Op op) {
        public boolean accepts(int opset) {
            return opset >= since && opset <= until;
        }

        /** "7-22" or "13+" style range for messages. */
        public String range() {
            return until >= MAX_OPSET ? since + "+" : since + "-" + until;
        }
    }

    /** Where op classes register themselves (their {@code register(Table)} method). */
    public static final class Table {
        private final Map<String, List<Entry>> entries;

        private Table(Map<String, List<Entry>> entries) {
            this.entries = entries;
        }

        /** {@code op} implements {@code opType} from opset {@code since} (or jdnn's minimum) on. */
        public void add(String opType, int since, Op op) {
            add(opType, since, MAX_OPSET, op);
        }

        public void add(String opType, int since, int until, Op op) {
            List<Entry> list = entries.computeIfAbsent(opType, k -> new ArrayList<>());
            for (Entry e : list) {
                if (!(until < e.since() || e.until() < since)) throw new IllegalStateException(opType + " registered twice for overlapping opsets");
            }
            list.add(new Entry(opType, Math.max(MIN_OPSET, since), until, op));
        }
    }

    private static final Map<String, List<Entry>> ENTRIES = new TreeMap<>();

    static {
        Table t = new Table(ENTRIES);
        // One line per op class; keep alphabetical within a family.
        // core: conv, normalisation, pooling, linear algebra
        Conv.register(t);
        BatchNormalization.register(t);
        Pool.register(t);
        Lrn.register(t);
        Gemm.register(t);
        MatMul.register(t);
        Softmax.register(t);
        // element-wise
        Activation.register(t);
        Identity.register(t);
        Binary.register(t);
        // data movement and shapes
        Constant.register(t);
        Shape.register(t);
        Concat.register(t);
        Reshape.register(t);
        Gather.register(t);
        Transpose.register(t);
        Pad.register(t);
        // added ops: one line per class below
        Unary.register(t);
        PRelu.register(t);
        Pow.register(t);
        GatherElements.register(t);
        GatherND.register(t);
        ScatterElements.register(t);
        ScatterND.register(t);
        DepthToSpace.register(t);
        SpaceToDepth.register(t);
        Einsum.register(t);
        Hardmax.register(t);
        Trilu.register(t);
        Reduce.register(t);
        ArgMinMax.register(t);
        TopK.register(t);
        LayerNormalization.register(t);
        InstanceNormalization.register(t);
        GroupNormalization.register(t);
        LpNormalization.register(t);
        Slice.register(t);
        Split.register(t);
        Cast.register(t);
        Expand.register(t);
        Tile.register(t);
        ConstantOfShape.register(t);
        Range.register(t);
        Size.register(t);
        NonZero.register(t);
        ConvTranspose.register(t);
        Resize.register(t);
        Variadic.register(t);
        Compare.register(t);
        Logical.register(t);
        IsNaNInf.register(t);
        OneHot.register(t);
        Compress.register(t);
        EyeLike.register(t);
        ReverseSequence.register(t);
        Unique.register(t);
        Det.register(t);
        Mod.register(t);
        Where.register(t);
        Recurrent.register(t);
        NonMaxSuppression.register(t);
        RoiAlign.register(t);
        If.register(t);
        Loop.register(t);
        // quantization: QuantizeLinear/DequantizeLinear (+ jdnn.FakeQuantize, the pair), DynamicQuantizeLinear, ConvInteger/QLinearConv, MatMulInteger/QLinearMatMul
        Quantize.register(t);
        FakeQuantize.register(t);
        DynamicQuantizeLinear.register(t);
        IntegerConv.register(t);
        IntegerMatMul.register(t);
        CumSum.register(t);
        GridSample.register(t);
        MaxUnpool.register(t);
        MeanVarianceNormalization.register(t);
    }

    /** The implementation of {@code opType} for {@code opset}, or null if jdnn has none. */
    public static Op get(String opType, int opset) {
        for (Entry e : ENTRIES.getOrDefault(opType, List.of())) if (e.accepts(opset)) return e.op();
        return null;
    }

    /** Whether jdnn implements {@code opType} at any opset. */
    public static boolean knows(String opType) {
        return ENTRIES.containsKey(opType);
    }

    /** The opsets jdnn accepts {@code opType} at, as "7+" or "7-12, 13+" (empty if unknown). */
    public static String opsets(String opType) {
        return String.join(", ", ENTRIES.getOrDefault(opType, List.of()).stream().map(Entry::range).toList());
    }

    /** Every supported op type, sorted. */
    public static List<String> supported() {
        return List.copyOf(ENTRIES.keySet());
    }

    /** Every registration, by op type. */
    public static Map<String, List<Entry>> entries() {
        return Collections.unmodifiableMap(ENTRIES);
    }
}
