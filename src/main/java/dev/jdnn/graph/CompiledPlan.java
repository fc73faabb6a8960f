package dev.jdnn.graph;

import dev.jdnn.DataType;
import dev.jdnn.Tensor;
import dev.jdnn.dnnl.Dnnl;
import dev.jdnn.dnnl.Execution;
import dev.jdnn.dnnl.MemoryDescs;
import dev.jdnn.graph.op.BatchNormalization;
import dev.jdnn.graph.op.Concat;
import dev.jdnn.graph.op.Conv;
import dev.jdnn.graph.op.ConvTranspose;
import dev.jdnn.graph.op.Inputs;
import dev.jdnn.graph.op.Op;
import dev.jdnn.graph.op.PostOp;
import dev.jdnn.graph.op.Primitives;
import dev.jdnn.graph.op.Registry;
import dev.jdnn.ops.reorder.NativeReorder;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static dev.jdnn.bindings.dnnl_h.dnnl_nChw16c;
import static dev.jdnn.bindings.dnnl_h.dnnl_nChw8c;
import static dev.jdnn.bindings.dnnl_h.dnnl_nchw;

/**
 * A plan compiled for the native backend (see {@link Optimizations#compile()}): a straight-line program
 * of oneDNN primitives over buffers planned at compile time.
 *
 * <ul>
 *   <li><b>Fusion</b>: Conv → BatchNormalization (inference, constant statistics) is one convolution with
 *       folded weights; a following residual Add and Relu/Clip become its sum and eltwise post-ops;
 *       BatchNormalization → Relu is one batch norm. An intermediate tensor that is requested (a tap)
 *       or read twice is never fused away, so taps keep their exact unfused values.</li>
 *   <li><b>Layouts</b>: each primitive reads its inputs in the layout oneDNN chose for it (on AVX2,
 *       channels-last NHWC for the brgemm convolutions, {@code nChw8c} for the older JIT ones) and
 *       tensors stay in it between native ops; a reorder is
 *       inserted only where a consumer wants another layout: plain at graph inputs, results, taps and
 *       nodes that run their Java kernel (ops with no native form here).</li>
 *   <li><b>Memory</b>: every tensor gets a slot; slots whose lifetimes do not overlap share storage
 *       (first-fit by size), and a conv with a residual sum writes into the residual's buffer when nothing
 *       reads the residual later; at batch 1 a Concat's inputs are written into their slices of its
 *       output where the layout allows (see {@link #placeConcatInputs}). A {@link Frame} holds one such arena, the scratchpad and every
 *       primitive's argument list, bound once. Runs borrow a frame (one per concurrent run, reused), so a
 *       steady-state run allocates nothing but its results (Java-kernel nodes allocate their outputs).</li>
 * </ul>
 */
final class CompiledPlan implements AutoCloseable {

    /**
     * One tensor in one layout. {@code desc} null: rank 0 (dense), or a non-float tensor, which lives as a
     * Java value in the frame ({@link Frame#values}) rather than in planned native memory.
     */
    static final class Slot {
        final String name;
        final long[] shape;
        final MemorySegment desc;
        DataType type = DataType.FLOAT;
        long bytes;
        int def = -1;      // instruction that writes it (-1: a graph input, written before the program)
        int last = -1;     // last instruction that reads it (Integer.MAX_VALUE: a result)
        Slot sharesWith;   // storage owner when this slot reuses another's buffer
        Slot viewOf;       // the Concat output this slot is a channel slice of (concat in place)
        long viewOffset;   // bytes from the start of viewOf
        boolean hostsViews; // some slot is a slice of this one
        long offset;       // bytes from the start of a frame's activation memory
        int index;

        Slot(String name, long[] shape, MemorySegment desc) {
            this.name = name;
            this.shape = shape.clone();
            this.desc = desc;
            // No descriptor: rank 0, empty, or rank > 6 (beyond oneDNN): dense float32, only Java ops touch it.
            this.bytes = Math.max(Float.BYTES, desc != null ? MemoryDescs.size(desc) : Tensor.elementCount(shape) * Float.BYTES);
        }

        Slot root() {
            return sharesWith == null ? this : sharesWith.root();
        }

        /** The outermost slot this one is a slice of (itself if none). */
        Slot host() {
            return viewOf == null ? this : viewOf.host();
        }

        /** Bytes from the start of {@link #host()}. */
        long hostOffset() {
            return viewOf == null ? 0 : viewOf.hostOffset() + viewOffset;
        }

        /** The slot whose placement decides this one's bytes. */
        Slot storage() {
            return viewOf != null ? host() : root();
        }

        boolean inView() {
            return viewOf != null || hostsViews;
        }
    }

    private sealed interface Instr permits NativeInstr, ReorderInstr, JavaInstr {}

    private record NativeInstr(NativeOp op, Slot[] inputs, Slot output) implements Instr {}

    private record ReorderInstr(NativeReorder reorder, Slot from, Slot to) implements Instr {}

    /** A node run by its kernel on plain tensors; {@code inputs} holds a Slot, a constant Value or null per node input. */
    private record JavaInstr(Node node, Op.Step step, Object[] inputs, Slot[] outputs) implements Instr {}

    /**
     * The conv chain that ends at a node: conv [→ bn] [→ add] [→ activation] [→ fake quantization]; a
     * ConvTranspose chain has no add and no fake quantization.
     */
    private record ConvChain(int conv, int batchNorm, int add, int residualInput, int activation, PostOp act, int fakeQuant,
                             dev.jdnn.ops.conv.NativeConv2d.FakeQuant fq) {}

