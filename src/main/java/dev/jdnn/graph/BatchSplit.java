package dev.jdnn.graph;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Data-parallel runs of one batch: with T threads and a batch of N images, a compiled plan may run as
 * T parts of N/T images, each part on one thread, instead of every primitive forked over T threads.
 *
 * <p>Why: oneDNN (OpenMP) forks and joins every primitive. Networks made of many small primitives
 * (ShuffleNet, EfficientNet, MobileNet: 100–200 primitives of tens of microseconds at batch 8) spend a
 * large share of a two-thread run in those joins, and every join waits for the slower core, so a busy
 * neighbour on one core stalls both. Independent images need no joins at all: each thread runs the whole
 * network on its slice of the batch. A convolution's result for an image does not depend on the other
 * images in the batch, so the output is the same as the one-plan run (bit for bit, when both choose the
 * same kernels).
 *
 * <p>That last sentence is only true for ops that compute each sample from that sample alone. A split is
 * therefore made only when every op left in the plan is on the list below (with its axis conditions) and
 * every tensor computed at run time has the batch as its first dimension — N in the whole plan, N/T in the
 * part, every other dimension equal (checked against the part's own shape inference). Anything else (an
 * op mixing samples, a reduction or softmax over axis 0, a transpose moving the batch, an op jdnn does not
 * know to be per-sample) keeps the one-plan run.
 */
final class BatchSplit {
    private BatchSplit() {}

    /** Broadcasting binary/variadic ops: a batched operand is aligned sample to sample (see broadcastsPerSample). */
    private static final Set<String> BROADCASTING = Set.of(
            "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Mod", "Equal", "Less", "Greater",
            "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Where", "PRelu");

    /**
     * Ops whose output for sample i depends only on sample i of their first input, whatever their attributes,
     * when every other input (weights, scales, pads, shapes) is a constant.
     */
    private static final Set<String> PER_SAMPLE = Set.of(
            // activations and elementwise unary ops
            "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Clip", "Elu", "Selu", "Celu",
            "Gelu", "Erf", "Exp", "Log", "Sqrt", "Reciprocal", "Abs", "Neg", "Floor", "Ceil", "Round", "Sign", "Softplus",
            "Softsign", "Mish", "ThresholdedRelu", "Identity", "Dropout", "Cast", "Not", "IsNaN", "IsInf",
            "jdnn.HardSwish", "jdnn.Gelu", "jdnn.Silu",   // what the rewrites recognise (x·HardSigmoid(x), the erf GELU, x·σ(x))
            // spatial ops over N×C×H×W, each image on its own
            "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool",
            "GlobalLpPool", "BatchNormalization", "InstanceNormalization", "LRN", "Upsample", "Resize",
            "DepthToSpace", "SpaceToDepth", "Pad", "Expand", "Tile", "GroupNormalization",
            // layout ops: with dim 0 unchanged (checked by shapes) a row-major reshape keeps each sample's block
            "Reshape", "Flatten");

    /**
     * Into how many parts a batch may be split: the largest divisor of the batch that is at most
     * {@code threads}, or 1 when splitting is not known to be safe for this plan.
     *
     * @param nodes    the nodes the plan runs (constants already folded away)
     * @param shapes   every tensor's shape in the whole plan
     * @param inputs   the graph inputs given at run time
     * @param constant a folded or graph constant by name, or null for a tensor computed at run time
     */
    static int parts(int threads, List<Node> nodes, Map<String, long[]> shapes, Map<String, DataType> types,
                     Set<String> inputs, Set<String> requested, Function<String, Value> constant) {
        if (threads < 2 || inputs.isEmpty()) return 1;
        long batch = -1;
        for (String in : inputs) {
            long[] s = shapes.get(in);
            if (s == null || s.length == 0) return 1;
            if (batch < 0) batch = s[0];
            if (s[0] != batch) return 1;
        }
        int parts = 1;
        for (int p = 2; p <= threads; p++) if (batch % p == 0) parts = p;
        if (parts == 1) return 1;
        for (String name : requested) {
            long[] s = shapes.get(name);
            if (constant.apply(name) != null || inputs.contains(name) || s == null || s.length == 0 || s[0] != batch
                    || types.get(name) != DataType.FLOAT) return 1;
        }
        for (Node n : nodes) {
            if (!perSample(n, shapes, batch, constant)) return 1;
        }
        return parts;
    }

