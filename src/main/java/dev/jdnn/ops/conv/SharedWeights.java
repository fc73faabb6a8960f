package dev.jdnn.ops.conv;

import dev.jdnn.dnnl.MemoryDescs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import dev.jdnn.dnnl.BackgroundWork;
import java.util.function.Consumer;

/**
 * Weights already reordered into a kernel's layout, shared by every primitive that wants the same source
 * weights in the same layout: the plans a session prepares for several batch sizes, and the sessions of one
 * model, hold one copy. Keyed by the identity of the source (the model's weight tensors plus whatever was
 * folded into them) and the target memory descriptor ({@link MemoryDescs#equal}). Reference counted: an
 * entry is freed when the last primitive using it is closed.
 *
 * <p>The reorder may run on a background thread ({@link #acquire(Source, MemorySegment, Consumer, BackgroundWork)}),
 * so that a plan keeps creating primitives while earlier convolutions' weights are written (touching fresh
 * pages of native memory is much of a cold preparation's time). Whoever needs the bytes waits for them:
 * {@link Lease#segment()} returns only once they are written, and an entry's memory is freed only after its
 * reorder has finished, so nothing reads half-written weights or writes freed memory.
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

        /**
         * The reordered weights, once written (waits for a reorder still running in the background).
         *
         * @throws RuntimeException the reorder's own failure, if it failed
         */
        public MemorySegment segment() {
            return entry.ready.join();
        }

        /** Bytes of the reordered weights (known before they are written). */
        public long byteSize() {
            return entry.bytes;
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
                bytes -= entry.bytes;
            }
            // Never free memory a background reorder is still writing; its failure, if any, was someone else's to report.
            entry.ready.settle();
            entry.arena.close();
        }
    }

    private static final class Entry {
        final Source source;
        final Arena arena = Arena.ofShared();
        final long bytes;
        MemorySegment desc;
        BackgroundWork.Task<MemorySegment> ready;   // the written weights (null while being set up)
        int references;

        Entry(Source source, long bytes) {
            this.source = source;
            this.bytes = bytes;
        }
    }

    private final Map<Source, List<Entry>> entries = new HashMap<>();
    private long bytes;

    /**
     * The weights of {@code source} in layout {@code desc}: reordered by {@code fill} (which writes
     * {@code MemoryDescs.size(desc)} bytes into the segment it is given) when no one holds them yet.
     * Filling runs under this cache's lock, so two plans never reorder the same weights twice.
     */
    public Lease acquire(Source source, MemorySegment desc, Consumer<MemorySegment> fill) {
        return acquire(source, desc, fill, null);
    }

    /**
     * As {@link #acquire(Source, MemorySegment, Consumer)}, but when the weights are not held yet, their memory
     * is allocated and {@code fill} runs on {@code background} (null: here, now); the lease's
     * {@link Lease#segment()} waits for it. A second plan asking meanwhile shares the entry and waits the
     * same way; an entry whose reorder failed is not handed out again.
     */
    public synchronized Lease acquire(Source source, MemorySegment desc, Consumer<MemorySegment> fill, BackgroundWork background) {
        for (Entry e : entries.getOrDefault(source, List.of())) {
            if (MemoryDescs.equal(e.desc, desc) && !e.ready.failed()) {
                e.references++;
                return new Lease(e, true);
            }
        }
        Entry e = new Entry(source, Math.max(64, MemoryDescs.size(desc)));
        try {
            e.desc = MemoryDescs.clone(e.arena, desc);
            java.util.function.Supplier<MemorySegment> write = () -> {
                MemorySegment segment = e.arena.allocate(e.bytes, 64);
                fill.accept(segment);
                return segment;
            };
            // Not stealable: the reorders of one preparation share a staging buffer, so they run on one thread.
            e.ready = background != null ? background.submit(write, false) : BackgroundWork.now(write);
        } catch (RuntimeException ex) {
            e.arena.close();
            throw ex;
        }
        e.references = 1;
        entries.computeIfAbsent(source, k -> new ArrayList<>()).add(e);
        bytes += e.bytes;
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