    private final Arena arena = Arena.ofShared();
    private final List<Slot> slots = new ArrayList<>();
    private final Map<String, Slot> byName = new HashMap<>();
    private final Map<Slot, List<Slot>> conversions = new HashMap<>();
    private final List<Instr> program = new ArrayList<>();
    private final Map<String, Slot> inputs = new LinkedHashMap<>();
    private final Map<String, Slot> results = new LinkedHashMap<>();
    // The same as arrays, fixed after compile: a run iterates these by index and allocates no iterator.
    private String[] inputNames, resultNames;
    private Slot[] inputSlots, resultSlots;
    private final ArrayDeque<Frame> idle = new ArrayDeque<>();
    private final List<Frame> frames = new ArrayList<>();
    private FrameMemory reserved;   // the first frame's memory, allocated ahead of its first run; guarded by idle
    private final List<String> explain = new ArrayList<>();
    private final Map<Integer, Integer> concatAxis = new HashMap<>(); // program index of a native Concat → its axis
    private final Set<Integer> inPlace = new HashSet<>();            // Concats whose inputs already sit in their output
    private final Set<Integer> singleThreaded = new HashSet<>();     // instructions too small to fork (ParallelWork)
    private final Set<Integer> views = new HashSet<>();              // reshapes whose output is their input's buffer: no copy
    private final int threads = Dnnl.threads();                      // the preparing thread's oneDNN threads: the plan's
    private final Map<String, long[]> shapes;   // every tensor's shape, type and compile-time value, as the plan inferred them
    private final Map<String, List<Integer>> readers = new HashMap<>();
    private Set<String> requestedNames = Set.of();
    private final Map<String, DataType> types;
    private final Function<String, Value> constant;
    private final Op.Context context;
    private long frameBytes;
    private long scratchpadBytes = 64;
    private boolean closed;      // guarded by idle
    private boolean destroyed;   // guarded by idle
    private int active;          // runs in progress, guarded by idle