    /** Whether node {@code n} computes each sample from that sample only, given the whole plan's shapes. */
    private static boolean perSample(Node n, Map<String, long[]> shapes, long batch, Function<String, Value> constant) {
        for (String out : n.outputs()) {
            if (out.isEmpty()) continue;
            long[] s = shapes.get(out);
            if (s == null || s.length == 0 || s[0] != batch) return false;
        }
        long[] x = shapes.get(n.input(0));
        int rank = x == null ? 0 : x.length;
        switch (n.opType()) {
            case "BatchNormalization":
                if (n.attributes().getInt("training_mode", 0) != 0) return false;
                break;
            case "Gemm":
                // A (N×K) is the batched operand; B and C must be constants (not derived from the batch).
                return n.attributes().getInt("transA", 0) == 0 && onlyFirstInputVaries(n, constant);
            case "jdnn.MatMulAdd":   // a Linear: batched A · constant W + constant bias
                return constant.apply(n.input(0)) == null && constant.apply(n.input(1)) != null && constant.apply(n.input(2)) != null;
            case "MatMul":
                // Batched A·constant B, or a batched matmul of two batched tensors of rank ≥ 3.
                if (constant.apply(n.input(1)) != null) return constant.apply(n.input(0)) == null;
                long[] b = shapes.get(n.input(1));
                return rank >= 3 && b != null && b.length == rank;
            case "Transpose": {
                long[] perm = n.attributes().getInts("perm", null);
                return perm != null && perm.length > 0 && perm[0] == 0;
            }
            case "Concat":   // every input is batched (its shapes were checked), joined along a later axis
                return rank > 0 && axis(n.attributes().getInt("axis", 0), rank) > 0;
            case "Split", "jdnn.SplitPart", "Softmax", "LogSoftmax", "Hardmax", "LayerNormalization", "jdnn.LayerNormalization", "Gather":
                return rank > 0 && axis(n.attributes().getInt("axis", defaultAxis(n.opType())), rank) > 0 && onlyFirstInputVaries(n, constant);
            case "Squeeze", "Unsqueeze", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                 "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare", "Slice", "ArgMax", "ArgMin":
                return axesAvoidBatch(n, rank, constant);
            default:
                if (BROADCASTING.contains(n.opType())) return broadcastsPerSample(n, shapes, batch);
                if (!PER_SAMPLE.contains(n.opType())) return false;
        }
        return onlyFirstInputVaries(n, constant);
    }

    private static int defaultAxis(String op) {
        return switch (op) {
            case "Split", "jdnn.SplitPart", "Gather" -> 0;
            case "LayerNormalization", "jdnn.LayerNormalization", "Softmax", "LogSoftmax", "Hardmax" -> -1;
            default -> 0;
        };
    }

    private static long axis(long a, int rank) {
        return a < 0 ? a + rank : a;
    }

    /**
     * Squeeze, Unsqueeze, the Reduce ops, Slice, ArgMax and ArgMin: every axis (attribute, or constant input 1 — Slice's
     * input 3) is known and none is the batch axis. No axes means all axes for reductions and Slice: refused.
     */
    private static boolean axesAvoidBatch(Node n, int rank, Function<String, Value> constant) {
        long[] axes;
        if (n.opType().equals("ArgMax") || n.opType().equals("ArgMin")) {
            axes = new long[] {n.attributes().getInt("axis", 0)};
        } else {
            axes = n.attributes().getInts("axes", null);
            int at = n.opType().equals("Slice") ? 3 : 1;
            if (axes == null && n.input(at) != null) {
                Value v = constant.apply(n.input(at));
                if (!(v instanceof Value.Longs l)) return false;
                axes = l.view();
            }
        }
        if (axes == null || axes.length == 0) return false;
        // Unsqueeze's axes index the output (rank + axes.length).
        int r = n.opType().equals("Unsqueeze") ? rank + axes.length : rank;
        for (long a : axes) if (axis(a, r) == 0) return false;
        return true;
    }

