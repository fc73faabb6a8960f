package dev.jdnn.dnnl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * One thread that does a plan's slow native set-up while the preparing thread goes on lowering the graph:
 * oneDNN kernel generation ({@code dnnl_primitive_create}, for every {@link Primitive} created while
 * {@link #CURRENT} is bound) and convolution weight reorders. oneDNN creates primitives thread-safely, and
 * in a cold JVM much of a plan's preparation is this work (kernel JIT, the kernel handing out fresh pages
 * for reordered weights), which a second core does as well as the first.
 *
 * <p>Tasks run one after another in the order given. Whoever needs a task's result first gets it:
 * {@link Task#join()} runs a task that has not started yet on the calling thread (a primitive needed at once,
 * say to pack weights, never queues behind the others), and waits for one already running. Tasks that must
 * not run on two threads at once (weight reorders share one staging buffer) are made with
 * {@code stealable = false} and are only waited for. The result never depends on which thread ran a task.
 * {@link #await()} waits for everything given so far and throws the first failure, so a plan fails at
 * prepare, not at its first run; {@link #close()} waits for the rest and ends the thread, never dropping a
 * task (a task frees nothing it did not make, and its owner frees what it made only after it has finished).
 */
public final class BackgroundWork implements AutoCloseable {
    /** The background work of the preparation in progress on this thread; unbound: everything runs in place. */
    public static final ScopedValue<BackgroundWork> CURRENT = ScopedValue.newInstance();

    private final List<Task<?>> tasks = new ArrayList<>();
    private final AtomicLong busyNanos = new AtomicLong();
    private ExecutorService thread;
    private Arena scratchArena;        // only touched by the background thread's tasks, and by close after they ended
    private MemorySegment scratch;

    /** The work bound to this thread, or null. */
    public static BackgroundWork current() {
        return CURRENT.isBound() ? CURRENT.get() : null;
    }

    /** A task given to the background thread; its result is read with {@link #join()}. */
    public static final class Task<T> {
        private final Supplier<T> work;
        private final boolean stealable;
        private final AtomicBoolean claimed = new AtomicBoolean();
        private final CompletableFuture<T> result = new CompletableFuture<>();
        private final AtomicLong busy;
        private volatile boolean dropped;   // settled before it ran: nobody wants its result

        private Task(Supplier<T> work, boolean stealable, AtomicLong busy) {
            this.work = work;
            this.stealable = stealable;
            this.busy = busy;
        }

        private void runIfUnclaimed() {
            if (!claimed.compareAndSet(false, true)) return;
            long t0 = System.nanoTime();
            try {
                result.complete(work.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            } finally {
                busy.addAndGet(System.nanoTime() - t0);
            }
        }

        /**
         * The result: run here if no thread has started it (stealable tasks), else waited for.
         *
         * @throws RuntimeException the task's own failure
         */
        public T join() {
            if (stealable) runIfUnclaimed();
            try {
                return result.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                if (e.getCause() instanceof Error err) throw err;
                throw e;
            }
        }

        /** Makes sure the task is no longer running: one not started never will, one started is waited for. */
        public void settle() {
            if (claimed.compareAndSet(false, true)) {
                dropped = true;
                result.completeExceptionally(new CancellationException("closed before it ran"));
            }
            result.exceptionally(e -> null).join();
        }

        /** Whether it finished with a failure (or was dropped by {@link #settle}). */
        public boolean failed() {
            return result.isCompletedExceptionally();
        }
    }

    /** {@code work} run here and now, as a finished task; its failure is thrown here. */
    public static <T> Task<T> now(Supplier<T> work) {
        Task<T> task = new Task<>(work, false, new AtomicLong());
        task.claimed.set(true);
        task.result.complete(work.get());
        return task;
    }

    /**
     * Queues {@code work} on the background thread (started by the first task).
     *
     * @param stealable whether {@link Task#join()} may run it on the calling thread instead
     */
    public synchronized <T> Task<T> submit(Supplier<T> work, boolean stealable) {
        if (thread == null) {
            // One oneDNN thread for what runs here (weight reorders): the point is a core the preparing thread leaves idle.
            thread = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("jdnn-prepare").unstarted(() -> {
                try {
                    Dnnl.setThreads(1);
                } catch (RuntimeException notOpenMp) {
                    // a oneDNN without OpenMP thread controls runs its reorders as it decides
                }
                r.run();
            }));
        }
        Task<T> task = new Task<>(work, stealable, busyNanos);
        tasks.add(task);
        thread.execute(task::runIfUnclaimed);
        return task;
    }

    /**
     * Waits for every task given so far (running the not yet started stealable ones here, from the last, while
     * the background thread works from the first) and throws the first failure in the order they were given.
     */
    public void await() {
        List<Task<?>> given;
        synchronized (this) {
            given = List.copyOf(tasks);
        }
        for (int i = given.size() - 1; i >= 0; i--) if (given.get(i).stealable) given.get(i).runIfUnclaimed();
        for (Task<?> t : given) {
            if (!t.dropped) t.join();
        }
    }

    /**
     * A native buffer of at least {@code bytes} (its contents undefined) for the task running now on the background
     * thread, grown as needed and reused by the next: for non-stealable tasks only, which run one after another on
     * that thread. Freed by {@link #close}.
     */
    public MemorySegment scratch(long bytes) {
        if (scratch == null || scratch.byteSize() < bytes) {
            if (scratchArena != null) scratchArena.close();
            scratchArena = Arena.ofShared();
            scratch = scratchArena.allocate(Math.max(bytes, 1 << 20), 64);
        }
        return scratch.asSlice(0, bytes);
    }

    /** Nanoseconds the tasks ran, on whichever thread. */
    public long busyNanos() {
        return busyNanos.get();
    }

    /** Waits for the tasks still queued or running and ends the thread; idempotent. */
    @Override
    public synchronized void close() {
        if (thread == null) return;
        thread.shutdown();
        boolean interrupted = false;
        while (true) {
            try {
                if (thread.awaitTermination(1, TimeUnit.MINUTES)) break;
            } catch (InterruptedException e) {
                interrupted = true;   // the tasks write memory their owners free once this returns: finish waiting
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        thread = null;
        tasks.clear();
        if (scratchArena != null) scratchArena.close();
        scratchArena = null;
        scratch = null;
    }
}
