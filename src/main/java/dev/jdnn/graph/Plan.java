package dev.jdnn.graph;

import dev.jdnn.DataType;
import dev.jdnn.Limits;
import dev.jdnn.Tensor;
import dev.jdnn.graph.op.Inputs;
import dev.jdnn.graph.op.Op;
import dev.jdnn.graph.op.Registry;
import dev.jdnn.graph.rewrite.Rewrites;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A graph prepared for fixed input shapes, a backend and a set of requested tensors: only the nodes
 * those tensors depend on, in topological order, each prepared once (shapes inferred, native
 * primitives compiled). Nodes whose inputs are all known at prepare time (shape arithmetic, constant
 * subgraphs) are computed here, once. Intermediate values are freed after their last use.
 *
 * <p>{@link #run} returns the requested tensors as values owned by the caller: fresh tensors that no
 * other op writes to (every op writes a new output; nothing here works in place).
 */
public final class Plan implements AutoCloseable {
    private final Graph graph;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, DataType> types = new HashMap<>();
    private final Map<String, Value> folded = new HashMap<>();   // computed at prepare time; owned by the plan
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Integer> foldedOps = new java.util.TreeMap<>();   // op type → nodes computed at prepare
    private final List<String> inlined = new ArrayList<>();   // explain lines: If nodes replaced by their branch at prepare
    private final List<Op.Step> steps = new ArrayList<>();
    private final Map<String, Integer> lastUse = new HashMap<>();
    private final Set<String> requested;
    private final String[] requestedNames;
    private final Set<String> usedInputs = new HashSet<>();
    private String[] givenNames = {};        // the graph inputs the plan was prepared with, and their shapes
    private long[][] givenShapes = {};
    private DataType[] givenTypes = {};
    private final Map<String, Value> bound;
    private CompiledPlan program;   // native backend with Optimizations.compile: runs instead of the steps
    private final Limits limits;
    private long totalBytes;        // every node output's bytes, before sharing
    private long activationBytes;   // what one run needs: the compiled frame (all parts for a split batch), else totalBytes
    private Plan part;              // Optimizations.batchSplit: the plan for one of `parts` slices of the batch (BatchSplit);
    private int parts = 1;          // with parts == 1, the whole plan prepared for one thread, measured faster (chooseThreads)
    private BatchSplit.Runner splitRunner;   // runs the parts of a split batch (parts > 1); made on the first such run
    private String threadChoice;    // what chooseThreads measured, for explain
    private volatile boolean closed;
    // A data-dependent tail (constructed with tailAtDataDependence): the first node whose output shape depends on
    // values computed at run time, and it and every needed node after it, run per run by a plan prepared then.
    private Node tailStart;
    private List<Node> tail = List.of();
    private Set<String> headOutputs = Set.of();   // what the head hands the tail, plus the requested tensors it computes
    private Op.Context tailContext;
    // The tail's Loop bodies, prepared once per signature and reused across iterations and runs (closed with the plan).
    private final dev.jdnn.graph.op.LoopBodies loopBodies = new dev.jdnn.graph.op.LoopBodies();

    /** The simple node-by-node plan (no compilation). */
    public Plan(Graph graph, Map<String, long[]> inputShapes, Set<String> requested, Op.Context context) {
        this(graph, inputShapes, requested, context, Optimizations.none());
    }

    /**
     * @param optimizations applied on the native backend: with {@link Optimizations#compile()} the plan is
     *                      compiled into a {@link CompiledPlan}; the Java backend always runs node by node
     */
    public Plan(Graph graph, Map<String, long[]> inputShapes, Set<String> requested, Op.Context context, Optimizations optimizations) {
        this(graph, inputShapes, Map.of(), requested, context, optimizations);
    }

    /**
     * @param bound values of graph inputs taken as constants (integer inputs that decide shapes); the plan
     *              then serves only inputs with exactly these values ({@link #accepts})
     */
    public Plan(Graph graph, Map<String, long[]> inputShapes, Map<String, Value> bound, Set<String> requested, Op.Context context,
                Optimizations optimizations) {
        this(graph, inputShapes, bound, requested, context, optimizations, Limits.DEFAULT);
    }

    /**
     * @param limits checked while preparing: every node output against {@link Limits#maxTensorBytes} (before
     *               anything is computed, constant folding included), then the plan's activation bytes
     *               against {@link Limits#maxActivationBytes} (before any run allocates them)
     */
    public Plan(Graph graph, Map<String, long[]> inputShapes, Map<String, Value> bound, Set<String> requested, Op.Context context,
                Optimizations optimizations, Limits limits) {
        this(graph, inputShapes, bound, requested, context, optimizations, limits, false);
    }

    /**
     * @param tailAtDataDependence when a node's output shape depends on values only known at run time (a
     *                             {@link dev.jdnn.graph.op.DataDependentException}: NonZero of a score mask, TopK
     *                             with a computed k, NonMaxSuppression of computed boxes), prepare the nodes before
     *                             it as usual (the head: compiled, native) and run it and the nodes after it (the
     *                             tail) on each run, node by node on the plan's backend (native: oneDNN for the
     *                             convolutions and other ops it has, Java for the rest), from the values the head
     *                             computed (a plan prepared per run, every node of it computed while preparing); else
     *                             such a node is an error
     */
    public Plan(Graph graph, Map<String, long[]> inputShapes, Map<String, Value> bound, Set<String> requested, Op.Context context,
                Optimizations optimizations, Limits limits, boolean tailAtDataDependence) {
        this.limits = limits;
        this.bound = Map.copyOf(bound);
        Set<String> keep = new HashSet<>(requested);
        keep.addAll(graph.outputs());
        this.graph = Rewrites.apply(graph, keep);
        this.requested = Set.copyOf(requested);
        this.requestedNames = this.requested.toArray(String[]::new);
        try {
            boolean compile = context.backend() == dev.jdnn.Backend.NATIVE && optimizations.compile();
            // Compiling: the kernels are prepared on the Java backend only to infer shapes and fold constants.
            limits.during(() -> {
                long t0 = System.nanoTime();
                prepare(inputShapes, compile ? new Op.Context(dev.jdnn.Backend.JAVA, context.opset()) : context, tailAtDataDependence);
                // The tail prepares each run for the values the head computed, node by node: on the native backend the
                // convolutions after a detector's RoI pooling (Mask R-CNN's mask head) run in oneDNN, not Java loops.
                tailContext = new Op.Context(context.backend(), context.opset());
                PrepareContext.current().stats().shapeNanos.addAndGet(System.nanoTime() - t0);
                if (compile && optimizations.batchSplit() && bound.isEmpty() && tailStart == null) splitBatch(graph, inputShapes, context, optimizations);
                if (compile && part == null) {
                    Set<String> computed = new HashSet<>();
                    for (Node n : nodes) computed.addAll(n.outputs());
                    Set<String> wanted = new HashSet<>(tailStart == null ? this.requested : headOutputs);
                    if (tailStart != null) wanted.retainAll(computed);   // the head's constants and inputs are handed on directly
                    Optimizations whole = optimizations;
                    String winogradOff = null;
                    if (optimizations.winograd() != Optimizations.Winograd.OFF && dev.jdnn.dnnl.Dnnl.threads() > 1) {
                        // jdnn's Winograd only where every run of these shapes is on one thread (a session on one thread, the
                        // slices of a split batch): here, layers that fork would run its blocks on Java helper threads, which
                        // meet oneDNN's OpenMP workers still spinning after the layer before (ResNet-18 and GoogLeNet at batch
                        // 1 on 2 threads ran 15–25 % slower although each layer timed alone was faster), and the one-thread
                        // alternative chooseThreads may pick by timing must compute the same bits as this plan.
                        whole = optimizations.withWinograd(Optimizations.Winograd.OFF);
                        winogradOff = "winograd off: " + dev.jdnn.dnnl.Dnnl.threads() + " threads and the batch is not split";
                    }
                    Optimizations lowered = whole;
                    Runnable compileAll = () -> {
                        program = new CompiledPlan(nodes, shapes, types, this::constant, usedInputs, wanted, context, lowered);
                        if (tailStart == null && bound.isEmpty()) chooseThreads(graph, inputShapes, context, lowered);
                    };
                    // Each 3×3 layer that could have run as Winograd says why it did not (explain).
                    if (winogradOff == null) compileAll.run();
                    else ScopedValue.where(dev.jdnn.graph.op.Conv.WINOGRAD_OFF_BECAUSE, winogradOff).run(compileAll);
                }
                if (compile) {
                    steps.forEach(Op.Step::close);
                    steps.clear();
                }
            });
            activationBytes = program != null ? program.frameBytes() : part != null ? part.plannedBytes() * parts : totalBytes;
            if (activationBytes > limits.maxActivationBytes()) {
                throw new IllegalArgumentException("the plan for inputs " + describe(inputShapes) + " needs " + activationBytes
                        + " bytes of activations, more than the session's limit maxActivationBytes=" + limits.maxActivationBytes() + " (Session.Options.withLimits)");
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * With more than one oneDNN thread and a batch they divide, prepares the plan for one slice of the batch
     * on one thread, to run the slices side by side ({@link BatchSplit}); keeps the whole-batch plan when the
     * graph is not known to treat samples independently or the part's shapes disagree.
     */
    private void splitBatch(Graph original, Map<String, long[]> inputShapes, Op.Context context, Optimizations optimizations) {
        int threads = dev.jdnn.dnnl.Dnnl.threads();
        int p = BatchSplit.parts(threads, nodes, shapes, types, inputShapes.keySet(), requested, this::constant);
        if (p < 2) return;
        for (String name : inputShapes.keySet()) {
            long[] declared = original.inputs().get(name);
            if (declared == null || declared.length == 0 || declared[0] >= 0) return;   // a fixed batch: its graph may rely on it
        }
        Map<String, long[]> partShapes = new LinkedHashMap<>();
        inputShapes.forEach((name, s) -> {
            long[] slice = s.clone();
            slice[0] /= p;
            partShapes.put(name, slice);
        });
        // Its primitives are created for, and run on, one thread. Null: the whole batch prepared, a slice did not (an
        // op that needs the full batch): run it whole.
        Plan candidate = preparedOnOneThread(original, partShapes, context, optimizations);
        if (candidate == null) return;
        if (candidate.compiled() && BatchSplit.shapesAgree(nodes, shapes, candidate.shapes, p)) {
            part = candidate;
            parts = p;
        } else {
            candidate.close();
        }
    }

    /**
     * With several oneDNN threads, a plan that forks some of its primitives and is small enough
     * ({@link ParallelWork#TIMED_PLAN_MAX_MICROS}, estimated on one thread) is prepared a second time for one
     * thread, and both are timed here on a fixed input: alternating runs after two warm-up runs each, medians
     * of five. The one-thread plan replaces the forking one only when it is at least 3 % faster. Networks of
     * many small primitives (ShuffleNet, batch 1) run faster on one core than forking over two; others
     * (MobileNetV3, EfficientNet) gain from the second thread; which one wins depends on the machine, so it is
     * measured rather than guessed. Only plans whose inputs and requested outputs are all float are timed.
     */
    private void chooseThreads(Graph original, Map<String, long[]> inputShapes, Op.Context context, Optimizations optimizations) {
        int threads = dev.jdnn.dnnl.Dnnl.threads();
        ParallelWork.PlanThreads how = ParallelWork.planThreads();
        if (threads < 2 || how == ParallelWork.PlanThreads.FORKED || ParallelWork.TIMED_PLAN_MAX_MICROS <= 0 || !program.forksAny()) return;
        double estimatedNanos = 0;
        for (Node n : nodes) estimatedNanos += ParallelWork.estimatedNanos(n, shapes);
        if (estimatedNanos > ParallelWork.TIMED_PLAN_MAX_MICROS * 1000) return;
        for (DataType t : givenTypes) if (t != DataType.FLOAT) return;
        for (String name : requestedNames) if (types.get(name) != DataType.FLOAT) return;
        Plan alone = preparedOnOneThread(original, inputShapes, context, optimizations);
        if (alone == null) return;
        boolean chosen = false;
        Map<String, Tensor> in = new HashMap<>(), out = new HashMap<>();
        try {
            if (alone.program == null) return;   // (closed in finally)
            for (int i = 0; i < givenNames.length; i++) {
                Tensor x = Tensor.zeros(givenShapes[i]);
                in.put(givenNames[i], x);
                for (long k = 0; k < x.elementCount(); k++) x.setFlat(k, (float) Math.sin(k * 0.37));
            }
            for (String name : requestedNames) out.put(name, Tensor.zeros(shapes.get(name)));
            Plan forking = this;
            Runnable forked = () -> forking.program.runInto(in, out);
            Runnable single = () -> runOnOneThread(alone, in, out);
            long[] forkedNanos = new long[5], singleNanos = new long[5];
            for (int i = 0; i < 2; i++) {
                forked.run();
                single.run();
            }
            for (int i = 0; i < forkedNanos.length; i++) {
                forkedNanos[i] = nanos(forked);
                singleNanos[i] = nanos(single);
            }
            Arrays.sort(forkedNanos);
            Arrays.sort(singleNanos);
            double f = forkedNanos[2] / 1e6, o = singleNanos[2] / 1e6;
            if (how == ParallelWork.PlanThreads.ONE || o < 0.97 * f) {
                program.close();
                program = null;
                part = alone;
                chosen = true;
                threadChoice = String.format(java.util.Locale.ROOT, "threads the whole plan runs on one thread: timed at prepare, %.3f ms a run against"
                        + " %.3f ms forking its larger primitives over %d threads (median of 5)%s", o, f, threads,
                        how == ParallelWork.PlanThreads.ONE ? "; forced by -Djdnn.parallel.planThreads=one" : "");
            } else {
                threadChoice = String.format(java.util.Locale.ROOT, "threads larger primitives fork over %d threads: timed at prepare, %.3f ms a run"
                        + " against %.3f ms with the plan on one thread (median of 5)", threads, f, o);
            }
        } finally {
            in.values().forEach(Tensor::close);
            out.values().forEach(Tensor::close);
            if (!chosen) alone.close();
        }
    }

    /** This plan prepared again for {@code inputShapes}, with its primitives created for one thread; null if that fails. */
    private Plan preparedOnOneThread(Graph original, Map<String, long[]> inputShapes, Op.Context context, Optimizations optimizations) {
        int threads = dev.jdnn.dnnl.Dnnl.threads();
        dev.jdnn.dnnl.Dnnl.setThreads(1);
        try {
            return new Plan(original, inputShapes, Map.of(), requested, context, optimizations.withBatchSplit(false), limits);
        } catch (RuntimeException e) {
            return null;
        } finally {
            dev.jdnn.dnnl.Dnnl.setThreads(threads);
        }
    }

    private static long nanos(Runnable run) {
        long t0 = System.nanoTime();
        run.run();
        return System.nanoTime() - t0;
    }

    /** Runs a plan prepared for one thread with the calling thread's oneDNN threads set to 1, then back. */
    static void runOnOneThread(Plan plan, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        int threads = dev.jdnn.dnnl.Dnnl.threads();
        if (threads != 1) dev.jdnn.dnnl.Dnnl.setThreads(1);
        try {
            plan.runInto(inputs, outputs);
        } finally {
            if (threads != 1) dev.jdnn.dnnl.Dnnl.setThreads(threads);
        }
    }

    private void prepare(Map<String, long[]> inputShapes, Op.Context context, boolean tailAtDataDependence) {
        for (Map.Entry<String, long[]> declared : graph.inputs().entrySet()) {
            long[] given = inputShapes.get(declared.getKey());
            if (given == null) continue;
            long[] want = declared.getValue();
            boolean ok = want.length == 0 && given.length == 0 || want.length == given.length;
            for (int i = 0; ok && i < want.length; i++) ok = want[i] < 0 || want[i] == given[i];
            if (!ok) {
                throw new IllegalArgumentException("input " + declared.getKey() + " has shape " + Tensor.format(given)
                        + ", the model declares " + Tensor.format(want) + " (-1 = any)");
            }
            shapes.put(declared.getKey(), given.clone());
            types.put(declared.getKey(), graph.inputType(declared.getKey()));
        }
        for (String name : inputShapes.keySet()) {
            if (!graph.inputs().containsKey(name)) {
                throw new IllegalArgumentException("the model has no input named '" + name + "'; its inputs are " + graph.inputs().keySet());
            }
        }
        bound.forEach((name, value) -> {
            folded.put(name, value);
            shapes.putIfAbsent(name, value.shape());   // a tail's values from its head: no declared input gives their shape
            types.putIfAbsent(name, value.type());
        });
        givenNames = inputShapes.keySet().toArray(String[]::new);
        givenShapes = new long[givenNames.length][];
        givenTypes = new DataType[givenNames.length];
        for (int k = 0; k < givenNames.length; k++) {
            givenShapes[k] = shapes.get(givenNames[k]);
            givenTypes[k] = types.get(givenNames[k]);
        }
        graph.constants().forEach((name, value) -> {
            shapes.put(name, value.shape());
            types.put(name, value.type());
        });

        // Which nodes the requested tensors depend on.
        Map<String, Node> producer = new HashMap<>();
        for (Node n : graph.nodes()) for (String out : n.outputs()) producer.put(out, n);
        Set<Node> needed = new HashSet<>();
        List<String> stack = new ArrayList<>(requested);
        Set<String> seen = new HashSet<>();
        while (!stack.isEmpty()) {
            String name = stack.remove(stack.size() - 1);
            if (!seen.add(name)) continue;
            Node n = producer.get(name);
            if (n == null) {
                if (graph.constants().containsKey(name) || bound.containsKey(name)) continue;
                if (!graph.inputs().containsKey(name)) throw new IllegalArgumentException("the model has no tensor named '" + name + "'");
                if (!shapes.containsKey(name)) throw new IllegalArgumentException("input '" + name + "' is needed but was not given");
                usedInputs.add(name);
                continue;
            }
            if (needed.add(n)) for (String in : n.inputs()) if (!in.isEmpty()) stack.add(in);
        }

        List<Node> all = new ArrayList<>(graph.nodes());
        Set<String> names = null;   // every tensor name of the graph, once an If is inlined (its branch's names must not collide)
        for (int index = 0; index < all.size(); index++) {
            Node n = all.get(index);
            if (!needed.contains(n)) continue;
            if (n.opType().equals("If") && Registry.get("If", context.opset()) != null && shapes.containsKey(n.input(0)) && constant(n.input(0)) != null) {
                // A condition known now: the chosen branch's nodes take the If's place (prepared, folded, compiled as any others).
                if (names == null) names = tensorNames(all);
                List<Node> branch = dev.jdnn.graph.op.If.inline(n, constant(n.input(0)), names::contains);
                for (Node b : branch) names.addAll(b.outputs());
                all.addAll(index + 1, branch);
                needed.addAll(branch);
                boolean condition = dev.jdnn.graph.op.If.condition(n, constant(n.input(0)));
                inlined.add("if      If node " + n.label() + ": condition known at prepare (" + condition
                        + "), its " + (condition ? "then_branch" : "else_branch") + " inlined ("
                        + (branch.size() - n.outputs().size()) + " nodes)");
                continue;
            }
            Op op = Registry.get(n.opType(), context.opset());
            if (op == null) {
                throw new IllegalArgumentException("unsupported ONNX operator " + n.opType() + " at opset " + context.opset() + " (node " + n.label() + ")"
                        + (Registry.knows(n.opType()) ? "; jdnn runs it at opsets " + Registry.opsets(n.opType()) : ""));
            }
            dev.jdnn.graph.op.Arity.check(n);
            Inputs inputs = inputsOf(n);
            boolean allConstant = true;
            for (int i = 0; i < n.inputs().size(); i++) if (!n.inputs().get(i).isEmpty()) allConstant &= inputs.isConstant(i);
            Op.Step step;
            try {
                step = op.prepare(n, inputs, context);
            } catch (dev.jdnn.graph.op.DataDependentException e) {
                if (!tailAtDataDependence || allConstant) throw e;
                startTail(n, all.subList(index, all.size()).stream().filter(needed::contains).toList());
                return;
            } catch (IllegalArgumentException e) {
                throw e.getMessage() != null && e.getMessage().startsWith(n.opType()) ? e
                        : new IllegalArgumentException(n.opType() + " node " + n.label() + ": " + e.getMessage(), e);
            } catch (ArithmeticException e) {
                // Shape arithmetic on attribute or input values (Math.*Exact) that overflowed a long or an int.
                throw new IllegalArgumentException(n.opType() + " node " + n.label() + ": a shape or attribute value overflows (" + e.getMessage()
                        + "); input shapes " + inputsOfShapes(n), e);
            }
            List<long[]> outShapes = step.outputShapes();
            List<DataType> outTypes = step.outputTypes();
            for (int i = outShapes.size(); i < n.outputs().size(); i++) {
                if (!n.outputs().get(i).isEmpty()) {
                    step.close();
                    throw new IllegalArgumentException(n.opType() + " node " + n.label() + ": output " + i + " ('" + n.outputs().get(i)
                            + "') is not computed by jdnn's " + n.opType() + ", which has " + outShapes.size() + " output(s)");
                }
            }
            for (int i = 0; i < n.outputs().size() && i < outShapes.size(); i++) {
                if (!n.outputs().get(i).isEmpty()) {
                    try {
                        totalBytes += limits.checkTensor(n.opType() + " node " + n.label() + ": output " + n.outputs().get(i), outShapes.get(i), outTypes.get(i));
                    } catch (IllegalArgumentException e) {
                        step.close();
                        throw e;
                    }
                    shapes.put(n.outputs().get(i), outShapes.get(i));
                    types.put(n.outputs().get(i), outTypes.get(i));
                }
            }
            // Shape reads only the (known) shape of its input: it is a constant, whatever the input's data.
            if (n.opType().equals("Shape")) allConstant = true;
            if (allConstant) {
                // Known now: compute once (Constant nodes, shape arithmetic), keep the results.
                foldedOps.merge(n.opType(), 1, Integer::sum);
                try (step) {
                    List<Value> outs = step.run(inputs.constants());
                    // Only the outputs the node declares (an op may compute more, e.g. optional ones the graph omits).
                    for (int i = 0; i < outs.size(); i++) {
                        if (i < n.outputs().size() && !n.outputs().get(i).isEmpty()) folded.put(n.outputs().get(i), outs.get(i));
                        else OnnxValues.release(outs.get(i));   // computed but not declared (float ones hold native memory)
                    }
                }
                continue;
            }
            for (String in : n.inputs()) if (!in.isEmpty()) lastUse.put(in, steps.size());
            nodes.add(n);
            steps.add(step);
        }
    }

    /** The graph's inputs, constants and every tensor its nodes (the ones in {@code all}) define. */
    private Set<String> tensorNames(List<Node> all) {
        Set<String> names = new HashSet<>(shapes.keySet());
        names.addAll(graph.inputs().keySet());
        names.addAll(graph.constants().keySet());
        for (Node n : all) names.addAll(n.outputs());
        return names;
    }

    /**
     * Ends the head at {@code first}: the tail is it and the needed nodes after it; the head must hand the
     * tail every tensor it reads from before it, and compute the requested tensors that are not the tail's.
     */
    private void startTail(Node first, List<Node> tailNodes) {
        tailStart = first;
        tail = tailNodes;
        Set<String> producedByTail = new HashSet<>();
        for (Node n : tailNodes) producedByTail.addAll(n.outputs());
        Set<String> handed = new HashSet<>();
        for (Node n : tailNodes) {
            for (String in : n.inputs()) if (!in.isEmpty() && !producedByTail.contains(in) && !graph.constants().containsKey(in)) handed.add(in);
        }
        for (String r : requested) if (!producedByTail.contains(r)) handed.add(r);
        headOutputs = Set.copyOf(handed);
        for (String name : headOutputs) lastUse.put(name, Integer.MAX_VALUE);   // kept to the end of the head's run
    }

    private String inputsOfShapes(Node n) {
        List<String> described = new ArrayList<>();
        for (String in : n.inputs()) described.add(in.isEmpty() || !shapes.containsKey(in) ? "-" : Tensor.format(shapes.get(in)));
        return described.toString();
    }

    /** What is known about node {@code n}'s inputs now: shapes, types, constant values. */
    private Inputs inputsOf(Node n) {
        List<long[]> inShapes = new ArrayList<>();
        List<DataType> inTypes = new ArrayList<>();
        List<Value> constants = new ArrayList<>();
        for (String in : n.inputs()) {
            boolean absent = in.isEmpty();
            if (!absent && !shapes.containsKey(in)) throw new IllegalArgumentException("input '" + in + "' of node " + n.label() + " is not computed by any node");
            inShapes.add(absent ? null : shapes.get(in));
            inTypes.add(absent ? null : types.get(in));
            constants.add(absent ? null : constant(in));
        }
        return new Inputs(inShapes, inTypes, constants);
    }

    private Value constant(String name) {
        Value v = folded.get(name);
        return v != null ? v : graph.constants().get(name);
    }

    /** The shape of every tensor this plan knows: inputs, constants and every prepared node's outputs. */
    public Map<String, long[]> shapes() {
        Map<String, long[]> copy = new LinkedHashMap<>();
        shapes.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    /** The element type of every tensor this plan knows. */
    public Map<String, DataType> types() {
        return new HashMap<>(types);
    }

    /** Number of nodes executed per run (after constant folding and pruning), before any fusion. */
    public int stepCount() {
        return nodes.size();
    }

    /** For a compiled plan, one line per instruction (fusions, layouts, Java fallbacks); else one per node. */
    public List<String> explain() {
        List<String> lines = new ArrayList<>();
        if (!foldedOps.isEmpty()) {
            StringBuilder b = new StringBuilder("const   " + foldedOps.values().stream().mapToInt(Integer::intValue).sum()
                    + " nodes computed once at prepare (constants and shape arithmetic):");
            foldedOps.forEach((op, n) -> b.append(' ').append(op).append(n > 1 ? "×" + n : ""));
            lines.add(b.toString());
        }
        lines.addAll(inlined);
        if (threadChoice != null) lines.add(threadChoice);
        if (part != null && parts > 1) {
            lines.add("split   the batch runs as " + parts + " parts of " + givenShapes[0][0] / parts
                    + " side by side, each on one thread (every op treats samples independently); each part:");
        }
        if (part != null) part.explain().stream().filter(l -> !l.startsWith("const ")).forEach(lines::add);
        if (program != null) lines.addAll(program.explain());
        else nodes.forEach(n -> lines.add("node    " + n.label() + ": " + n.opType()));
        if (tailStart != null) {
            long ifs = tail.stream().filter(n -> n.opType().equals("If")).count();
            lines.add("tail    from " + tailStart.opType() + " node " + tailStart.label() + " (its output shape depends on data computed here): "
                    + tail.size() + " nodes run node by node on each run (" + (tailContext.backend() == dev.jdnn.Backend.NATIVE ? "oneDNN where the op has it, else Java" : "Java")
                    + "), prepared for the values the plan above computed"
                    + (ifs == 0 ? "" : "; " + ifs + " If node" + (ifs > 1 ? "s" : "") + " among them, each replaced there by the branch its condition (known then) picks")
                    + (loopBodies.prepared() == 0 ? "" : "; Loop bodies so far: " + loopBodies.prepared() + " plan(s) prepared, reused for "
                            + loopBodies.reused() + " iterations"));
        }
        return lines;
    }

    /** Per-instruction mean times of a compiled plan over {@code runs} runs, slowest first. */
    public List<String> profile(Map<String, Tensor> inputs, int runs) {
        checkInputs(inputs);
        if (part != null) {
            // One part on the calling thread: its instructions are what every part runs.
            Map<String, Tensor> slice = new LinkedHashMap<>();
            inputs.forEach((name, t) -> slice.put(name, t.sliceBatch(0, t.dim(0) / parts)));
            int threads = dev.jdnn.dnnl.Dnnl.threads();
            dev.jdnn.dnnl.Dnnl.setThreads(1);   // as it runs (prepared for one thread)
            try {
                return part.profile(slice, runs);
            } finally {
                dev.jdnn.dnnl.Dnnl.setThreads(threads);
            }
        }
        if (program == null) throw new IllegalStateException("profiling needs a compiled native plan");
        return program.profile(inputs, runs);
    }

    /** Whether part of this plan runs per run in a data-dependent tail (its tensors' shapes are known only then). */
    public boolean hasTail() {
        return tailStart != null;
    }

    /**
     * A compiled plan allocates (and faults in) its first run's activation memory now; for the preparing thread
     * while it waits for the background work. Nothing for a plan run node by node.
     */
    public void reserveFrameMemory() {
        if (program != null) program.reserveFrameMemory();
        if (part != null) part.reserveFrameMemory();
    }

    /** Whether this plan runs as a {@link CompiledPlan}. */
    public boolean compiled() {
        return program != null || part != null;
    }

    /** Bytes of activation memory one run uses (compiled plans, after liveness sharing), and without sharing; -1 if not compiled. */
    public long[] activationBytes() {
        if (part != null) {
            long[] each = part.activationBytes();
            return new long[] {each[0] * parts, each[1] * parts};
        }
        return program == null ? new long[] {-1, -1} : new long[] {program.frameBytes(), program.unsharedBytes()};
    }

    /** Activation bytes one run of this plan needs (compiled: the shared frame; node by node: every computed tensor). */
    public long plannedBytes() {
        return activationBytes;
    }

    private static String describe(Map<String, long[]> shapes) {
        StringBuilder b = new StringBuilder("{");
        shapes.forEach((k, v) -> b.append(b.length() > 1 ? ", " : "").append(k).append('=').append(Tensor.format(v)));
        return b.append('}').toString();
    }

    /**
     * Native bytes this plan holds: {activations of its frames (one per concurrent run, at least one counted),
     * scratchpad of its frames, weights in its kernels' layouts (possibly shared with the model's other plans)};
     * zeros for a node-by-node plan, whose tensors live only during a run.
     */
    public long[] nativeBytesByKind() {
        if (part != null) return part.nativeBytesByKind();   // its frames serve every slice
        if (program == null) return new long[3];
        int frames = Math.max(1, program.frameCount());
        return new long[] {frames * program.frameBytes(), frames * program.scratchpadBytes(), program.weightBytes()};
    }

    /** Sum of {@link #nativeBytesByKind()}: what a bounded plan cache counts for this plan. */
    public long nativeBytes() {
        long total = 0;
        for (long b : nativeBytesByKind()) total += b;
        return total;
    }

    /** The requested tensor names this plan returns. */
    public Set<String> requested() {
        return requested;
    }

    /** Whether {@code inputs} are exactly this plan's runtime inputs with its shapes (no allocation). */
    public boolean accepts(Map<String, Tensor> inputs) {
        if (inputs.size() != givenNames.length) return false;
        // Index loops over arrays fixed at prepare time: the steady-state path allocates no iterator.
        for (int k = 0; k < givenNames.length; k++) {
            Tensor t = inputs.get(givenNames[k]);
            long[] want = givenShapes[k];
            if (t == null || t.isClosed() || t.rank() != want.length || t.dtype() != givenTypes[k]) return false;
            for (int i = 0; i < want.length; i++) if (t.dim(i) != want[i]) return false;
            if (!bound.isEmpty()) {
                Value b = bound.get(givenNames[k]);
                if (b instanceof Value.Longs l) {
                    long[] v = l.view();
                    for (int i = 0; i < v.length; i++) if (t.getLongFlat(i) != v[i]) return false;
                } else if (b instanceof Value.Floats f) {
                    for (long i = 0; i < t.elementCount(); i++) {
                        if (Float.floatToRawIntBits(t.getFlat(i)) != Float.floatToRawIntBits(f.tensor().getFlat(i))) return false;
                    }
                }
            }
        }
        return true;
    }

    /**
     * Whether {@code names} (a caller's collection, duplicates allowed) is exactly the set this plan returns.
     * Uses only size() and contains(), so the steady-state check allocates no iterator.
     */
    public boolean serves(Collection<String> names) {
        if (names.size() != requestedNames.length) return false;
        for (String n : requestedNames) if (!names.contains(n)) return false;
        return true;
    }

    private void checkInputs(Map<String, Tensor> inputs) {
        if (accepts(inputs)) return;
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            long[] want = shapes.get(e.getKey());
            if (want == null || !graph.inputs().containsKey(e.getKey())) {
                throw new IllegalArgumentException("the model has no input named '" + e.getKey() + "'");
            }
            Tensor t = e.getValue();
            boolean same = t.rank() == want.length;
            for (int i = 0; same && i < want.length; i++) same = t.dim(i) == want[i];
            if (!same) {
                throw new IllegalArgumentException("input " + e.getKey() + " has shape " + Tensor.format(t.shape())
                        + ", this plan was prepared for " + Tensor.format(want));
            }
            if (t.dtype() != types.get(e.getKey())) {
                throw new IllegalArgumentException("input " + e.getKey() + " holds " + t.dtype().onnxName() + ", the model declares " + types.get(e.getKey()).onnxName());
            }
        }
    }

    /**
     * Runs a compiled plan writing each requested tensor into the caller's tensor of the same name
     * (allocates nothing in steady state). Only for compiled plans whose requested tensors are all computed.
     */
    public void runInto(Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        if (closed) throw new IllegalStateException("plan is closed");
        if (program == null && part == null) throw new IllegalStateException("runInto needs a compiled native plan");
        if (tailStart != null) {
            throw new IllegalStateException("the requested tensors' shapes depend on data computed by the model (" + tailStart.opType() + " node "
                    + tailStart.label() + "): run it with Session.run(inputs, names), which returns them");
        }
        checkInputs(inputs);
        if (part != null) {
            checkOutputs(outputs);
            if (parts == 1) runOnOneThread(part, inputs, outputs);
            else splitRunner().run(inputs, outputs);
        } else {
            program.runInto(inputs, outputs);
        }
    }

    /** The runner of this plan's split batch, made on first use (its worker threads live until the plan is closed). */
    private synchronized BatchSplit.Runner splitRunner() {
        if (closed) throw new IllegalStateException("plan is closed");
        if (splitRunner == null) splitRunner = new BatchSplit.Runner(part, parts, givenNames, requestedNames);
        return splitRunner;
    }

    /** Whether {@code t} has shape {@code shape}, without copying its shape (runs allocate nothing). */
    private static boolean hasShape(Tensor t, long[] shape) {
        if (t.rank() != shape.length) return false;
        for (int i = 0; i < shape.length; i++) if (t.dim(i) != shape[i]) return false;
        return true;
    }

    /** The caller's tensors for a split run: exactly the requested names, each with the whole plan's shape. */
    private void checkOutputs(Map<String, Tensor> outputs) {
        for (String name : requestedNames) {
            Tensor t = outputs.get(name);
            if (t == null) throw new IllegalArgumentException("no output tensor given for '" + name + "'");
            if (t.dtype() != DataType.FLOAT || !hasShape(t, shapes.get(name))) {
                throw new IllegalArgumentException("output tensor for '" + name + "' is " + t.dtype().onnxName() + " " + Tensor.format(t.shape())
                        + ", the result is float " + Tensor.format(shapes.get(name)));
            }
        }
        if (outputs.size() != requestedNames.length) {
            for (String name : outputs.keySet()) {
                if (!requested.contains(name)) throw new IllegalArgumentException("'" + name + "' was not requested from this plan");
            }
        }
    }

    /**
     * Runs the plan. {@code inputs} must have the shapes the plan was prepared for; they are only read.
     * Returns the requested tensors, owned by the caller.
     */
    public Map<String, Value> run(Map<String, Tensor> inputs) {
        if (closed) throw new IllegalStateException("plan is closed");
        if (part != null) {
            checkInputs(inputs);
            Map<String, Tensor> outputs = new LinkedHashMap<>();
            try {
                for (String name : requestedNames) outputs.put(name, Tensor.zeros(shapes.get(name)));
                if (parts == 1) runOnOneThread(part, inputs, outputs);
                else splitRunner().run(inputs, outputs);
            } catch (RuntimeException e) {
                outputs.values().forEach(Tensor::close);
                throw e;
            }
            Map<String, Value> results = new LinkedHashMap<>();
            for (String name : requested) results.put(name, new Value.Floats(outputs.get(name)));
            return results;
        }
        if (tailStart != null) return runWithTail(inputs);
        if (program != null) {
            checkInputs(inputs);
            Map<String, Tensor> computed = program.run(inputs, null);
            Map<String, Value> results = new LinkedHashMap<>();
            for (String name : requested) {
                Tensor t = computed.get(name);
                results.put(name, t == null ? OnnxValues.copy(constant(name)) : t.dtype().isFloat() ? new Value.Floats(t) : releasing(t));
            }
            return results;
        }
        return runNodes(inputs, requested);
    }

    /** Runs the steps node by node and returns the {@code names} tensors (computed, constants or inputs) as values owned by the caller. */
    private Map<String, Value> runNodes(Map<String, Tensor> inputs, Set<String> names) {
        Map<String, Value> values = new HashMap<>();
        Set<String> borrowed = new HashSet<>();
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            long[] want = shapes.get(e.getKey());
            if (want == null || !graph.inputs().containsKey(e.getKey())) {
                throw new IllegalArgumentException("the model has no input named '" + e.getKey() + "'");
            }
            if (!Arrays.equals(want, e.getValue().shape())) {
                throw new IllegalArgumentException("input " + e.getKey() + " has shape " + Tensor.format(e.getValue().shape())
                        + ", this plan was prepared for " + Tensor.format(want));
            }
            DataType want2 = types.get(e.getKey());
            if (e.getValue().dtype() != want2) {
                throw new IllegalArgumentException("input " + e.getKey() + " holds " + e.getValue().dtype().onnxName() + ", the model declares " + want2.onnxName());
            }
            values.put(e.getKey(), Value.of(e.getValue()));
            if (e.getValue().dtype().isFloat()) borrowed.add(e.getKey());
        }
        Map<String, Value> results = new LinkedHashMap<>();
        try {
            for (int s = 0; s < steps.size(); s++) {
                Node n = nodes.get(s);
                List<Value> in = new ArrayList<>(n.inputs().size());
                for (String name : n.inputs()) {
                    if (name.isEmpty()) {
                        in.add(null);
                        continue;
                    }
                    Value v = values.containsKey(name) ? values.get(name) : constant(name);
                    if (v == null) throw new IllegalArgumentException("input '" + name + "' of node " + n.label() + " was not given");
                    in.add(v);
                }
                List<Value> out = steps.get(s).run(in);
                for (int i = 0; i < out.size(); i++) {
                    // Outputs the node does not name (fewer declared than the op computes) are freed like omitted ones.
                    String name = i < n.outputs().size() ? n.outputs().get(i) : "";
                    if (name.isEmpty()) OnnxValues.release(out.get(i)); else values.put(name, out.get(i));
                }
                for (String name : n.inputs()) {
                    Integer last = lastUse.get(name);
                    if (last != null && last == s && !names.contains(name) && !borrowed.contains(name)) {
                        Value dead = values.remove(name);
                        if (dead != null) OnnxValues.release(dead);
                    }
                }
            }
            for (String name : names) {
                Value v = values.remove(name);
                if (v == null || borrowed.contains(name)) {
                    Value source = v != null ? v : constant(name);
                    if (source == null) throw new IllegalStateException("tensor '" + name + "' was not computed");
                    v = OnnxValues.copy(source);
                }
                results.put(name, v);
            }
            return results;
        } catch (RuntimeException e) {
            results.values().forEach(OnnxValues::release);
            throw e;
        } finally {
            for (Map.Entry<String, Value> e : values.entrySet()) if (!borrowed.contains(e.getKey())) OnnxValues.release(e.getValue());
        }
    }

    /**
     * The head (compiled or node by node) computes what the tail reads; the tail is then prepared for those
     * values, node by node on the plan's backend, which computes every one of its nodes (all inputs known), and
     * its requested tensors join the head's.
     */
    private Map<String, Value> runWithTail(Map<String, Tensor> inputs) {
        checkInputs(inputs);
        Map<String, Value> head;
        if (program != null) {
            head = new HashMap<>();
            Map<String, Tensor> computed = program.run(inputs, null);
            for (String name : headOutputs) {
                Tensor t = computed.remove(name);
                Tensor given = inputs.get(name);
                head.put(name, t != null ? (t.dtype().isFloat() ? new Value.Floats(t) : releasing(t))
                        : given != null ? (given.dtype().isFloat() ? new Value.Floats(Tensor.copyOf(given)) : Value.of(given))
                        : OnnxValues.copy(constant(name)));
            }
            computed.values().forEach(Tensor::close);
        } else {
            head = runNodes(inputs, headOutputs);
        }
        Map<String, Value> results = new LinkedHashMap<>();
        try {
            Set<String> fromTail = new HashSet<>(requested);
            fromTail.removeAll(head.keySet());
            // The tail owns (and frees) what it is given: copies of the tensors the caller gets too.
            Map<String, Value> given = new HashMap<>();
            head.forEach((name, v) -> given.put(name, requested.contains(name) ? OnnxValues.copy(v) : v));
            for (String name : requested) if (head.containsKey(name)) results.put(name, head.get(name));
            if (!fromTail.isEmpty()) {
                Graph rest = new Graph(Map.of(), List.copyOf(fromTail), tail, graph.constants());
                // Prepared with this plan's Loop bodies bound, so a Loop in the tail reuses the body plans of earlier runs.
                try (Plan tailPlan = dev.jdnn.graph.op.LoopBodies.within(loopBodies,
                        () -> new Plan(rest, Map.of(), given, fromTail, tailContext, Optimizations.none(), limits))) {
                    results.putAll(tailPlan.run(Map.of()));
                }
            } else {
                given.values().forEach(OnnxValues::release);
            }
            return results;
        } catch (RuntimeException e) {
            results.values().forEach(OnnxValues::release);
            throw e;
        }
    }

    /** The plans of the Loop bodies this plan's tail ran (how many were prepared, how often reused), for explain and tests. */
    public dev.jdnn.graph.op.LoopBodies loopBodies() {
        return loopBodies;
    }

    private static Value releasing(Tensor t) {
        try (t) {
            return Value.of(t);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (program != null) program.close();
        if (splitRunner != null) splitRunner.close();
        if (part != null) part.close();
        steps.forEach(Op.Step::close);
        folded.values().forEach(OnnxValues::release);
        loopBodies.close();
    }
}