    /**
     * A broadcast operand either has the output's rank and its batch (aligned sample to sample) or a size-1
     * or missing leading dimension (the same values for every sample); anything else would mix samples.
     */
    private static boolean broadcastsPerSample(Node n, Map<String, long[]> shapes, long batch) {
        long[] out = shapes.get(n.outputs().get(0));
        for (String in : n.inputs()) {
            if (in.isEmpty()) continue;
            long[] s = shapes.get(in);
            if (s == null) return false;
            if (s.length == out.length && s[0] != batch && s[0] != 1) return false;
        }
        return true;
    }

    /** Input 0 is computed at run time and every other input (weights, scales, pads, shapes) is a constant. */
    private static boolean onlyFirstInputVaries(Node n, Function<String, Value> constant) {
        if (n.input(0) == null || constant.apply(n.input(0)) != null) return false;
        for (int i = 1; i < n.inputs().size(); i++) {
            String in = n.input(i);   // null when omitted
            if (in != null && constant.apply(in) == null) return false;
        }
        return true;
    }

    /**
     * Whether the part plan's shapes are the whole plan's with the batch divided by {@code parts}, for every
     * tensor computed at run time: the part's own shape inference confirms that no op folded the batch size
     * into a shape (a Reshape to a constant [8, ...], an Expand to the batch).
     */
    static boolean shapesAgree(List<Node> nodes, Map<String, long[]> whole, Map<String, long[]> part, int parts) {
        for (Node n : nodes) {
            for (String out : n.outputs()) {
                if (out.isEmpty()) continue;
                long[] w = whole.get(out), p = part.get(out);
                if (w == null || p == null || w.length != p.length || w.length == 0 || p[0] * parts != w[0]) return false;
                if (!Arrays.equals(Arrays.copyOfRange(w, 1, w.length), Arrays.copyOfRange(p, 1, p.length))) return false;
            }
        }
        return true;
    }

    /**
     * Runs one plan's split batch: {@code part} on each of {@code parts} slices, part 0 on the calling thread and
     * the others on worker threads this runner owns (started on its first run, stopped by {@link #close}), each
     * with one oneDNN thread. Everything a run needs is kept between runs: the slice views of the caller's
     * tensors (made again only when the caller passes other tensor objects) and their maps, and the hand-off to
     * the workers (a volatile run counter, park and unpark), so a steady-state run with the same input and output
     * tensors allocates nothing on the Java heap. A run that finds the runner busy (another thread is running the
     * same plan) runs its slices on the calling thread one after another.
     */
    static final class Runner implements AutoCloseable {
        private static final int SPINS = 5_000;   // busy-wait rounds before parking: a part's hand-off costs no wake-up when runs are back to back

        private final Plan part;
        private final int parts;
        private final String[] inputNames, outputNames;
        private final java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();
        private final Tensor[] callerInputs, callerOutputs;   // the caller's tensors the views below were made of
        private final List<Map<String, Tensor>> sliceInputs = new ArrayList<>(), sliceOutputs = new ArrayList<>();
        private volatile Thread[] workers;
        private volatile Thread caller;
        private volatile long generation;          // incremented per run: the workers' signal to start
        private final java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
        private volatile RuntimeException workerFailure;
        private volatile boolean closed;

        Runner(Plan part, int parts, String[] inputNames, String[] outputNames) {
            this.part = part;
            this.parts = parts;
            this.inputNames = inputNames.clone();
            this.outputNames = outputNames.clone();
            callerInputs = new Tensor[inputNames.length];
            callerOutputs = new Tensor[outputNames.length];
            for (int k = 0; k < parts; k++) {
                sliceInputs.add(new java.util.HashMap<>());
                sliceOutputs.add(new java.util.HashMap<>());
            }
        }

