package dev.jdnn.ops.conv;

import dev.jdnn.dnnl.MemoryDescs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Weights already reordered into a kernel's layout, shared by every primitive that wants the same source
 * weights in the same layout: the plans a session prepares for several batch sizes, and the sessions of one
 * model, hold one copy. Keyed by the identity of the source (the model's weight tensors plus whatever was
 * folded into them) and the target memory descriptor ({@link MemoryDescs#equal}). Reference counted: an
 * entry is freed when the last primitive using it is closed.
 */
public final class SharedWeights {
    /** What the reordered bytes are computed from; two sources are the same when {@link #equals} says so. */
    public interface Source {}

    /** A lease on reordered weights; closing it releases this user's reference (idempotent). */
    public final class Lease implements AutoCloseable {
        private final Entry entry;
        private final boolean shared;
        private boolean closed;

        private Lease(Entry entry, boolean shared) {
            this.entry = entry;
            this.shared = shared;
        }

        public MemorySegment segment() {
            return entry.segment;
        }

        /** Whether this lease found the weights already reordered by another primitive. */
        public boolean shared() {
            return shared;
        }

        @Override
        public void close() {
            synchronized (SharedWeights.this) {
                if (closed) return;
                closed = true;
                if (--entry.references > 0) return;
                List<Entry> list = entries.get(entry.source);
                list.remove(entry);
                if (list.isEmpty()) entries.remove(entry.source);
                bytes -= entry.segment.byteSize();
            }
            entry.arena.close();
        }
    }

    private static final class Entry {
        final Source source;
        final Arena arena = Arena.ofShared();
        MemorySegment desc;
        MemorySegment segment;
        int references;

        Entry(Source source) {
            this.source = source;
        }
    }

    private final Map<Source, List<Entry>> entries = new HashMap<>();
    private long bytes;

    /**
     * The weights of {@code source} in layout {@code desc}: reordered by {@code fill} (which writes
     * {@code MemoryDescs.size(desc)} bytes into the segment it is given) when no one holds them yet.
     * Filling runs under this cache's lock, so two plans never reorder the same weights twice.
     */
    public synchronized Lease acquire(Source source, MemorySegment desc, Consumer<MemorySegment> fill) {
        for (Entry e : entries.getOrDefault(source, List.of())) {
            if (MemoryDescs.equal(e.desc, desc)) {
                e.references++;
                return new Lease(e, true);
            }
        }
        Entry e = new Entry(source);
        try {
            e.desc = MemoryDescs.clone(e.arena, desc);
            e.segment = e.arena.allocate(Math.max(64, MemoryDescs.size(desc)), 64);
            fill.accept(e.segment);
        } catch (RuntimeException ex) {
            e.arena.close();
            throw ex;
        }
        e.references = 1;
        entries.computeIfAbsent(source, k -> new ArrayList<>()).add(e);
        bytes += e.segment.byteSize();
        return new Lease(e, false);
    }

    /** Native bytes of every reordered weight held now. */
    public synchronized long bytes() {
        return bytes;
    }

    /** How many distinct (source, layout) entries are held. */
    public synchronized int entries() {
        return entries.values().stream().mapToInt(List::size).sum();
    }
}
