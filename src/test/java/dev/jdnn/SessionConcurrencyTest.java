package dev.jdnn;

import static org.junit.jupiter.api.Assertions.*;

import dev.jdnn.graph.Optimizations;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One session shared by 8 threads (a server's shape): results bit-identical to serial runs across mixed
 * batch sizes, close while runs are in flight (each run completes correctly or throws
 * IllegalStateException), and the bounded plan cache evicting under concurrent use. Every future is joined.
 */
class SessionConcurrencyTest {
    static final Path MODEL = Path.of("src/test/resources/fixtures/models/resnet_eval/model.onnx");
    static final int THREADS = 8, BATCHES = 4, SEEDS = 3;

    enum Config {
        COMPILED(Session.Options.defaults()),
        NODE_BY_NODE(Session.Options.defaults().withOptimizations(Optimizations.none()));

        final Session.Options options;

        Config(Session.Options options) {
            this.options = options;
        }
    }

    static Model model;
    /** inputs[batch-1][seed], and the serial results for each configuration. */
    static final Tensor[][] inputs = new Tensor[BATCHES][SEEDS];
    static final Map<Config, float[][][]> expected = new HashMap<>();

    @BeforeAll
    static void setUp() {
        model = Model.load(MODEL);
        SplittableRandom r = new SplittableRandom(14);
        for (int b = 0; b < BATCHES; b++) {
            for (int s = 0; s < SEEDS; s++) {
                float[] v = new float[(b + 1) * 3 * 64 * 64];
                for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
                inputs[b][s] = Tensor.of(v, b + 1, 3, 64, 64);
            }
        }
        for (Config c : Config.values()) {
            float[][][] out = new float[BATCHES][SEEDS][];
            try (Session serial = model.session(c.options)) {
                for (int b = 0; b < BATCHES; b++) for (int s = 0; s < SEEDS; s++) out[b][s] = run(serial, b, s);
            }
            expected.put(c, out);
        }
    }

    @AfterAll
    static void tearDown() {
        for (Tensor[] row : inputs) for (Tensor t : row) t.close();
        model.close();
    }

    static float[] run(Session s, int batch, int seed) {
        try (Result r = s.run(Map.of("input", inputs[batch][seed]))) {
            return r.get("output").toArray();
        }
    }

    /** Runs {@code perThread} random (batch, seed) pairs on each of 8 threads, checking each result bit for bit. */
    static int hammer(Session session, Config c, int perThread, AtomicBoolean stop) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        AtomicInteger completed = new AtomicInteger();
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                SplittableRandom r = new SplittableRandom(t);
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread && !stop.get(); i++) {
                        int b = r.nextInt(BATCHES), s = r.nextInt(SEEDS);
                        float[] got;
                        try {
                            got = run(session, b, s);
                        } catch (IllegalStateException closed) {
                            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
                            return null;
                        }
                        assertArrayEquals(expected.get(c)[b][s], got, "batch " + (b + 1) + " seed " + s);
                        completed.incrementAndGet();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) f.get();
        } finally {
            pool.shutdownNow();
        }
        return completed.get();
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void eightThreadsMixedBatchesAreBitIdenticalToSerial(Config c) throws Exception {
        try (Session shared = model.session(c.options)) {
            assertEquals(THREADS * 12, hammer(shared, c, 12, new AtomicBoolean()));
            assertEquals(BATCHES, shared.preparedPlans());
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void closeWhileEightThreadsRunEndsEveryRunCorrectlyOrWithIllegalStateException(Config c) throws Exception {
        for (int round = 0; round < 3; round++) {
            Session shared = model.session(c.options);
            AtomicBoolean stop = new AtomicBoolean();
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(20 + 15L * (long) Math.floorMod(System.nanoTime(), 5));
                } catch (InterruptedException ignored) {
                    // close now
                }
                shared.close();
            });
            closer.start();
            hammer(shared, c, 200, stop);
            closer.join();
            assertThrows(IllegalStateException.class, () -> run(shared, 0, 0));
            shared.close(); // idempotent
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void planCacheEvictsUnderConcurrentUseWithoutChangingResults(Config c) throws Exception {
        try (Session shared = model.session(c.options.withLimits(Limits.defaults().withMaxPlans(2)))) {
            assertEquals(THREADS * 12, hammer(shared, c, 12, new AtomicBoolean()));
            assertTrue(shared.preparedPlans() <= 2, "plans kept: " + shared.preparedPlans());
            assertTrue(shared.evictedPlans() > 0, "4 batch sizes through a cache of 2 must evict");
        }
    }

    @Test
    void planCacheIsBoundedByBytesAndDropPlansEmptiesIt() {
        try (Session s = model.session(Session.Options.defaults())) {
            run(s, 0, 0);
            long onePlan = s.preparedPlanBytes();
            assertTrue(onePlan > 0, "a compiled plan reports its activation bytes");
            try (Session bounded = model.session(Session.Options.defaults().withLimits(Limits.defaults().withMaxPlanBytes(onePlan * 3)))) {
                for (int b = 0; b < BATCHES; b++) assertArrayEquals(expected.get(Config.COMPILED)[b][0], run(bounded, b, 0));
                // Batches 1..4 need about 1+2+3+4 plans' worth: the cache keeps what fits in 3, always the newest.
                assertTrue(bounded.preparedPlanBytes() <= onePlan * 4, bounded.preparedPlanBytes() + " bytes kept");
                assertTrue(bounded.preparedPlans() < BATCHES && bounded.evictedPlans() > 0);
            }
            s.dropPlans();
            assertEquals(0, s.preparedPlans());
            assertEquals(0, s.preparedPlanBytes());
            assertArrayEquals(expected.get(Config.COMPILED)[0][0], run(s, 0, 0), "runs again after dropPlans");
            assertEquals(1, s.preparedPlans());
        }
    }

    @Test
    void tensorAndActivationLimitsRefuseBeforeRunningNamingTheLimit() {
        // resnet's first conv output at batch 1: 1×16×32×32 (or larger) float32 — far over 1 KiB.
        try (Session s = model.session(Session.Options.defaults().withLimits(Limits.defaults().withMaxTensorBytes(1024)))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(s, 0, 0));
            assertTrue(e.getMessage().contains("maxTensorBytes=1024") && e.getMessage().contains(" node "), e.getMessage());
            assertEquals(0, s.preparedPlans());
        }
        for (Config c : Config.values()) {
            try (Session s = model.session(c.options.withLimits(Limits.defaults().withMaxActivationBytes(64 * 1024)))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(s, 3, 0));
                assertTrue(e.getMessage().contains("maxActivationBytes=65536"), e.getMessage());
            }
        }
    }
}
