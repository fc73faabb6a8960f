package dev.jdnn.graph.rewrite;

import dev.jdnn.graph.Graph;
import java.util.Set;

/**
 * A pattern that older exports spell out in several core ops, recognised and replaced by the one op it
 * computes (the Erf form of GELU, x·sigmoid(x), the decomposed LayerNormalization chain, ...), so that it
 * runs as one oneDNN primitive or post-op. Replacement nodes use jdnn's internal op types
 * ({@code "jdnn.Gelu"}, ...), registered in {@link dev.jdnn.graph.op.Registry} for every opset.
 *
 * <p>A rewrite never removes a tensor named in {@code keep} (graph outputs and requested taps): a match
 * whose intermediate tensors are kept is left alone, so a tap sees exactly what the exported graph computes.
 */
public interface Rewrite {
    /** The graph with every match replaced, or {@code graph} itself if nothing matched. Constants are shared, never freed. */
    Graph apply(Graph graph, Set<String> keep);
}
