package dev.jdnn.soak;

import com.google.protobuf.ByteString;
import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import dev.jdnn.onnx.proto.OnnxProto.AttributeProto;
import dev.jdnn.onnx.proto.OnnxProto.GraphProto;
import dev.jdnn.onnx.proto.OnnxProto.ModelProto;
import dev.jdnn.onnx.proto.OnnxProto.NodeProto;
import dev.jdnn.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorProto;
import dev.jdnn.onnx.proto.OnnxProto.TensorShapeProto;
import dev.jdnn.onnx.proto.OnnxProto.TypeProto;
import dev.jdnn.onnx.proto.OnnxProto.ValueInfoProto;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/**
 * Soak: {@code Soak <mode> <inferences> <samples>} runs a small CNN ({@code N×3×H×W → Conv 3×3 (16) → Relu →
 * MaxPool 2 → GlobalAveragePool → N×16×1×1}, built here) that many times on one native session and prints
 * {@code samples} lines of {@code runs rss_kib nmt_committed_kib heap_used_kib plans} (NMT needs
 * -XX:NativeMemoryTracking=summary), then the growth from the first sample after warm-up (10%) to the last.
 * Modes: {@code closed} (try-with-resources, one shape), {@code leaked} (results never closed: the Cleaner
 * frees them), {@code shapes} (cycles 100 input sizes through the default 32-plan cache).
 */
public final class Soak {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        long total = Long.parseLong(args[1]);
        int samples = Integer.parseInt(args[2]);
        Path file = Files.createTempFile("jdnn-soak", ".onnx");
        Files.write(file, model().toByteArray());
        int shapes = mode.equals("shapes") ? 100 : 1;
        Tensor[] inputs = new Tensor[shapes];
        for (int i = 0; i < shapes; i++) {
            int side = 16 + 2 * i;
            float[] v = new float[3 * side * side];
            for (int k = 0; k < v.length; k++) v[k] = (k % 13) / 6.5f - 1;
            inputs[i] = Tensor.of(v, 1, 3, side, side);
        }
        long[][] rows = new long[samples + 1][];
        try (Model model = Model.load(file); Session session = model.session(Session.Options.defaults().withThreads(1))) {
            int row = 0;
            double checksum = 0;
            for (long i = 0; i < total; i++) {
                Map<String, Tensor> in = Map.of("x", inputs[(int) (i % shapes)]);
                if (mode.equals("leaked")) {
                    Result r = session.run(in, List.of("y")); // never closed
                    checksum += r.get("y").getFlat(0);
                } else {
                    try (Result r = session.run(in, List.of("y"))) {
                        checksum += r.get("y").getFlat(0);
                    }
                }
                if (i % (total / samples) == 0 || i == total - 1) {
                    rows[Math.min(row, samples)] = new long[] {i + 1, rssKiB(), nmtCommittedKiB(), heapKiB(), session.preparedPlans()};
                    System.out.printf("%d %d %d %d %d%n", (Object[]) box(rows[Math.min(row, samples)]));
                    row++;
                }
            }
            long[] first = rows[Math.max(1, samples / 10)], last = rows[Math.min(row, samples + 1) - 1];
            System.out.printf("mode=%s inferences=%d rss_growth_kib=%d nmt_growth_kib=%d (from run %d to run %d) plans=%d evicted=%d checksum=%.3f%n", mode, total,
                    last[1] - first[1], last[2] - first[2], first[0], last[0], session.preparedPlans(), session.evictedPlans(), checksum);
        } finally {
            for (Tensor t : inputs) t.close();
            Files.deleteIfExists(file);
        }
    }

    private static Object[] box(long[] v) {
        Object[] o = new Object[v.length];
        for (int i = 0; i < v.length; i++) o[i] = v[i];
        return o;
    }

    static long rssKiB() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        return -1;
    }

    private static final Pattern COMMITTED = Pattern.compile("Total: reserved=\\d+KB, committed=(\\d+)KB");

    static long nmtCommittedKiB() {
        try {
            Object out = ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
            Matcher m = COMMITTED.matcher(String.valueOf(out));
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    static long heapKiB() {
        Runtime r = Runtime.getRuntime();
        return (r.totalMemory() - r.freeMemory()) / 1024;
    }

    static ModelProto model() {
        int k = 16;
        ByteBuffer w = ByteBuffer.allocate(k * 3 * 9 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < k * 27; i++) w.putFloat(((i * 7) % 11 - 5) / 10f);
        TensorProto weights = TensorProto.newBuilder().setName("w").setDataType(1).addAllDims(List.of((long) k, 3L, 3L, 3L)).setRawData(ByteString.copyFrom(w.array())).build();
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(3)).addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("H"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("W"));
        GraphProto g = GraphProto.newBuilder()
                .addInput(ValueInfoProto.newBuilder().setName("x").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))))
                .addInitializer(weights)
                .addNode(NodeProto.newBuilder().setOpType("Conv").setName("conv").addInput("x").addInput("w").addOutput("c").addAttribute(ints("pads", 1, 1, 1, 1)))
                .addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu").addInput("c").addOutput("r"))
                .addNode(NodeProto.newBuilder().setOpType("MaxPool").setName("pool").addInput("r").addOutput("p").addAttribute(ints("kernel_shape", 2, 2)).addAttribute(ints("strides", 2, 2)))
                .addNode(NodeProto.newBuilder().setOpType("GlobalAveragePool").setName("gap").addInput("p").addOutput("y"))
                .addOutput(ValueInfoProto.newBuilder().setName("y")).build();
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) b.addInts(x);
        return b.build();
    }
}
