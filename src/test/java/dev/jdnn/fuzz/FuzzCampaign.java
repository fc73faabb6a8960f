package dev.jdnn.fuzz;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A fuzz campaign: {@code FuzzCampaign <ONNX|ATTRIBUTES|NPY> <inputs> <seed> <findings dir>} runs that many
 * generated inputs through one target and writes every finding (an input that ended in anything but a
 * jdnn exception) as {@code <target>-<seed>-<i>.bin} with its stack trace beside it. Prints one summary
 * line: {@code target=… seed=… inputs=… ran=… refused=… findings=… distinct=… seconds=…}. Run by
 * {@code bench/fuzz.sh}, which starts one JVM per chunk so a JVM crash loses only its chunk (and is reported).
 */
public final class FuzzCampaign {
    public static void main(String[] args) throws Exception {
        FuzzTargets.Target target = FuzzTargets.Target.valueOf(args[0]);
        long count = Long.parseLong(args[1]);
        long seed = Long.parseLong(args[2]);
        Path findingsDir = Path.of(args[3]);
        Files.createDirectories(findingsDir);
        Mutator m = new Mutator(seed);
        long ran = 0, refused = 0, findings = 0;
        Set<String> distinct = new HashSet<>();
        Map<String, Integer> perSignature = new HashMap<>();
        long t0 = System.nanoTime();
        try (FuzzTargets targets = new FuzzTargets()) {
            for (long i = 0; i < count; i++) {
                byte[] input = targets.next(target, m);
                try {
                    if (targets.run(target, input)) ran++;
                    else refused++;
                } catch (FuzzTargets.Finding f) {
                    findings++;
                    String signature = signature(f.getCause());
                    distinct.add(signature);
                    if (perSignature.merge(signature, 1, Integer::sum) <= 3) {
                        String name = target + "-" + seed + "-" + i;
                        Files.write(findingsDir.resolve(name + ".bin"), input);
                        StringWriter trace = new StringWriter();
                        f.getCause().printStackTrace(new PrintWriter(trace));
                        Files.writeString(findingsDir.resolve(name + ".txt"), trace.toString());
                    }
                }
            }
        }
        System.out.printf("target=%s seed=%d inputs=%d ran=%d refused=%d findings=%d distinct=%d seconds=%.1f%n", target, seed, count, ran, refused,
                findings, distinct.size(), (System.nanoTime() - t0) / 1e9);
        distinct.forEach(s -> System.out.println("  finding: " + s));
    }

    /** Exception type plus the first three frames: one line per distinct bug. */
    static String signature(Throwable t) {
        StringBuilder b = new StringBuilder(t.getClass().getName());
        StackTraceElement[] trace = t.getStackTrace();
        int first = 0;   // from the first jdnn frame: where jdnn called into the JDK
        while (first < trace.length && !trace[first].getClassName().startsWith("dev.jdnn.")) first++;
        if (first == trace.length) first = 0;
        for (int i = first; i < Math.min(first + 3, trace.length); i++) b.append(" @ ").append(trace[i].getClassName()).append('.').append(trace[i].getMethodName()).append(':').append(trace[i].getLineNumber());
        return b.toString();
    }
}