    /**
     * @param nodes     the nodes to run, in topological order (constant ones already folded away)
     * @param shapes    every tensor's shape
     * @param constant  the value of a tensor known at prepare time, else null
     * @param runtimeInputs graph inputs that are fed at run time
     * @param requested tensor names to return (outputs or taps); constants among them are not this plan's business
     */
    CompiledPlan(List<Node> nodes, Map<String, long[]> shapes, Map<String, DataType> types, Function<String, Value> constant, Set<String> runtimeInputs,
                 Set<String> requested, Op.Context context, Optimizations optimizations) {
        this.shapes = shapes;
        this.types = types;
        this.constant = constant;
        this.context = context;
        try {
            compile(nodes, runtimeInputs, requested, optimizations);
            inputNames = inputs.keySet().toArray(String[]::new);
            inputSlots = inputs.values().toArray(Slot[]::new);
            resultNames = results.keySet().toArray(String[]::new);
            resultSlots = results.values().toArray(Slot[]::new);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void compile(List<Node> nodes, Set<String> runtimeInputs, Set<String> requested, Optimizations opt) {
        for (String name : runtimeInputs) {
            Slot s = newSlot(name, shapes.get(name), types.get(name));
            inputs.put(name, s);
            byName.put(name, s);
        }
        // Who reads each runtime tensor: fusion needs "exactly one reader, not requested".
        this.requestedNames = requested;
        for (int i = 0; i < nodes.size(); i++) {
            for (String in : nodes.get(i).inputs()) if (!in.isEmpty() && constant.apply(in) == null) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
        }
        Set<Integer> absorbed = new HashSet<>();   // nodes that run inside another node's primitive
        Set<Integer> claimed = new HashSet<>();    // nodes that are part of some fusion (absorbed or its last node)
        // The one node that reads a tensor, if exactly one does, nothing requested it, and no fusion took that node yet.
        Function<String, Integer> soleReader = name -> {
            List<Integer> r = readers.getOrDefault(name, List.of());
            return r.size() == 1 && !requested.contains(name) && !claimed.contains(r.get(0)) ? r.get(0) : -1;
        };

        Map<Integer, ConvChain> chainEndingAt = new HashMap<>();
        Map<Integer, Integer> fusedEndingAt = new HashMap<>(); // activation node → the node whose primitive runs it as a post-op
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (claimed.contains(i)) continue;
            boolean transposed = n.opType().equals("ConvTranspose") && Registry.get("ConvTranspose", context.opset()) != null
                    && ConvTranspose.chainable(n, inputsOf(n));
            if (n.opType().equals("Conv") && Conv.chainable(n, inputsOf(n)) || transposed) {
                int bn = -1, add = -1, residual = -1, act = -1;
                PostOp activation = null;
                String out = n.outputs().get(0);
                int next = soleReader.apply(out);
                if (opt.foldBatchNorm() && next >= 0 && BatchNormalization.foldable(nodes.get(next), inputsOf(nodes.get(next)))) {
                    bn = next;
                    out = nodes.get(bn).outputs().get(0);
                    next = soleReader.apply(out);
                }
                if (opt.fuseAdd() && !transposed && next >= 0 && nodes.get(next).opType().equals("Add")) {
                    Node a = nodes.get(next);
                    int other = a.inputs().get(0).equals(out) ? 1 : 0;
                    String residualName = a.inputs().get(other);
                    if (!residualName.equals(out) && constant.apply(residualName) == null
                            && Arrays.equals(shapes.get(residualName), shapes.get(out)) && Arrays.equals(shapes.get(a.outputs().get(0)), shapes.get(out))) {
                        add = next;
                        residual = other;
                        out = a.outputs().get(0);
                        next = soleReader.apply(out);
                    }
                }
                if (opt.fuseActivation() && next >= 0) {
                    activation = postOpOf(nodes.get(next));
                    if (activation != null) {
                        act = next;
                        next = soleReader.apply(nodes.get(act).outputs().get(0));
                    }
                }
                // A QDQ model's fake quantization of the conv's output: the chain's last post-ops.
                int fakeQuant = -1;
                dev.jdnn.ops.conv.NativeConv2d.FakeQuant fq = null;
                if (opt.fuseActivation() && !transposed && next >= 0) {
                    fq = dev.jdnn.graph.op.FakeQuantize.nativeForm(nodes.get(next), inputsOf(nodes.get(next)));
                    if (fq != null) fakeQuant = next;
                }
                // Every 2-D conv with constant weights runs as a chain, possibly of the conv alone.
                int end = Math.max(i, Math.max(bn, Math.max(add, Math.max(act, fakeQuant))));
                chainEndingAt.put(end, new ConvChain(i, bn, add, residual, act, activation, fakeQuant, fq));
                for (int j : new int[] {i, bn, add, act, fakeQuant}) {
                    if (j < 0) continue;
                    claimed.add(j);
                    if (j != end) absorbed.add(j);
                }
            } else if (opt.fuseActivation() && n.outputs().size() == 1 && types.get(n.outputs().get(0)) == DataType.FLOAT) {
                // Any other op whose primitive takes an eltwise post-op (batch norm + ReLU, Gemm/MatMul + activation).
                int next = soleReader.apply(n.outputs().get(0));
                PostOp p = next >= 0 ? postOpOf(nodes.get(next)) : null;
                Op op = Registry.get(n.opType(), context.opset());
                if (p != null && op != null && op.fusesPostOp(n, inputsOf(n), p)) {
                    fusedEndingAt.put(next, i);
                    absorbed.add(i);
                    claimed.add(i);
                    claimed.add(next);
                }
            }
        }

        for (int i = 0; i < nodes.size(); i++) {
            if (absorbed.contains(i)) continue;
            ConvChain chain = chainEndingAt.get(i);
            Node main = nodes.get(chain != null ? chain.conv() : fusedEndingAt.getOrDefault(i, i));
            int index = i;
            onThreadsFor(ParallelWork.estimatedNanos(main, shapes), () -> {
                if (chain != null) {
                    emitConvChain(nodes, chain, opt);
                } else if (fusedEndingAt.containsKey(index)) {
                    Node activation = nodes.get(index);
                    Node producer = nodes.get(fusedEndingAt.get(index));
                    // Emitted at the activation's place: nothing but the activation reads the producer's output.
                    if (!emitNode(producer, activation.outputs().get(0), postOpOf(activation), activation.label())) {
                        emitNode(producer, null, null, null);   // no native form after all: unfused
                        emitNode(activation, null, null, null);
                    }
                } else {
                    emitNode(nodes.get(index), null, null, null);
                }
            });
        }

        for (String name : requested) {
            if (constant.apply(name) != null && !byName.containsKey(name)) continue;
            Slot s = byName.get(name);
            if (s == null) throw new IllegalStateException("tensor '" + name + "' is not computed by this plan");
            onThreadsFor(2.0 * s.bytes / ParallelWork.BYTES_PER_NANO, () -> results.put(name, plain(s)));
        }
        planMemory(opt.concatInPlace());
    }

    /**
     * Emits what {@code emit} adds to the program, on one thread when its estimated single-thread time is
     * below {@link ParallelWork#MIN_MICROS} (the primitives are created with one thread, since some oneDNN
     * kernels fix their thread count at creation, and {@link Frame} runs them with one), else on all of the
     * plan's threads.
     */
    private void onThreadsFor(double estimatedNanos, Runnable emit) {
        boolean alone = threads > 1 && estimatedNanos < ParallelWork.MIN_MICROS * 1000;
        int first = program.size();
        if (alone) Dnnl.setThreads(1);
        try {
            emit.run();
        } finally {
            if (alone) Dnnl.setThreads(threads);
        }
        if (alone) for (int k = first; k < program.size(); k++) singleThreaded.add(k);
    }

    /** What is known about a node's inputs at compile time (shapes, types, constants). */
    private Inputs inputsOf(Node n) {
        List<long[]> inShapes = new ArrayList<>();
        List<DataType> inTypes = new ArrayList<>();
        List<Value> constants = new ArrayList<>();
        for (String in : n.inputs()) {
            boolean absent = in.isEmpty();
            inShapes.add(absent ? null : shapes.get(in));
            inTypes.add(absent ? null : types.get(in));
            constants.add(absent ? null : constant.apply(in));
        }
        return new Inputs(inShapes, inTypes, constants);
    }

    /** The eltwise function node {@code n} computes as a post-op, or null; only on float tensors. */
    private PostOp postOpOf(Node n) {
        Op op = Registry.get(n.opType(), context.opset());
        if (op == null || n.outputs().isEmpty() || types.get(n.outputs().get(0)) != DataType.FLOAT) return null;
        return op.postOp(n, inputsOf(n), context);
    }

    private void emitConvChain(List<Node> nodes, ConvChain c, Optimizations opt) {
        Node conv = nodes.get(c.conv());
        Node bn = c.batchNorm() >= 0 ? nodes.get(c.batchNorm()) : null;
        List<Value> bnConstants = bn != null ? inputsOf(bn).constants() : List.of();
        NativeOp op = conv.opType().equals("ConvTranspose") ? ConvTranspose.lowerChain(conv, inputsOf(conv), bn, bnConstants, c.act())
                : Conv.lowerChain(conv, inputsOf(conv), bn, bnConstants, c.add() >= 0, c.act(), c.fq(), opt.autotune(), opt.winograd());
        List<String> ins = new ArrayList<>(List.of(conv.input(0)));
        String label = "";
        if (c.add() >= 0) {
            Node add = nodes.get(c.add());
            ins.add(add.inputs().get(c.residualInput()));
            label += " + " + add.label() + " (sum post-op)";
        }
        if (c.activation() >= 0) label += " + " + nodes.get(c.activation()).label() + " (eltwise post-op)";
        if (c.fakeQuant() >= 0) label += " + " + nodes.get(c.fakeQuant()).label() + " (fake quantization post-ops)";
        int end = Math.max(c.conv(), Math.max(c.batchNorm(), Math.max(c.add(), Math.max(c.activation(), c.fakeQuant()))));
        String out = nodes.get(end).outputs().get(0);
        emitNative(op, ins, out, shapes.get(out), label);
    }

    /**
     * Emits one node: its native lowering when it has one, else its Java step on plain tensors. With
     * {@code fused} (an activation to run as a post-op, writing {@code outputOverride}) it emits only a
     * native lowering and returns false when there is none, so the caller can emit the pair unfused.
     */
    private boolean emitNode(Node node, String outputOverride, PostOp fused, String fusedLabel) {
        Inputs in = inputsOf(node);
        List<String> runtime = new ArrayList<>();
        List<MemorySegment> descs = new ArrayList<>();
        boolean nativeOk = true;
        for (int k = 0; k < node.inputs().size(); k++) {
            String name = node.inputs().get(k);
            if (name.isEmpty() || in.isConstant(k)) continue;
            runtime.add(name);
            Slot s = slot(name);
            descs.add(s.desc);
            nativeOk &= s.desc != null && s.type == DataType.FLOAT && Primitives.nativeShape(s.shape);
        }
        List<long[]> outShapes = new ArrayList<>();
        for (String o : node.outputs()) outShapes.add(o.isEmpty() ? null : shapes.get(o));
        // A NativeOp has one float output; extra outputs that something reads (MaxPool's Indices) mean Java.
        // An extra output nobody reads or requests (a Dropout mask torchvision declares) is simply not computed.
        for (int k = 1; k < node.outputs().size(); k++) {
            String o = node.outputs().get(k);
            nativeOk &= o.isEmpty() || !readers.containsKey(o) && !requestedNames.contains(o);
        }
        nativeOk &= types.get(node.outputs().get(0)) == DataType.FLOAT && Primitives.nativeShape(outShapes.get(0));
        Op op = Registry.get(node.opType(), context.opset());
        NativeOp lowered = nativeOk ? op.lower(node, in, new Op.Lowering(descs, outShapes, context, fused)) : null;
        if (lowered != null) {
            String out = outputOverride != null ? outputOverride : node.outputs().get(0);
            emitNative(lowered, runtime, out, shapes.get(out), fusedLabel != null ? " + " + fusedLabel + " (eltwise post-op)" : "");
            if (node.opType().equals("Concat") && runtime.size() > 1 && runtime.size() == node.inputs().size()) {
                concatAxis.put(program.size() - 1, Concat.axis(node, shapes.get(out).length));
            }
            return true;
        }
        if (fused != null) return false;
        Op.Step step = op.prepare(node, in, context);
        Object[] args = new Object[node.inputs().size()];
        for (int k = 0; k < args.length; k++) {
            String name = node.inputs().get(k);
            if (name.isEmpty()) continue;
            args[k] = in.isConstant(k) ? in.constant(k) : plain(slot(name));
        }
        Slot[] outs = new Slot[node.outputs().size()];
        for (int k = 0; k < outs.length; k++) {
            String o = node.outputs().get(k);
            if (o.isEmpty()) continue;
            outs[k] = newSlot(o, shapes.get(o), types.get(o));
            outs[k].def = program.size();
            byName.put(o, outs[k]);
        }
        for (Object a : args) if (a instanceof Slot s) s.last = program.size();
        // Described by its first named output (an LSTM whose Y is omitted names only Y_h).
        String shown = node.outputs().stream().filter(o -> !o.isEmpty()).findFirst().orElseThrow();
        explain.add("java    " + node.label() + ": " + node.opType() + " " + Tensor.format(shapes.get(shown))
                + (types.get(shown) == DataType.FLOAT ? "" : " " + types.get(shown).onnxName())
                + (step.description() == null ? "" : " (" + step.description() + ")"));
        program.add(new JavaInstr(node, step, args, outs));
        return true;
    }

    private void emitNative(NativeOp op, List<String> inputNames, String output, long[] outShape, String label) {
        Slot[] in = new Slot[inputNames.size()];
        try {
            for (int k = 0; k < in.length; k++) in[k] = inLayout(slot(inputNames.get(k)), op.inputDesc(k));
        } catch (RuntimeException e) {
            op.close();
            throw e;
        }
        Slot out = newSlot(output, outShape, op.outputDesc());
        out.def = program.size();
        for (Slot s : in) s.last = program.size();
        byName.put(output, out);
        scratchpadBytes = Math.max(scratchpadBytes, op.scratchpadBytes());
        explain.add("native  " + op.description() + label);
        program.add(new NativeInstr(op, in, out));
    }

    private Slot slot(String name) {
        Slot s = byName.get(name);
        if (s == null) throw new IllegalStateException("tensor '" + name + "' is read before it is computed");
        return s;
    }

    /** {@code s} in layout {@code desc}: itself, or a reordered copy (made once per layout). */
    private Slot inLayout(Slot s, MemorySegment desc) {
        if (desc == null || s.desc == null || MemoryDescs.equal(s.desc, desc)) return s;
        List<Slot> known = conversions.computeIfAbsent(s, k -> new ArrayList<>());
        for (Slot c : known) if (MemoryDescs.equal(c.desc, desc)) return c;
        NativeReorder reorder = new NativeReorder(s.desc, desc, s.name + " " + Tensor.format(s.shape));
        Slot c = newSlot(s.name, s.shape, MemoryDescs.clone(arena, desc));
        c.def = program.size();
        s.last = program.size();
        known.add(c);
        explain.add("reorder " + s.name + " " + Tensor.format(s.shape) + (MemoryDescs.equal(desc, plainDesc(s.shape)) ? " to plain" : " to the next op's layout"));
        program.add(new ReorderInstr(reorder, s, c));
        return c;
    }

    private Slot plain(Slot s) {
        return inLayout(s, plainDesc(s.shape));
    }

    private MemorySegment plainDesc(long[] shape) {
        // Rank 0 and empty tensors have no oneDNN descriptor: they live densely and only Java ops touch them.
        return shape.length == 0 || shape.length > 6 || Tensor.elementCount(shape) == 0 ? null : MemoryDescs.plain(arena, shape);
    }

    private Slot newSlot(String name, long[] shape, MemorySegment desc) {
        Slot s = new Slot(name, shape, desc);
        s.index = slots.size();
        slots.add(s);
        return s;
    }

    /** A plain slot of any element type (non-float ones hold a Java value per frame, no native memory). */
    private Slot newSlot(String name, long[] shape, DataType type) {
        Slot s = newSlot(name, shape, type == DataType.FLOAT ? plainDesc(shape) : null);
        s.type = type;
        if (type != DataType.FLOAT) s.bytes = Float.BYTES;   // held as a Java value, not in the frame's memory
        return s;
    }

    /**
     * Lifetimes, then storage: a sum post-op output takes over its residual's buffer if the residual
     * dies there; results live to the end; then groups are placed first-fit, largest first, so that two
     * groups share bytes only if their lifetimes do not overlap.
     */
    private void planMemory(boolean concatInPlace) {
        for (Slot r : results.values()) r.last = Integer.MAX_VALUE;
        for (Slot s : slots) if (s.last < s.def) s.last = s.def; // written but never read
        if (concatInPlace) placeConcatInputs();
        for (int i = 0; i < program.size(); i++) {
            if (program.get(i) instanceof NativeInstr ni && (ni.op().reusesInput() >= 0 || ni.op().sameBytesAsInput())) {
                boolean view = ni.op().sameBytesAsInput();
                int reused = view ? 0 : ni.op().reusesInput();
                Slot residual = ni.inputs()[reused];
                // Conv(r) + r: the primitive also reads the residual as its source, so it cannot write over it.
                boolean alsoSource = false;
                for (int k = 0; k < ni.inputs().length; k++) alsoSource |= k != reused && ni.inputs()[k].root() == residual.root();
                if (residual.last == i && residual.def >= 0 && !alsoSource && residual.root().bytes >= ni.output().bytes && !results.containsValue(residual)
                        && (view || MemoryDescs.equal(residual.desc, ni.output().desc)) && !residual.inView() && !ni.output().inView()) {
                    ni.output().sharesWith = residual.root();
                    if (view) views.add(i);
                }
            }
        }
        Map<Slot, long[]> groups = new LinkedHashMap<>(); // storage owner → {def, last, bytes}
        for (Slot s : slots) {
            long[] g = groups.computeIfAbsent(s.storage(), r -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 0});
            g[0] = Math.min(g[0], s.def);
            g[1] = Math.max(g[1], s.last);
            g[2] = Math.max(g[2], align(s.hostOffset() + s.bytes));
        }
        List<Map.Entry<Slot, long[]>> order = new ArrayList<>(groups.entrySet());
        order.sort(Comparator.comparingLong((Map.Entry<Slot, long[]> e) -> -e.getValue()[2]));
        List<long[]> placed = new ArrayList<>(); // {offset, bytes, def, last}
        for (Map.Entry<Slot, long[]> e : order) {
            long[] g = e.getValue();
            List<long[]> conflicts = new ArrayList<>();
            for (long[] p : placed) if (!(p[3] < g[0] || g[1] < p[2])) conflicts.add(p);
            conflicts.sort(Comparator.comparingLong(p -> p[0]));
            long offset = 0;
            for (long[] p : conflicts) {
                if (offset + g[2] <= p[0]) break;
                offset = Math.max(offset, p[0] + p[1]);
            }
            e.getKey().offset = offset;
            placed.add(new long[] {offset, g[2], g[0], g[1]});
            frameBytes = Math.max(frameBytes, offset + g[2]);
        }
        for (Slot s : slots) s.offset = s.storage().offset + s.hostOffset();
    }