        /** Runs every slice; waits for all of them, then rethrows the first failure. */
        void run(Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
            if (!busy.compareAndSet(false, true)) {
                BatchSplit.runOneAfterAnother(part, parts, inputs, outputs);
                return;
            }
            try {
                if (closed) throw new IllegalStateException("plan is closed");
                views(inputs, outputs);
                if (workers == null) startWorkers();
                caller = Thread.currentThread();
                finished.set(0);
                workerFailure = null;
                generation++;   // (only the runner that holds busy writes it)
                for (Thread w : workers) java.util.concurrent.locks.LockSupport.unpark(w);
                RuntimeException failure = null;
                try {
                    Plan.runOnOneThread(part, sliceInputs.get(0), sliceOutputs.get(0));
                } catch (RuntimeException e) {
                    failure = e;
                }
                for (int spin = 0; finished.get() < parts - 1; spin++) {
                    if (spin < SPINS) Thread.onSpinWait();
                    else java.util.concurrent.locks.LockSupport.park(this);
                }
                if (failure == null) failure = workerFailure;
                if (failure != null) throw failure;
            } finally {
                busy.set(false);
            }
        }

        /** The slice views of the caller's tensors, made again only for tensor objects other than last run's. */
        private void views(Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
            boolean same = true;
            for (int i = 0; i < inputNames.length && same; i++) same = inputs.get(inputNames[i]) == callerInputs[i];
            for (int i = 0; i < outputNames.length && same; i++) same = outputs.get(outputNames[i]) == callerOutputs[i];
            if (same) return;
            for (int k = 0; k < parts; k++) {
                sliceInputs.get(k).clear();
                sliceOutputs.get(k).clear();
            }
            for (int i = 0; i < inputNames.length; i++) {
                callerInputs[i] = inputs.get(inputNames[i]);
                for (int k = 0; k < parts; k++) sliceInputs.get(k).put(inputNames[i], slice(callerInputs[i], parts, k));
            }
            for (int i = 0; i < outputNames.length; i++) {
                callerOutputs[i] = outputs.get(outputNames[i]);
                for (int k = 0; k < parts; k++) sliceOutputs.get(k).put(outputNames[i], slice(callerOutputs[i], parts, k));
            }
        }

        private void startWorkers() {
            workers = new Thread[parts - 1];
            for (int k = 1; k < parts; k++) {
                int index = k;
                Thread t = new Thread(() -> work(index), "jdnn-batch-part-" + k);
                t.setDaemon(true);
                workers[k - 1] = t;
                t.start();
            }
        }

        /** A worker: waits for each run's signal, runs slice {@code index}, reports back; ends when the runner is closed. */
        private void work(int index) {
            dev.jdnn.dnnl.Dnnl.setThreads(1);   // its part was prepared for one thread
            long seen = 0;
            while (true) {
                for (int spin = 0; generation == seen; spin++) {
                    if (closed) return;   // (a run already signalled is run first: its caller waits for it)
                    if (spin < SPINS) Thread.onSpinWait();
                    else java.util.concurrent.locks.LockSupport.park(this);
                }
                seen = generation;
                try {
                    Plan.runOnOneThread(part, sliceInputs.get(index), sliceOutputs.get(index));
                } catch (RuntimeException e) {
                    workerFailure = e;
                } catch (Error e) {
                    workerFailure = new IllegalStateException("batch part " + index + " failed", e);
                }
                finished.incrementAndGet();
                java.util.concurrent.locks.LockSupport.unpark(caller);
            }
        }

        /** Stops the workers (a run in progress finishes first); later runs throw. */
        @Override
        public void close() {
            closed = true;
            Thread[] started = workers;
            if (started != null) for (Thread w : started) java.util.concurrent.locks.LockSupport.unpark(w);
        }
    }

    /** The slices run one after another on the calling thread (a run that found the plan's runner busy). */
    static void runOneAfterAnother(Plan part, int parts, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        for (int k = 0; k < parts; k++) runSlice(part, parts, k, inputs, outputs);
    }

    private static void runSlice(Plan part, int parts, int index, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        Map<String, Tensor> in = new java.util.HashMap<>(), out = new java.util.HashMap<>();
        inputs.forEach((name, t) -> in.put(name, slice(t, parts, index)));
        outputs.forEach((name, t) -> out.put(name, slice(t, parts, index)));
        Plan.runOnOneThread(part, in, out);
    }

    private static Tensor slice(Tensor t, int parts, int index) {
        long each = t.dim(0) / parts;
        return t.sliceBatch(index * each, (index + 1) * each);
    }
}
