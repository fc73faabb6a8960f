package dev.jdnn.ops.winograd;

import dev.jdnn.dnnl.Dnnl;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Daemon worker threads shared by every Winograd convolution, each running oneDNN primitives on one
 * OpenMP thread. A {@link Job} splits a layer's tile blocks between the calling thread (worker 0) and
 * {@code workers - 1} pool threads, which take blocks from a shared counter until none are left.
 */
final class BlockPool {
    private BlockPool() {}

    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(() -> {
            Dnnl.setThreads(1);
            r.run();
        }, "jdnn-winograd");
        t.setDaemon(true);
        return t;
    });

    interface BlockTask {
        void run(int worker, int block);
    }

    /** One layer's blocks over a fixed number of workers; run by one thread at a time (one per bound frame). */
    static final class Job {
        private final int blocks, workers;
        private final BlockTask task;
        private final AtomicInteger next = new AtomicInteger();
        private final Runnable[] helpers;
        private final Future<?>[] running;

        Job(int blocks, int workers, BlockTask task) {
            this.blocks = blocks;
            this.workers = workers;
            this.task = task;
            helpers = new Runnable[workers - 1];
            for (int i = 1; i < workers; i++) {
                int worker = i;
                helpers[i - 1] = () -> drain(worker);
            }
            running = new Future<?>[workers - 1];
        }

        private void drain(int worker) {
            for (int b = next.getAndIncrement(); b < blocks; b = next.getAndIncrement()) task.run(worker, b);
        }

        void run() {
            next.set(0);
            for (int i = 0; i < helpers.length; i++) running[i] = POOL.submit(helpers[i]);
            RuntimeException failure = null;
            try {
                drain(0);
            } catch (RuntimeException e) {
                failure = e;
                next.set(blocks); // the helpers stop taking blocks
            }
            for (int i = 0; i < running.length; i++) {
                try {
                    running[i].get();
                } catch (ExecutionException e) {
                    if (failure == null) failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    if (failure == null) failure = new IllegalStateException("interrupted while waiting for Winograd workers", e);
                }
                running[i] = null;
            }
            if (failure != null) throw failure;
        }
    }
}
