package dev.jdnn;

import dev.jdnn.graph.Plan;
import dev.jdnn.graph.PrepareStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The lines {@link Session#explain} adds after the program: what loading and preparing cost, in time and native memory. */
final class Footprint {
    private Footprint() {}

    static List<String> lines(Model model, Plan plan, PrepareStats stats) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "load: %.1f ms (map the file, parse its structure, slice the weights)", model.loadNanos() / 1e6));
        if (stats != null) lines.addAll(stats.lines());
        Model.WeightBytes w = model.weightBytes();
        long[] kinds = plan.nativeBytesByKind();
        lines.add("memory: model weights " + mb(w.mapped()) + " in the mapped file (page cache), " + mb(w.copied())
                + " copied to native memory (unaligned in the file and read as tensors, or float16 widened), reordered weights " + mb(w.reordered())
                + " (shared by every plan of the model); this plan: activations " + mb(kinds[0]) + ", scratchpad " + mb(kinds[1])
                + ", weights in kernel layouts " + mb(kinds[2]));
        return lines;
    }

    static String mb(long bytes) {
        return bytes >= 1 << 20 ? String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0) : String.format(Locale.ROOT, "%.1f KB", bytes / 1024.0);
    }
}
