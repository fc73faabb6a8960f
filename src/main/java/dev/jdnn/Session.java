package dev.jdnn;

import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.graph.op.DataDependentException;
import dev.jdnn.graph.op.Op;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Plan;
import dev.jdnn.dnnl.BackgroundWork;
import dev.jdnn.dnnl.ResidentMemory;
import dev.jdnn.graph.PrepareContext;
import dev.jdnn.graph.PrepareStats;
import dev.jdnn.ops.conv.AutotuneCache;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs a {@link Model} on one backend. Each distinct combination of input shapes (usually: batch size)
 * and requested tensors is prepared once — shapes inferred, native primitives compiled — and cached.
 * Safe to use from many threads at once.
 *
 * <p>Taps: {@link #run} accepts any tensor name of the graph, not only its outputs. What comes back
 * is a copy owned by the {@link Result}: no later op can change it, and a tapped tensor has exactly
 * the value the graph computed at that point (for instance a BatchNormalization output between a conv
 * and a ReLU).
 */
public final class Session implements AutoCloseable {

    /**
     * @param threads       oneDNN threads per run; 0 = oneDNN's default (all cores)
     * @param optimizations what the native backend does to the graph (default: everything,
     *                      {@link Optimizations#all()}); ignored by the Java backend, which runs node by node
     * @param limits        tensor, activation and plan-cache limits ({@link Limits#defaults()})
     */
    public record Options(Backend backend, int threads, Optimizations optimizations, Limits limits) {
        public Options {
            if (backend == null) throw new IllegalArgumentException("backend is required");
            if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
            if (optimizations == null) throw new IllegalArgumentException("optimizations are required (Optimizations.all() is the default)");
            if (limits == null) throw new IllegalArgumentException("limits are required (Limits.defaults() is the default)");
        }

        public Options(Backend backend, int threads, Optimizations optimizations) {
            this(backend, threads, optimizations, Limits.defaults());
        }

        public Options(Backend backend, int threads) {
            this(backend, threads, Optimizations.all());
        }

        public static Options defaults() {
            return new Options(Backend.NATIVE, 0, Optimizations.all());
        }

        public Options withBackend(Backend b) { return new Options(b, threads, optimizations, limits); }
        public Options withThreads(int t) { return new Options(backend, t, optimizations, limits); }
        public Options withOptimizations(Optimizations o) { return new Options(backend, threads, o, limits); }
        public Options withLimits(Limits l) { return new Options(backend, threads, optimizations, l); }
    }

    /** @param values the integer inputs a plan was specialised for (empty for most models) */
    private record PlanKey(Map<String, List<Long>> shapes, Map<String, List<Long>> values, Set<String> requested) {}

    /** Integer inputs up to this many elements may be bound into a plan when an op needs their values to prepare. */
    static final int MAX_BOUND_ELEMENTS = 4096;

    private final Model model;
    private final Options options;
    private final PlanCache plans;
    private final Leaks.Guard guard;   // drops the plans if this session becomes unreachable unclosed
    private volatile PlanCache.Entry lastPlan;
    // How long each plan took to prepare, by phase; weak, so a plan the cache evicts takes its entry with it.
    private final Map<Plan, PrepareStats> prepareStats = new java.util.WeakHashMap<>();
    private volatile boolean closed;

    Session(Model model, Options options) {
        this.model = model;
        this.options = options;
        this.plans = new PlanCache(options.limits());
        PlanCache cache = plans;   // the cleanup must not reference the session
        String what = "session on " + model + " (" + options.backend() + ")";
        this.guard = Leaks.watch(this, () -> what, cache::clear);
    }

    public Options options() {
        return options;
    }

    /**
     * Runs the model on {@code inputs} (by input name) and returns the {@code requested} tensors
     * (outputs or any intermediate tensor name). Only the nodes they depend on are executed.
     *
     * @throws IllegalArgumentException for an unknown input or tensor name, a missing input or a wrong shape
     * @throws IllegalStateException    if this session, its model or an input tensor is closed
     */
    public Result run(Map<String, Tensor> inputs, Collection<String> requested) {
        ensureOpen();
        if (requested.isEmpty()) throw new IllegalArgumentException("request at least one tensor (e.g. " + model.outputs() + ")");
        applyThreads();
        try {
            return withPlan(inputs, requested, (plan, given) -> new Result(narrowFloat16(toTensors(plan.run(given), requested))));
        } finally {
            java.lang.ref.Reference.reachabilityFence(inputs);   // the caller's tensors live until the run ends
        }
    }

    /**
     * {@code work} on the plan for {@code inputs} (float16 ones widened, see {@link #widenFloat16}) and
     * {@code requested}, given those widened inputs; the plan is released and the widened copies closed after.
     */
    private <T> T withPlan(Map<String, Tensor> inputs, Collection<String> requested, java.util.function.BiFunction<Plan, Map<String, Tensor>, T> work) {
        List<Tensor> widenedCopies = new ArrayList<>();
        try {
            Map<String, Tensor> given = widenFloat16(inputs, widenedCopies);
            PlanCache.Entry entry = planFor(given, requested);
            try {
                return work.apply(entry.plan, given);
            } finally {
                entry.release();
            }
        } finally {
            widenedCopies.forEach(Tensor::close);
        }
    }

    /**
     * {@code inputs} with each float16 tensor given for an input the model declares float16 replaced by a float32
     * copy (added to {@code copies}, which the caller closes): the graph computes float16 values as float32. A
     * float32 tensor for such an input is taken as it is; a float16 tensor for any other input is refused.
     */
    private Map<String, Tensor> widenFloat16(Map<String, Tensor> inputs, List<Tensor> copies) {
        Map<String, Tensor> widened = inputs;
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            Tensor t = e.getValue();
            if (t == null || t.dtype() != DataType.FLOAT16) continue;
            if (!model.float16Inputs().contains(e.getKey())) {
                if (!model.graph().inputs().containsKey(e.getKey())) continue;   // an unknown name: the plan names the model's inputs
                throw new IllegalArgumentException("input " + e.getKey() + " holds float16, the model declares " + model.graph().inputType(e.getKey()).onnxName());
            }
            if (t.isClosed()) throw new IllegalStateException("input " + e.getKey() + " is closed");
            Tensor copy = t.toType(DataType.FLOAT);
            copies.add(copy);
            if (widened == inputs) widened = new LinkedHashMap<>(inputs);
            widened.put(e.getKey(), copy);
        }
        return widened;
    }

    /** {@code tensors} (owned by the caller) with the model's float16 outputs narrowed from the float32 the graph computed. */
    private Map<String, Tensor> narrowFloat16(Map<String, Tensor> tensors) {
        if (model.float16Outputs().isEmpty()) return tensors;
        try {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor t = e.getValue();
                if (t.dtype() != DataType.FLOAT || !model.float16Outputs().contains(e.getKey())) continue;
                e.setValue(t.toType(DataType.FLOAT16));
                t.close();
            }
        } catch (RuntimeException failure) {
            tensors.values().forEach(Tensor::close);
            throw failure;
        }
        return tensors;
    }

    /**
     * Runs the model writing each requested tensor into the caller's tensor of that name ({@code outputs}
     * keys are the requested names; shapes must match). With the native backend and compiled plans, a
     * steady-state call allocates nothing.
     */
    public void run(Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        ensureOpen();
        if (outputs.isEmpty()) throw new IllegalArgumentException("give at least one output tensor");
        if (!model.float16Inputs().isEmpty() || requestsFloat16Output(outputs.keySet())) {
            // A float16 model's boundary converts (widens inputs, narrows outputs): not the allocation-free path.
            try (Result r = run(inputs, outputs.keySet())) {
                copyInto(r, outputs);
            }
            return;
        }
        // (A float16 tensor for a float32 input is refused by the plan's input check, naming the input.)
        applyThreads();
        PlanCache.Entry entry = planFor(inputs, outputs.keySet());
        try {
            runInto(entry.plan, inputs, outputs);
        } finally {
            entry.release();
            java.lang.ref.Reference.reachabilityFence(inputs);
            java.lang.ref.Reference.reachabilityFence(outputs);
        }
    }

    private static void runInto(Plan plan, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        if (plan.compiled() && !plan.hasTail()) {
            plan.runInto(inputs, outputs);
            return;
        }
        try (Result r = new Result(toTensors(plan.run(inputs), outputs.keySet()))) {
            copyInto(r, outputs);
        }
    }

    /** Whether a requested name is a float16 output of the model (a plain loop: the allocation-free path calls it every run). */
    private boolean requestsFloat16Output(Collection<String> requested) {
        Set<String> float16 = model.float16Outputs();
        if (float16.isEmpty()) return false;
        for (String name : requested) if (float16.contains(name)) return true;
        return false;
    }

    /** Copies each result tensor into the caller's tensor of the same name, which must have its shape and element type. */
    private static void copyInto(Result r, Map<String, Tensor> outputs) {
        for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
            Tensor src = r.get(e.getKey());
            if (!Arrays.equals(src.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("output tensor for '" + e.getKey() + "' has shape " + Tensor.format(e.getValue().shape())
                        + ", the result has " + Tensor.format(src.shape()));
            }
            if (src.dtype() != e.getValue().dtype()) {
                throw new IllegalArgumentException("output tensor for '" + e.getKey() + "' holds " + e.getValue().dtype().onnxName()
                        + ", the result is " + src.dtype().onnxName());
            }
            e.getValue().copyFrom(src);
        }
    }

    /**
     * What the prepared plan for these input shapes and requested tensors runs: one line per instruction
     * (fused convolutions with their post-ops and oneDNN kernels, layout reorders, Java fallbacks).
     */
    public List<String> explain(Map<String, long[]> inputShapes, Collection<String> requested) {
        ensureOpen();
        applyThreads();
        PlanCache.Entry entry = plan(new TreeMap<>(inputShapes), new LinkedHashSet<>(requested));
        try {
            return entry.plan.explain();
        } finally {
            entry.release();
        }
    }

    /**
     * What loading the model and preparing the plan for these shapes and names cost (prepared now if it was
     * not): load time; prepare time by phase (shape inference, lowering, weight folding, primitive creation,
     * autotune, weight reorders); native bytes of the model's weights (mapped, copied, reordered and shared)
     * and of this plan (activations, scratchpad, weights in kernel layouts). {@code ./jdnn explain} prints it
     * after the program.
     */
    public List<String> footprint(Map<String, long[]> inputShapes, Collection<String> requested) {
        ensureOpen();
        applyThreads();
        PlanCache.Entry entry = plan(new TreeMap<>(inputShapes), new LinkedHashSet<>(requested));
        try {
            return Footprint.lines(model, entry.plan, prepareStatsOf(entry.plan));
        } finally {
            entry.release();
        }
    }

    /**
     * Prepares (and caches) the plan for these input shapes and the model's outputs ahead of traffic, so
     * the first {@link #run} with them only executes: shapes inferred, primitives created, weights reordered
     * (autotuned, if the options ask, from the autotune cache when it knows the layers).
     */
    public void prepare(Map<String, long[]> inputShapes) {
        ensureOpen();
        applyThreads();
        plan(new TreeMap<>(inputShapes), new LinkedHashSet<>(model.outputs())).release();
    }

    /**
     * Native bytes this session's prepared plans hold: activations and scratchpad of every frame. The
     * weights they read are the model's ({@link Model#weightBytes()}), shared by every session.
     */
    public synchronized long nativeBytes() {
        long total = 0;
        for (Plan p : plans.plans()) {
            long[] kinds = p.nativeBytesByKind();
            total += kinds[0] + kinds[1];
        }
        return total;
    }

    private synchronized PrepareStats prepareStatsOf(Plan plan) {
        return prepareStats.get(plan);
    }

    /**
     * Runs the compiled native plan for these inputs {@code runs} times and returns one line per
     * instruction with its mean time, slowest first, then the total.
     */
    public List<String> profile(Map<String, Tensor> inputs, Collection<String> requested, int runs) {
        ensureOpen();
        applyThreads();
        return withPlan(inputs, requested, (plan, given) -> plan.profile(given, runs));
    }

    /**
     * Activation memory of the prepared plan for these shapes and names: {bytes one run uses after
     * liveness sharing, bytes without sharing}; {-1, -1} when the plan is not compiled.
     */
    public long[] preparedBytes(Map<String, long[]> inputShapes, Collection<String> requested) {
        ensureOpen();
        applyThreads();
        PlanCache.Entry entry = plan(new TreeMap<>(inputShapes), new LinkedHashSet<>(requested));
        try {
            return entry.plan.activationBytes();
        } finally {
            entry.release();
        }
    }

    /**
     * Sets the calling thread's oneDNN thread count before anything is prepared or run: some oneDNN
     * kernels fix their thread count when the primitive is created.
     */
    private void applyThreads() {
        if (options.backend() == Backend.NATIVE && options.threads() > 0 && Dnnl.threads() != options.threads()) Dnnl.setThreads(options.threads());
    }

    /** The plan for these inputs and names, acquired for one run: release it when the run ends. */
    private PlanCache.Entry planFor(Map<String, Tensor> inputs, Collection<String> requested) {
        // Steady state: the same shapes and names as last time, found without building a cache key.
        // accepts() also rejects closed inputs, which then fail below with their name.
        PlanCache.Entry last = lastPlan;
        if (last != null && last.plan.accepts(inputs) && last.plan.serves(requested) && last.tryAcquire()) return last;
        Map<String, long[]> shapes = new TreeMap<>();
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            if (e.getValue().isClosed()) throw new IllegalStateException("input " + e.getKey() + " is closed");
            shapes.put(e.getKey(), e.getValue().shape());
        }
        PlanCache.Entry entry = plan(shapes, new LinkedHashSet<>(requested), inputs);
        lastPlan = entry;
        return entry;
    }

    private static Map<String, Tensor> toTensors(Map<String, Value> values, Collection<String> requested) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (String name : requested) {
            Value v = values.get(name);
            tensors.put(name, v instanceof Value.Floats f ? f.tensor() : Value.toTensor(v));
        }
        return tensors;
    }

    /** Convenience: the model's declared outputs. */
    public Result run(Map<String, Tensor> inputs) {
        return run(inputs, model.outputs());
    }

    private synchronized PlanCache.Entry plan(Map<String, long[]> shapes, Set<String> requested) {
        return plan(shapes, requested, null);
    }

    /**
     * The plan for these shapes and names, prepared on first use. When an op needs the value of an input
     * to prepare (a shape, axes or pads fed by a graph input: {@link DataDependentException}) and the inputs
     * are known, the plan is prepared for the values of the small integer inputs, and cached per value.
     */
    private synchronized PlanCache.Entry plan(Map<String, long[]> shapes, Set<String> requested, Map<String, Tensor> inputs) {
        ensureOpen();
        Map<String, List<Long>> key = new TreeMap<>();
        shapes.forEach((k, v) -> key.put(k, Arrays.stream(v).boxed().toList()));
        PlanKey unbound = new PlanKey(key, Map.of(), Set.copyOf(requested));
        PlanCache.Entry entry = plans.acquire(unbound);
        if (entry != null) return entry;
        PlanKey specialised = new PlanKey(key, boundKey(inputs), Set.copyOf(requested));
        entry = plans.acquire(specialised);
        if (entry != null) return entry;
        Op.Context context = new Op.Context(options.backend(), model.opset());
        try {
            return plans.add(unbound, prepared(() -> new Plan(model.graph(), shapes, Map.of(), requested, context, options.optimizations(), options.limits())));
        } catch (DataDependentException e) {
            if (!specialised.values().isEmpty()) {
                try {
                    // Copies of the small inputs, owned by the plan from here (it frees them when closed).
                    return plans.add(specialised, prepared(() -> new Plan(model.graph(), shapes, boundValues(inputs), requested, context,
                            options.optimizations(), options.limits())));
                } catch (DataDependentException stillDependent) {
                    // A shape that depends on data the model computes: fall through to a plan with a tail.
                }
            }
            // The nodes before the first such shape are prepared (compiled) once; it and the rest run per run (Plan's tail).
            return plans.add(unbound, prepared(() -> new Plan(model.graph(), shapes, Map.of(), requested, context, options.optimizations(),
                    options.limits(), true)));
        }
    }

    /**
     * Makes a plan with the model's shared reordered weights and the autotune cache in reach
     * ({@link PrepareContext}), and records how long each phase took.
     */
    private Plan prepared(java.util.function.Supplier<Plan> make) {
        // Autotune and Winograd decisions both go to the autotune cache, so another JVM here skips their timing.
        boolean tune = (options.optimizations().autotune() || options.optimizations().winograd() != Optimizations.Winograd.OFF)
                && options.backend() == Backend.NATIVE;
        PrepareContext context = new PrepareContext(model.reorderedWeights(), tune ? AutotuneCache.shared() : null, new PrepareStats());
        long t0 = System.nanoTime();
        Plan plan;
        // Closing the background work waits for its tasks, then frees the scratch buffer their reorders staged weights in.
        try (BackgroundWork background = context.background()) {
            plan = ScopedValue.where(PrepareContext.CURRENT, context).where(BackgroundWork.CURRENT, background).call(make::get);
            // Kernels and weights still being made in the background: the plan is ready when they are, and fails here if they failed.
            long t1 = System.nanoTime();
            try {
                plan.reserveFrameMemory();   // faulting the first run's activation pages in costs this thread nothing while it waits
                background.await();
            } catch (RuntimeException | Error e) {
                plan.close();
                throw e;
            }
            context.stats().waitNanos.addAndGet(System.nanoTime() - t1);
            context.stats().backgroundNanos.addAndGet(background.busyNanos());
        }
        context.stats().total(System.nanoTime() - t0);
        prepareStats.put(plan, context.stats());
        if (context.autotune() != null) context.autotune().flush();
        if (plan.compiled()) {
            model.releaseMappedPages();
            ResidentMemory.release();   // oneDNN's kernel-choosing code and native memory preparing freed: a running plan needs neither
        }
        return plan;
    }

    /** Whether a plan may be specialised on this input's value: small enough (shape, axes, scales or pads vectors). */
    private static boolean bindable(Tensor t) {
        return t.elementCount() <= MAX_BOUND_ELEMENTS && !t.isClosed() && t.dtype() != DataType.FLOAT16;   // float16: never a shape
    }

    /** The values of the bindable inputs as a cache key (float bits for float32), read without copying the tensors. */
    private static Map<String, List<Long>> boundKey(Map<String, Tensor> inputs) {
        if (inputs == null) return Map.of();
        Map<String, List<Long>> values = new TreeMap<>();
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            Tensor t = e.getValue();
            if (!bindable(t)) continue;
            List<Long> v = new ArrayList<>();
            for (long i = 0; i < t.elementCount(); i++) v.add(t.dtype().isFloat() ? Float.floatToRawIntBits(t.getFlat(i)) : t.getLongFlat(i));
            values.put(e.getKey(), v);
        }
        return values;
    }

    /** The bindable inputs as values owned by the caller (float32 tensors copied). */
    private static Map<String, Value> boundValues(Map<String, Tensor> inputs) {
        Map<String, Value> bound = new TreeMap<>();
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            Tensor t = e.getValue();
            if (bindable(t)) bound.put(e.getKey(), t.dtype().isFloat() ? new Value.Floats(Tensor.copyOf(t)) : Value.of(t));
        }
        return bound;
    }

    /** Number of prepared plans (input shapes × requested sets) in the cache; at most {@link Limits#maxPlans}. */
    public int preparedPlans() {
        return plans.size();
    }

    /** Activation bytes of the cached plans ({@link Limits#maxPlanBytes} bounds it). */
    public long preparedPlanBytes() {
        return plans.bytes();
    }

    /** How many plans the cache has dropped to stay within its limits. */
    public long evictedPlans() {
        return plans.evictions();
    }

    /**
     * Drops every prepared plan, freeing its primitives and buffers (a plan a run is using is freed when
     * that run ends). The next run prepares again. For a server that has seen many shapes it will not see again.
     */
    public synchronized void dropPlans() {
        if (closed) throw new IllegalStateException("session is closed");
        lastPlan = null;
        plans.clear();
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("session is closed");
        model.ensureOpen();
    }

    /** Releases every prepared plan and its native primitives; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        prepareStats.clear();
        guard.closed();
        lastPlan = null;
        plans.clear();
    }
}
