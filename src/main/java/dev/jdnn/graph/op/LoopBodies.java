package dev.jdnn.graph.op;

import dev.jdnn.graph.Node;
import dev.jdnn.graph.Plan;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Loop bodies prepared once and reused: per Loop node, a plan of its body for each signature (the shapes and
 * element types of the body's inputs and outer-scope tensors) seen lately, so a loop whose iterations keep their
 * shapes prepares its body once, and a plan that runs the Loop on every run (its data-dependent tail) prepares it
 * once per signature over all its runs. A body whose output shapes depend on its input values (a Slice with
 * computed starts, a Resize to a computed size) cannot be prepared without them; the node is then remembered as
 * such ({@link #markValueDependent}) and its iterations are prepared for their values one by one, as before.
 *
 * <p>Owned by the plan that runs the Loop ({@link #within} binds it while that plan prepares its tail), or by one
 * {@link Loop#prepare} call when nothing is bound. A plan is taken out while an iteration runs it and given back
 * after, so two concurrent runs never share one. {@link #close} frees every plan; taking or preparing after it
 * throws, and a plan given back after it is freed at once.
 */
public final class LoopBodies implements AutoCloseable {
    private static final ScopedValue<LoopBodies> CURRENT = ScopedValue.newInstance();

    /** Signatures kept per Loop node (least recently used dropped): a body whose shapes change every iteration must not pile up plans. */
    static final int PLANS_PER_NODE = 8;

    private static final class PerNode {
        final LinkedHashMap<String, Plan> plans = new LinkedHashMap<>(16, 0.75f, true);
        boolean valueDependent;
    }

    private final Map<Node, PerNode> nodes = new IdentityHashMap<>();
    private long prepared;
    private long reused;
    private boolean closed;

    /** Runs {@code work} with {@code bodies} as the cache every Loop prepared inside it uses. */
    public static <T> T within(LoopBodies bodies, Supplier<T> work) {
        return ScopedValue.where(CURRENT, bodies).call(work::get);
    }

    /** The bound cache, or null. */
    static LoopBodies current() {
        return CURRENT.isBound() ? CURRENT.get() : null;
    }

    /** Body plans prepared so far (each signature of each node once, unless dropped and seen again). */
    public synchronized long prepared() {
        return prepared;
    }

    /** Iterations that ran a plan prepared for an earlier iteration or run. */
    public synchronized long reused() {
        return reused;
    }

    /** Whether {@code node}'s body was found to need its input values to be prepared. */
    synchronized boolean valueDependent(Node node) {
        check();
        PerNode p = nodes.get(node);
        return p != null && p.valueDependent;
    }

    synchronized void markValueDependent(Node node) {
        check();
        nodes.computeIfAbsent(node, n -> new PerNode()).valueDependent = true;
    }

    /** The plan for {@code node}'s body with this signature, taken out of the cache (null if none is there). */
    synchronized Plan take(Node node, String signature) {
        check();
        PerNode p = nodes.get(node);
        Plan plan = p == null ? null : p.plans.remove(signature);
        if (plan != null) reused++;
        return plan;
    }

    /** Counts a plan prepared for {@code node}'s body (to be given back with {@link #give}). */
    synchronized void counted() {
        check();
        prepared++;
    }

    /** Gives a taken or newly prepared plan back; after {@link #close}, or if another run gave one back meanwhile, it is closed. */
    void give(Node node, String signature, Plan plan) {
        List<Plan> dropped = new ArrayList<>(1);
        synchronized (this) {
            if (closed) {
                dropped.add(plan);
            } else {
                PerNode p = nodes.computeIfAbsent(node, n -> new PerNode());
                if (p.plans.containsKey(signature)) {
                    dropped.add(plan);
                } else {
                    p.plans.put(signature, plan);
                    Iterator<Plan> oldest = p.plans.values().iterator();
                    while (p.plans.size() > PLANS_PER_NODE) {
                        dropped.add(oldest.next());
                        oldest.remove();
                    }
                }
            }
        }
        dropped.forEach(Plan::close);
    }

    private void check() {
        if (closed) throw new IllegalStateException("the Loop body plans were closed with the plan that owned them");
    }

    @Override
    public void close() {
        List<Plan> plans = new ArrayList<>();
        synchronized (this) {
            if (closed) return;
            closed = true;
            for (PerNode p : nodes.values()) plans.addAll(p.plans.values());
            nodes.clear();
        }
        plans.forEach(Plan::close);
    }
}
