package dev.jdnn;

import dev.jdnn.graph.Plan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A session's prepared plans, bounded by {@link Limits#maxPlans} and {@link Limits#maxPlanBytes}: adding a
 * plan beyond either drops the least recently used others. A dropped plan that runs are still using is
 * closed by the last of them to finish ({@link Entry#release}), so eviction under concurrent use never
 * frees memory a run is reading. Safe for many threads.
 */
final class PlanCache {
    /**
     * One cached plan. {@code state} counts the runs using it; the sign bit marks it dropped, after
     * which no new run may acquire it and the last release closes it.
     */
    static final class Entry {
        final Object key;
        final Plan plan;
        final long bytes;
        private final AtomicInteger state = new AtomicInteger();
        private volatile long lastUsed = System.nanoTime();

        Entry(Object key, Plan plan) {
            this.key = key;
            this.plan = plan;
            this.bytes = Math.max(0, plan.plannedBytes());
        }

        /** Marks one more run using the plan; false once the plan was dropped. */
        boolean tryAcquire() {
            for (int s = state.get(); s >= 0; s = state.get()) {
                if (state.compareAndSet(s, s + 1)) {
                    lastUsed = System.nanoTime();
                    return true;
                }
            }
            return false;
        }

        /** Ends a run; the last run of a dropped plan closes it. */
        void release() {
            if (state.decrementAndGet() == Integer.MIN_VALUE) plan.close();
        }

        private void drop() {
            int before = state.getAndUpdate(s -> s | Integer.MIN_VALUE);
            if (before == 0) plan.close();
        }
    }

    private final Limits limits;
    private final Map<Object, Entry> entries = new HashMap<>();
    private long bytes;
    private long evictions;

    PlanCache(Limits limits) {
        this.limits = limits;
    }

    /** The cached plan for {@code key}, acquired for one run (release it), or null. */
    synchronized Entry acquire(Object key) {
        Entry e = entries.get(key);
        return e != null && e.tryAcquire() ? e : null;
    }

    /** Caches a new plan, acquired for one run, then drops least recently used plans over the limits. */
    synchronized Entry add(Object key, Plan plan) {
        Entry e = new Entry(key, plan);
        e.tryAcquire();
        Entry old = entries.put(key, e);
        if (old != null) remove(old);
        bytes += e.bytes;
        while (entries.size() > 1 && (entries.size() > limits.maxPlans() || bytes > limits.maxPlanBytes())) {
            Entry lru = null;
            for (Entry c : entries.values()) if (c != e && (lru == null || c.lastUsed < lru.lastUsed)) lru = c;
            entries.remove(lru.key);
            remove(lru);
            evictions++;
        }
        return e;
    }

    private void remove(Entry e) {
        bytes -= e.bytes;
        e.drop();
    }

    /** Drops every plan (each closes when its last run ends). */
    synchronized void clear() {
        List<Entry> all = new ArrayList<>(entries.values());
        entries.clear();
        all.forEach(this::remove);
    }

    /** The cached plans (a snapshot). */
    synchronized List<Plan> plans() {
        List<Plan> all = new ArrayList<>();
        for (Entry e : entries.values()) all.add(e.plan);
        return all;
    }

    synchronized int size() {
        return entries.size();
    }

    synchronized long bytes() {
        return bytes;
    }

    synchronized long evictions() {
        return evictions;
    }
}