    /**
     * Concat in place. At batch 1, in a layout whose channel blocks are outermost (plain NCHW, or
     * {@code nChw8c}/{@code nChw16c} with every part a whole number of blocks), channels {@code [c, c+k)} of a
     * 1×C×H×W tensor are the contiguous bytes {@code [c·H·W, (c+k)·H·W)·4}: a Concat's input is then
     * exactly a slice of its output. Each input slot becomes a view at that offset, so its producer writes
     * there and the Concat has nothing left to do. Concats are visited last first, so DenseNet's chain
     * (each layer concatenates all earlier features: every Concat's inputs are a prefix of the next one's)
     * lands in the block's last Concat, and the earlier Concats become prefix views of it. Anything that
     * does not fit (an input already placed elsewhere at another offset, a graph input, a repeated input,
     * batch > 1, other layouts) keeps its copying Concat.
     */
    private void placeConcatInputs() {
        List<Integer> order = new ArrayList<>(concatAxis.keySet());
        order.sort(Comparator.reverseOrder());
        for (int i : order) {
            NativeInstr concat = (NativeInstr) program.get(i);
            Slot out = concat.output();
            long[] offsets = channelSliceOffsets(concat, concatAxis.get(i));
            if (offsets == null) continue;
            Slot[] in = concat.inputs();
            boolean nonePlaced = true, allPlaced = true;
            for (Slot x : in) {
                boolean placed = x.viewOf != null;
                nonePlaced &= !placed;
                allPlaced &= placed;
            }
            if (nonePlaced) {
                for (int k = 0; k < in.length; k++) {
                    in[k].viewOf = out;
                    in[k].viewOffset = offsets[k];
                }
                out.hostsViews = true;
            } else if (allPlaced) {
                // Already written, in order, into one host (DenseNet's prefix): the output is that range of it.
                Slot host = in[0].host();
                long base = in[0].hostOffset() - offsets[0];
                boolean consistent = base >= 0;
                for (int k = 0; k < in.length && consistent; k++) consistent = in[k].host() == host && in[k].hostOffset() - offsets[k] == base;
                if (!consistent) continue;
                if (out.viewOf == null && !out.hostsViews && out != host) {
                    out.viewOf = host;
                    out.viewOffset = base;
                    host.hostsViews = true;
                } else if (!(out.host() == host && out.hostOffset() == base)) {
                    continue;
                }
            } else {
                continue;
            }
            inPlace.add(i);
            explain.set(i, explain.get(i) + " (in place: its inputs are written into their slices)");
        }
    }

