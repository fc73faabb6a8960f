package dev.jdnn.onnx;

import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Map;

/**
 * Run in a fresh JVM by {@link HeapFootprintTest}: loads a model, prints the heap used after a full GC,
 * runs one batch-1 inference of input side {@code size}, prints the heap again and the first output value.
 *
 * <pre>java -Xmx64m -cp ... dev.jdnn.onnx.HeapProbe model.onnx 224</pre>
 */
public final class HeapProbe {
    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        long size = Long.parseLong(args[1]);
        try (Model model = Model.load(file)) {
            System.out.println("heapAfterLoad " + usedHeap());
            String input = model.inputs().keySet().iterator().next();
            try (Session session = model.session(Session.Options.defaults());
                 Tensor x = Tensor.zeros(1, 3, size, size);
                 Result r = session.run(Map.of(input, x))) {
                for (long i = 0; i < x.elementCount(); i++) x.setFlat(i, (float) Math.sin(i));
                try (Result again = session.run(Map.of(input, x))) {
                    System.out.println("heapAfterRun " + usedHeap());
                    System.out.println("output " + again.get(model.outputs().get(0)).getFlat(0));
                    System.out.println("nativeBytes " + model.nativeBytes() + " " + session.nativeBytes());
                }
            }
        }
    }

    static long usedHeap() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
