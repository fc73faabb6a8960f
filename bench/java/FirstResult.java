import dev.jdnn.Model;
import dev.jdnn.Result;
import dev.jdnn.Session;
import dev.jdnn.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Time to a detector's first result and its steady runs, on a .npy input (the first run prepares the plan), wall
 * clock and this JVM's CPU time (all its threads: less sensitive than wall time to a shared machine's load):
 *   java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp target/jdnn.jar \
 *        bench/java/FirstResult.java MODEL.onnx INPUT.npy [STEADY_RUNS]
 */
public class FirstResult {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int steady = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long t0 = System.nanoTime(), cpu0 = os.getProcessCpuTime();
        try (Model m = Model.load(model); Session s = m.session(Session.Options.defaults());
             Tensor image = dev.jdnn.Npy.read(Path.of(args[1]))) {
            String input = m.inputs().keySet().iterator().next();
            try (Result r = s.run(Map.of(input, image), m.outputs())) {
                System.out.printf("%s: first result %.1f s, CPU %.1f s (load, prepare, run)%n", model.getFileName(),
                        (System.nanoTime() - t0) / 1e9, (os.getProcessCpuTime() - cpu0) / 1e9);
            }
            for (int i = 0; i < steady; i++) {
                long t = System.nanoTime(), cpu = os.getProcessCpuTime();
                try (Result r = s.run(Map.of(input, image), m.outputs())) {
                    System.out.printf("steady run %d: %.2f s, CPU %.2f s%n", i + 1, (System.nanoTime() - t) / 1e9, (os.getProcessCpuTime() - cpu) / 1e9);
                }
            }
        }
    }
}