    /**
     * Byte offset of each input inside the Concat's output when every input is a channel slice of it
     * (see {@link #placeConcatInputs}); null when not.
     */
    private long[] channelSliceOffsets(NativeInstr concat, int axis) {
        Slot out = concat.output();
        if (axis != 1 || out.shape.length != 4 || out.shape[0] != 1 || out.desc == null) return null;
        long plane = out.shape[2] * out.shape[3] * Float.BYTES;
        int[][] tags = {{dnnl_nchw(), 1}, {dnnl_nChw8c(), 8}, {dnnl_nChw16c(), 16}};
        for (int[] tag : tags) {
            if (!hasLayout(out, tag[0], tag[1])) continue;
            long[] offsets = new long[concat.inputs().length];
            Set<Slot> seen = new HashSet<>();
            long channel = 0;
            for (int k = 0; k < offsets.length; k++) {
                Slot x = concat.inputs()[k];
                if (x.def < 0 || !seen.add(x) || x.hostsViews || !hasLayout(x, tag[0], tag[1])) return null;
                offsets[k] = channel * plane;
                channel += x.shape[1];
            }
            return channel == out.shape[1] ? offsets : null;
        }
        return null;
    }

    /** {@code s} is 1×C×H×W in {@code tag} with C a whole number of {@code block}s (so no padding). */
    private boolean hasLayout(Slot s, int tag, int block) {
        return s.desc != null && s.shape.length == 4 && s.shape[0] == 1 && s.shape[1] % block == 0
                && MemoryDescs.equal(s.desc, MemoryDescs.create(arena, s.shape, tag));
    }

