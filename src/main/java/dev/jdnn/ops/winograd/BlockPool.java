package dev.jdnn.ops.winograd;

import dev.jdnn.dnnl.Dnnl;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Daemon helper threads shared by every Winograd convolution, each running oneDNN primitives on one
 * OpenMP thread. A {@link Job} splits a layer's tile blocks between the calling thread (worker 0) and up
 * to {@code workers - 1} helpers, which take blocks from a shared counter until none are left; a run
 * allocates nothing. A helper busy with another job (another frame running concurrently) is skipped:
 * the blocks are then done by whoever else takes them, so the result never depends on who helped.
 */
final class BlockPool {
    private BlockPool() {}

    private static final List<Helper> HELPERS = new ArrayList<>(); // guarded by BlockPool.class

    /** Helper {@code i} (0-based), started on first use. */
    private static synchronized Helper helper(int i) {
        while (HELPERS.size() <= i) {
            Helper h = new Helper("jdnn-winograd-" + HELPERS.size());
            h.start();
            HELPERS.add(h);
        }
        return HELPERS.get(i);
    }

    interface BlockTask {
        void run(int worker, int block);
    }

    /** A job for one helper, as worker {@code worker} (made once per job and helper: handing it over allocates nothing). */
    private record Assignment(Job job, int worker) {}

    private static final class Helper extends Thread {
        /** What this helper works on next; null when idle. */
        final AtomicReference<Assignment> job = new AtomicReference<>();

        Helper(String name) {
            super(name);
            setDaemon(true);
        }

        @Override public void run() {
            Dnnl.setThreads(1);
            while (true) {
                Assignment a = job.get();
                if (a == null) {
                    LockSupport.park(this);
                    continue;
                }
                a.job().drain(a.worker());
                job.set(null);
            }
        }
    }

    /** One layer's blocks over a fixed number of workers; run by one thread at a time (one per bound frame). */
    static final class Job {
        private final int blocks;
        private final BlockTask task;
        private final Helper[] helpers;
        private final Assignment[] assignments;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger completed = new AtomicInteger();
        private volatile RuntimeException failure;

        Job(int blocks, int workers, BlockTask task) {
            this.blocks = blocks;
            this.task = task;
            helpers = new Helper[workers - 1];
            assignments = new Assignment[workers - 1];
            for (int i = 0; i < helpers.length; i++) {
                helpers[i] = helper(i);
                assignments[i] = new Assignment(this, i + 1);
            }
        }

        private void drain(int worker) {
            for (int b = next.getAndIncrement(); b < blocks; b = next.getAndIncrement()) {
                try {
                    task.run(worker, b);
                } catch (RuntimeException | Error e) {
                    failure = e instanceof RuntimeException r ? r : new IllegalStateException("Winograd block " + b + " failed", e);
                } finally {
                    completed.incrementAndGet();
                }
            }
        }

        void run() {
            failure = null;
            completed.set(0);
            next.set(0);
            for (int i = 0; i < helpers.length; i++) {
                if (helpers[i].job.compareAndSet(null, assignments[i])) LockSupport.unpark(helpers[i]);
            }
            drain(0);
            for (int spins = 0; completed.get() < blocks; spins++) {
                if (spins < 1000) Thread.onSpinWait();
                else Thread.yield();
            }
            RuntimeException f = failure;
            if (f != null) throw f;
        }
    }
}
