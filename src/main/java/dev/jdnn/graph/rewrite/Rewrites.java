package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Graph;
import java.util.List;
import java.util.Set;

/** The rewrites a plan applies before preparing a graph, in order. Adding one is one class and one line here. */
public final class Rewrites {
    private Rewrites() {}

    static final List<Rewrite> ALL = new java.util.ArrayList<>();

    static {
        // One line per rewrite class. Order matters only where patterns overlap.
        ALL.add(new ConstantIdentity());   // first: the patterns below look for constants
        ALL.add(new SplitParts());
        ALL.add(new GeluFusion());
        ALL.add(new SiluFusion());
        ALL.add(new HardSwishFusion());
        ALL.add(new LayerNormPattern());
        ALL.add(new MatMulBias());
        ALL.add(new FakeQuantFusion());
    }

    /** Applies every rewrite in order. */
    public static Graph apply(Graph graph, Set<String> keep) {
        Graph g = graph;
        for (Rewrite r : ALL) g = r.apply(g, keep);
        return g;
    }
}