    private static long align(long bytes) {
        return (bytes + 63) & ~63L;
    }

    /**
     * A frame's native memory: its activations ({@code frameBytes}) and scratchpad, zeroed when allocated, so
     * their pages are faulted in then (on this VM ~11 µs a 4 KB page: DenseNet-121's 7.3 MB cost 20–40 ms).
     */
    private record FrameMemory(Arena arena, MemorySegment activations, MemorySegment scratchpad) {
        static FrameMemory allocate(long frameBytes, long scratchpadBytes) {
            Arena arena = Arena.ofShared();
            try {
                return new FrameMemory(arena, arena.allocate(Math.max(64, frameBytes), 64), arena.allocate(scratchpadBytes, 64));
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        }
    }

    /**
     * Allocates the first frame's memory now, unless a frame or its memory exists already: for the preparing
     * thread to do while it would otherwise only wait for the background work, so the first run does not fault
     * those pages in itself. The first run binds its primitives to this memory.
     */
    void reserveFrameMemory() {
        synchronized (idle) {
            if (closed || reserved != null || !frames.isEmpty()) return;
            reserved = FrameMemory.allocate(frameBytes, scratchpadBytes);
        }
    }

    /** One set of buffers and bound argument lists; used by one run at a time. */
    private final class Frame implements AutoCloseable {
        final Arena memory;
        final MemorySegment[] segments = new MemorySegment[slots.size()];
        final Value[] values = new Value[slots.size()];   // non-float slots: their current value
        final NativeOp.Bound[] bound = new NativeOp.Bound[program.size()];

