package dev.jdnn.image;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Splits a range of rows over threads: the caller takes the first chunk, pool threads the others. */
final class Parallel {
    interface RangeBody {
        void run(int from, int to);
    }

    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "jdnn-image");
        t.setDaemon(true);
        return t;
    });

    private Parallel() {}

    /** Runs {@code body} over [0, n) in {@code threads} contiguous chunks (one chunk when n is small). */
    static void forRange(int threads, int n, RangeBody body) {
        forRange(threads, n, 8, body);
    }

    /** As {@link #forRange(int, int, RangeBody)} with chunks of at least {@code minChunk} items. */
    static void forRange(int threads, int n, int minChunk, RangeBody body) {
        int chunks = Math.max(1, Math.min(threads, n / minChunk));
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        List<Future<?>> pending = new ArrayList<>(chunks - 1);
        for (int i = 1; i < chunks; i++) {
            int from = (int) ((long) n * i / chunks), to = (int) ((long) n * (i + 1) / chunks);
            pending.add(POOL.submit(() -> body.run(from, to)));
        }
        Throwable failure = null;
        try {
            body.run(0, (int) ((long) n / chunks));
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (Future<?> f : pending) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new IllegalStateException("image worker failed", failure);
    }
}