        Frame(FrameMemory m) {
            memory = m.arena();
            try {
                MemorySegment base = m.activations();
                MemorySegment scratch = m.scratchpad();
                for (Slot s : slots) segments[s.index] = base.asSlice(s.offset, s.bytes);
                for (int i = 0; i < program.size(); i++) {
                    bound[i] = inPlace.contains(i) ? () -> {} : bind(program.get(i), scratch);
                    if (singleThreaded.contains(i)) bound[i] = onOneThread(bound[i]);
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private NativeOp.Bound bind(Instr instr, MemorySegment scratch) {
            return switch (instr) {
                case NativeInstr n -> {
                    MemorySegment[] in = new MemorySegment[n.inputs().length];
                    for (int k = 0; k < in.length; k++) in[k] = segments[n.inputs()[k].index];
                    yield n.op().bind(in, segments[n.output().index], scratch);
                }
                case ReorderInstr r -> {
                    Execution e = r.reorder().bind(segments[r.from().index], segments[r.to().index]);
                    yield new NativeOp.Bound() {
                        @Override public void run() { e.run(); }
                        @Override public void close() { e.close(); }
                    };
                }
                case JavaInstr j -> javaStep(j);
            };
        }

        /**
         * A Java kernel over tensors that view this frame's plain float slots (and the current values of its
         * non-float slots); its fresh float outputs are copied into their slots, non-float ones kept as values.
         */
        private NativeOp.Bound javaStep(JavaInstr j) {
            List<Value> args = new ArrayList<>();
            List<Integer> javaSlots = new ArrayList<>();   // argument positions read from values[] per run
            for (int k = 0; k < j.inputs().length; k++) {
                Object a = j.inputs()[k];
                if (a instanceof Slot s && s.type != DataType.FLOAT) {
                    args.add(null);
                    javaSlots.add(k);
                } else if (a instanceof Slot s) {
                    args.add(new Value.Floats(Tensor.wrap(segments[s.index].asSlice(0, Tensor.elementCount(s.shape) * Float.BYTES), s.shape)));
                } else {
                    args.add((Value) a);
                }
            }
            int[] fromValues = javaSlots.stream().mapToInt(Integer::intValue).toArray();
            List<Value> view = java.util.Collections.unmodifiableList(args);
            return () -> {
                for (int k : fromValues) args.set(k, values[((Slot) j.inputs()[k]).index]);
                List<Value> outs = j.step().run(view);
                try {
                    for (int k = 0; k < outs.size(); k++) {
                        Slot s = k < j.outputs().length ? j.outputs()[k] : null;
                        if (s == null) continue;
                        if (outs.get(k) instanceof Value.Floats f) {
                            MemorySegment.copy(f.tensor().segment(), 0, segments[s.index], 0, f.tensor().elementCount() * Float.BYTES);
                        } else {
                            values[s.index] = outs.get(k);
                        }
                    }
                } finally {
                    outs.forEach(OnnxValues::release);
                }
            };
        }

        /** Runs {@code b} with the calling thread's oneDNN threads set to 1, then back to the plan's. */
        private NativeOp.Bound onOneThread(NativeOp.Bound b) {
            return new NativeOp.Bound() {
                @Override public void run() {
                    Dnnl.setThreads(1);
                    try {
                        b.run();
                    } finally {
                        Dnnl.setThreads(threads);
                    }
                }
                @Override public void close() { b.close(); }
            };
        }

        void run() {
            for (NativeOp.Bound b : bound) b.run();
        }

        void run(long[] nanos) {
            for (int i = 0; i < bound.length; i++) {
                long t0 = System.nanoTime();
                bound[i].run();
                nanos[i] += System.nanoTime() - t0;
            }
        }

        @Override
        public void close() {
            for (NativeOp.Bound b : bound) if (b != null) b.close();
            memory.close();
        }
    }

    private Frame acquire() {
        FrameMemory memory;
        synchronized (idle) {
            if (closed) throw new IllegalStateException("plan is closed");
            active++;
            Frame f = idle.pollFirst();
            if (f != null) return f;
            memory = reserved;
            reserved = null;
        }
        try {
            Frame f = new Frame(memory != null ? memory : FrameMemory.allocate(frameBytes, scratchpadBytes));
            synchronized (idle) {
                frames.add(f);
            }
            return f;
        } catch (RuntimeException e) {
            release(null);
            throw e;
        }
    }

    /** Returns a frame; the last run to finish after {@link #close} releases everything. */
    private void release(Frame f) {
        synchronized (idle) {
            active--;
            if (f != null) idle.addFirst(f);
            if (closed && active == 0) destroy();
        }
    }

    /**
     * Runs the program: copies the inputs in, executes, and copies each result into {@code into.get(name)}
     * if given (it must have the result's shape), else into a new tensor. Returns the result tensors.
     */
    Map<String, Tensor> run(Map<String, Tensor> given, Map<String, Tensor> into) {
        Frame frame = acquire();
        try {
            copyInputs(given, frame);
            frame.run();
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Map.Entry<String, Slot> e : results.entrySet()) {
                Slot s = e.getValue();
                Tensor target = into != null ? into.get(e.getKey()) : null;
                if (s.type != DataType.FLOAT) {
                    Tensor t = Value.toTensor(frame.values[s.index]);
                    if (target == null) {
                        out.put(e.getKey(), t);
                    } else {
                        try (t) {
                            target.copyFrom(t);
                        }
                        out.put(e.getKey(), target);
                    }
                    continue;
                }
                if (target == null) {
                    target = Tensor.zeros(s.shape);
                } else if (!Arrays.equals(target.shape(), s.shape)) {
                    throw new IllegalArgumentException("output tensor for '" + e.getKey() + "' has shape " + Tensor.format(target.shape())
                            + ", the result has " + Tensor.format(s.shape));
                }
                MemorySegment.copy(frame.segments[s.index], 0, target.segment(), 0, Tensor.elementCount(s.shape) * Float.BYTES);
                out.put(e.getKey(), target);
            }
            return out;
        } finally {
            release(frame);
        }
    }

    private void copyInputs(Map<String, Tensor> given, Frame frame) {
        for (int i = 0; i < inputNames.length; i++) {
            Tensor t = given.get(inputNames[i]);
            if (t == null) throw new IllegalArgumentException("input '" + inputNames[i] + "' is needed but was not given");
            if (inputSlots[i].type != DataType.FLOAT) {
                frame.values[inputSlots[i].index] = Value.of(t);
                continue;
            }
            MemorySegment.copy(t.segment(), 0, frame.segments[inputSlots[i].index], 0, Tensor.elementCount(inputSlots[i].shape) * Float.BYTES);
        }
    }

    /** Same as {@link #run(Map, Map)} for callers that supply every output: allocates nothing. */
    void runInto(Map<String, Tensor> given, Map<String, Tensor> into) {
        Frame frame = acquire();
        try {
            copyInputs(given, frame);
            frame.run();
            for (int i = 0; i < resultNames.length; i++) {
                Tensor target = into.get(resultNames[i]);
                Slot s = resultSlots[i];
                if (target == null) throw new IllegalArgumentException("no output tensor given for '" + resultNames[i] + "'");
                if (target.elementCount() != Tensor.elementCount(s.shape) || target.rank() != s.shape.length || target.dtype() != s.type) {
                    throw new IllegalArgumentException("output tensor for '" + resultNames[i] + "' is " + target
                            + ", the result is " + s.type.onnxName() + Tensor.format(s.shape));
                }
                if (s.type != DataType.FLOAT) {
                    try (Tensor t = Value.toTensor(frame.values[s.index])) {
                        MemorySegment.copy(t.segment(), 0, target.segment(), 0, t.segment().byteSize());
                    }
                    continue;
                }
                MemorySegment.copy(frame.segments[s.index], 0, target.segment(), 0, Tensor.elementCount(s.shape) * Float.BYTES);
            }
        } finally {
            release(frame);
        }
    }

    /**
     * Runs the program {@code runs} times on {@code given} and returns the {@link #explain} lines with
     * each instruction's mean time, slowest first (for finding where a model's time goes).
     */
    List<String> profile(Map<String, Tensor> given, int runs) {
        long[] nanos = new long[program.size()];
        Frame frame = acquire();
        try {
            copyInputs(given, frame);
            frame.run(); // warm-up
            for (int r = 0; r < runs; r++) frame.run(nanos);
        } finally {
            release(frame);
        }
        long total = Arrays.stream(nanos).sum();
        Integer[] order = new Integer[nanos.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Long.compare(nanos[b], nanos[a]));
        List<String> lines = new ArrayList<>();
        for (int i : order) {
            lines.add(String.format(java.util.Locale.ROOT, "%9.3f ms %5.1f%%  %s", nanos[i] / 1e6 / runs, 100.0 * nanos[i] / Math.max(1, total), line(i)));
        }
        lines.add(String.format(java.util.Locale.ROOT, "%9.3f ms total per run (mean of %d)", total / 1e6 / runs, runs));
        return lines;
    }

    /** Names of the results this program computes. */
    Set<String> resultNames() {
        return results.keySet();
    }

    /** One line per instruction: what runs natively (with fusions and oneDNN's kernel), what reorders, what runs in Java. */
    List<String> explain() {
        List<String> lines = new ArrayList<>(explain.size());
        for (int i = 0; i < explain.size(); i++) lines.add(line(i));
        return lines;
    }

    /** Instruction {@code i} as {@code explain} shows it. */
    private String line(int i) {
        String line = views.contains(i) ? explain.get(i).replace(" (copy) ", " (view, no copy) ") : explain.get(i);
        return singleThreaded.contains(i) ? line + " [1 thread: too small to split]" : line;
    }

    /** Bytes of one frame's planned activation memory (without scratchpad). */
    /** Whether any instruction forks over the plan's threads (the others were judged too small to split). */
    boolean forksAny() {
        return threads > 1 && singleThreaded.size() < program.size();
    }

    long frameBytes() {
        return frameBytes;
    }

    /** Bytes of the scratchpad each frame holds. */
    long scratchpadBytes() {
        return scratchpadBytes;
    }

    /** Frames allocated so far (one per concurrent run), the memory reserved for the first one included. */
    int frameCount() {
        synchronized (idle) {
            return frames.size() + (reserved != null ? 1 : 0);
        }
    }

    /** Native bytes of the weights its primitives read, in their kernels' layouts (shared ones included). */
    long weightBytes() {
        long total = 0;
        for (Instr i : program) if (i instanceof NativeInstr n) total += n.op().weightBytes();
        return total;
    }

    /** Bytes the same tensors would need without sharing. */
    long unsharedBytes() {
        long total = 0;
        for (Slot s : slots) total += align(s.bytes);
        return total;
    }

    /** Releases the primitives and frames; idempotent. A run in progress finishes first (the last one releases). */
    @Override
    public void close() {
        synchronized (idle) {
            if (closed) return;
            closed = true;
            if (active == 0) destroy();
        }
    }

    private void destroy() {
        if (destroyed) return;
        destroyed = true;
        frames.forEach(Frame::close);
        frames.clear();
        idle.clear();
        if (reserved != null) reserved.arena().close();
        reserved = null;
        for (Instr i : program) {
            switch (i) {
                case NativeInstr n -> n.op().close();
                case ReorderInstr r -> r.reorder().close();
                case JavaInstr j -> j.step().close();
            }
        }
        arena.close();
    }
}
