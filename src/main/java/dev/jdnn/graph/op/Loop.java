package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.Backend;
import dev.jdnn.DataType;
import dev.jdnn.Limits;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Plan;
import dev.jdnn.graph.Subgraph;
import dev.jdnn.graph.Value;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loop (opsets 1, 11, 13, 16, 19, 21; tensors only, no sequences or optionals): inputs {@code M} (trip count,
 * int64, optional), {@code cond} (bool, optional) and N loop-carried values; the {@code body} graph takes
 * (iteration number, condition, N carried values) and returns (condition, N carried values, K scan outputs);
 * the node returns the N final carried values and the K scan outputs stacked along a new first axis. The body
 * reads outer-scope tensors by name (the importer lists them as the node's inputs after its own).
 *
 * <p>How many times it runs, and so its output shapes, depend on values, so jdnn runs a Loop only where every
 * input is known when the plan is prepared: in a data-dependent tail (the usual place: Mask R-CNN's mask
 * pasting), or on small graph inputs a session specialises on. Elsewhere it is a {@link DataDependentException}.
 * Each iteration prepares the body as a Java plan bound to that iteration's values, which computes it while
 * preparing (node by node, If nodes inside inlined). With zero iterations a scan output, whose element shape
 * only an iteration would tell, is an empty float32 tensor of shape [0].
 */
public final class Loop implements Op {
    static void register(Registry.Table t) {
        t.add("Loop", 1, new Loop());
    }

    /** Iterations run before a Loop is refused (a trip count of 2^63 − 1 with a condition that stays true). */
    public static final long MAX_ITERATIONS = Long.getLong("jdnn.loop.maxIterations", 1_000_000L);

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        Subgraph body = node.attributes().has("body") ? graph(node) : null;
        if (body == null) throw error(node, "attribute body (a graph) is missing; attributes: " + node.attributes().names());
        List<String> implicit = Subgraph.implicitInputs(node.attributes().graphs());
        int own = node.inputs().size() - implicit.size();
        if (own < 2) throw error(node, "has " + own + " inputs; a Loop takes M, cond and the loop-carried values (M and cond may be empty names)");
        int carried = own - 2;
        if (body.inputs().size() != carried + 2) {
            throw error(node, "its body takes " + body.inputs().size() + " inputs " + body.inputs() + "; with " + carried
                    + " loop-carried values it must take " + (carried + 2) + " (iteration number, condition, the carried values)");
        }
        if (body.outputs().size() < carried + 1) {
            throw error(node, "its body returns " + body.outputs().size() + " outputs; it must return the condition and the " + carried + " carried values first");
        }
        int scans = body.outputs().size() - 1 - carried;
        if (node.outputs().size() > carried + scans) {
            throw error(node, "has " + node.outputs().size() + " outputs; its body gives " + carried + " carried values and " + scans + " scan outputs");
        }
        for (int i = 0; i < node.inputs().size(); i++) {
            if (!node.inputs().get(i).isEmpty() && !in.isConstant(i)) {
                throw new DataDependentException("Loop node " + node.label() + ": its input '" + node.inputs().get(i)
                        + "' is computed when the model runs; a Loop runs where all its inputs are known (the plan's data-dependent tail)");
            }
        }
        long trips = in.has(0) ? scalar(node, in.constant(0), DataType.INT64, "M (the trip count)") : Long.MAX_VALUE;
        boolean condition = !in.has(1) || scalar(node, in.constant(1), DataType.BOOL, "cond") != 0;
        Map<String, Value> outer = new HashMap<>();
        for (int k = 0; k < implicit.size(); k++) outer.put(implicit.get(k), in.constant(own + k));

        List<Value> state = new ArrayList<>();
        List<List<Value>> stacked = new ArrayList<>();
        for (int k = 0; k < scans; k++) stacked.add(new ArrayList<>());
        List<Value> outputs = new ArrayList<>();
        LoopBodies bound = LoopBodies.current();
        LoopBodies bodies = bound != null ? bound : new LoopBodies();
        Body iteration = new Body(node, body, outer, new Context(Backend.JAVA, ctx.opset()), bodies);
        try (iteration) {
            for (int j = 0; j < carried; j++) {
                if (!in.has(2 + j)) throw error(node, "loop-carried input " + j + " is omitted");
                state.add(copy(in.constant(2 + j)));
            }
            for (long i = 0; i < trips && condition; i++) {
                if (i >= MAX_ITERATIONS) {
                    throw error(node, "ran " + MAX_ITERATIONS + " iterations and its condition still holds (jdnn.loop.maxIterations)");
                }
                List<Value> carriedNow = new ArrayList<>(state);
                state.clear();
                List<Value> out = iteration.run(i, carriedNow);   // owns the carried values from here (frees or hands them on)
                condition = scalar(node, out.get(0), DataType.BOOL, "the body's condition output") != 0;
                for (int j = 0; j < carried; j++) state.add(out.get(1 + j));
                for (int k = 0; k < scans; k++) stacked.get(k).add(out.get(1 + carried + k));
            }
            outputs.addAll(state);
            state.clear();
            for (int k = 0; k < scans; k++) outputs.add(stack(node, k, stacked.get(k)));
        } catch (RuntimeException e) {
            outputs.forEach(Loop::release);
            throw e;
        } finally {
            state.forEach(Loop::release);
            stacked.forEach(list -> list.forEach(Loop::release));
            if (bound == null) bodies.close();
        }
        List<Value> results = outputs.subList(0, Math.min(outputs.size(), node.outputs().size()));
        for (Value extra : outputs.subList(results.size(), outputs.size())) release(extra);
        List<long[]> shapes = results.stream().map(Value::shape).toList();
        List<DataType> types = results.stream().map(Value::type).toList();
        List<Value> kept = List.copyOf(results);
        return new Step() {
            @Override public List<long[]> outputShapes() { return shapes; }
            @Override public List<DataType> outputTypes() { return types; }
            @Override public List<Value> run(List<Value> inputs) {
                return kept.stream().map(Ops::copy).toList();
            }
            @Override public void close() {
                kept.forEach(Loop::release);
            }
        };
    }

    /**
     * The iterations of one Loop execution. An iteration runs a plan of the body prepared for its inputs' shapes
     * (taken from {@link LoopBodies}, prepared once per signature, the iteration number, condition, carried values
     * and outer-scope tensors fed as its inputs), unless the body needs its input values to be prepared (its
     * output shapes depend on them); then a plan bound to that iteration's values computes it while preparing.
     */
    private static final class Body implements AutoCloseable {
        private final Node node;
        private final Subgraph body;
        private final Map<String, Value> outer;   // borrowed from the enclosing plan
        private final Context java;
        private final LoopBodies bodies;
        private final Set<String> requested;
        private final Map<String, Tensor> outerFeed = new HashMap<>();   // outer tensors as plan inputs, integer ones converted once
        private final List<Tensor> converted = new ArrayList<>();

        Body(Node node, Subgraph body, Map<String, Value> outer, Context java, LoopBodies bodies) {
            this.node = node;
            this.body = body;
            this.outer = outer;
            this.java = java;
            this.bodies = bodies;
            this.requested = new LinkedHashSet<>(body.outputs());
        }

        /** Iteration {@code i} on {@code carried} (owned by this call): the body's outputs in order, owned by the caller. */
        List<Value> run(long i, List<Value> carried) {
            Map<String, Value> inputs = new LinkedHashMap<>();
            inputs.put(body.inputs().get(0), Value.Longs.scalar(i));
            inputs.put(body.inputs().get(1), new Value.Longs(DataType.BOOL, new long[0], new long[] {1}));
            for (int j = 0; j < carried.size(); j++) inputs.put(body.inputs().get(2 + j), carried.get(j));
            Map<String, Value> results;
            try {
                results = bodies.valueDependent(node) ? null : runPrepared(inputs);
            } catch (RuntimeException e) {
                carried.forEach(Loop::release);
                throw e;
            }
            if (results == null) results = runBound(i, inputs);
            else carried.forEach(Loop::release);
            Set<String> taken = new HashSet<>();
            List<Value> out = new ArrayList<>();
            for (String name : body.outputs()) out.add(taken.add(name) ? results.get(name) : copy(results.get(name)));
            return out;
        }

        /** Runs the body's plan for these inputs' shapes (prepared now if no earlier iteration or run left one); null if it needs their values. */
        private Map<String, Value> runPrepared(Map<String, Value> inputs) {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            Map<String, DataType> types = new LinkedHashMap<>();
            StringBuilder signature = new StringBuilder();
            Map<String, Value> all = new LinkedHashMap<>(inputs);
            outer.forEach(all::putIfAbsent);
            all.forEach((name, v) -> {
                shapes.put(name, v.shape());
                types.put(name, v.type());
                signature.append(name).append(':').append(v.type().onnxName()).append(Arrays.toString(v.shape())).append(';');
            });
            String key = signature.toString();
            Plan plan = bodies.take(node, key);
            if (plan == null) {
                try {
                    plan = new Plan(new Graph(shapes, body.outputs(), body.nodes(), Map.of(), types), shapes, Map.of(), requested, java,
                            Optimizations.none(), Limits.current());
                } catch (DataDependentException e) {
                    bodies.markValueDependent(node);
                    return null;
                } catch (IllegalArgumentException e) {
                    throw error(node, "its body: " + e.getMessage());
                }
                bodies.counted();
            }
            Map<String, Tensor> feed = new HashMap<>();
            List<Tensor> temporary = new ArrayList<>();
            try {
                inputs.forEach((name, v) -> feed.put(name, tensor(v, temporary)));
                for (String name : outer.keySet()) {
                    if (!inputs.containsKey(name)) feed.put(name, outerFeed.computeIfAbsent(name, n -> tensor(outer.get(n), converted)));
                }
                return plan.run(feed);
            } finally {
                temporary.forEach(Tensor::close);
                bodies.give(node, key, plan);
            }
        }

        /** Prepares the body for this iteration's values (all known, so preparing computes it) and returns its outputs. */
        private Map<String, Value> runBound(long i, Map<String, Value> inputs) {
            Map<String, Value> bound = new HashMap<>(inputs);   // the plan owns the carried values now
            outer.forEach((name, v) -> bound.putIfAbsent(name, copy(v)));
            Graph graph = new Graph(Map.of(), body.outputs(), body.nodes(), Map.of());
            try (Plan plan = new Plan(graph, Map.of(), bound, requested, java, Optimizations.none(), Limits.current())) {
                return plan.run(Map.of());
            } catch (DataDependentException e) {
                throw error(node, "iteration " + i + " of its body: " + e.getMessage());
            }
        }

        /** {@code v} as a plan input: a float value's own tensor, an integer one converted into a tensor added to {@code owned}. */
        private static Tensor tensor(Value v, List<Tensor> owned) {
            if (v instanceof Value.Floats f) return f.tensor();
            Value.Longs l = (Value.Longs) v;
            Tensor t = Tensor.ofLongs(l.view(), l.type(), l.shape());
            owned.add(t);
            return t;
        }

        @Override
        public void close() {
            converted.forEach(Tensor::close);
            converted.clear();
        }
    }

    private static Subgraph graph(Node node) {
        try {
            return node.attributes().getGraph("body");
        } catch (IllegalArgumentException e) {
            throw error(node, e.getMessage());
        }
    }

    /** The one element of a scalar (or one-element) input of type {@code type}. */
    private static long scalar(Node node, Value v, DataType type, String what) {
        if (v.type() != type || !(v instanceof Value.Longs l) || l.view().length != 1) {
            throw error(node, what + " must be one " + type.onnxName() + ", got " + v.type().onnxName() + " of shape " + Tensor.format(v.shape()));
        }
        return l.view()[0];
    }

    /** Scan output {@code k}: the iterations' values stacked along a new first axis (all of one shape and type). */
    private static Value stack(Node node, int k, List<Value> values) {
        if (values.isEmpty()) return new Value.Floats(Tensor.zeros(0));
        long[] shape = values.get(0).shape();
        DataType type = values.get(0).type();
        for (int i = 1; i < values.size(); i++) {
            if (!Arrays.equals(shape, values.get(i).shape()) || values.get(i).type() != type) {
                throw error(node, "scan output " + k + " is " + type.onnxName() + " " + Tensor.format(shape) + " in iteration 0 and "
                        + values.get(i).type().onnxName() + " " + Tensor.format(values.get(i).shape()) + " in iteration " + i + "; they must agree");
            }
        }
        long[] out = new long[shape.length + 1];
        out[0] = values.size();
        System.arraycopy(shape, 0, out, 1, shape.length);
        Limits.current().checkTensor("Loop node " + node.label() + ": scan output " + k, out, type);
        if (type == DataType.FLOAT) {
            Tensor t = Tensor.zeros(out);
            long bytes = 0;
            for (Value v : values) {
                MemorySegment src = ((Value.Floats) v).tensor().segment();
                long size = ((Value.Floats) v).tensor().elementCount() * Float.BYTES;
                MemorySegment.copy(src, 0, t.segment(), bytes, size);
                bytes += size;
            }
            return new Value.Floats(t);
        }
        int each = values.get(0) instanceof Value.Longs l ? l.view().length : 0;
        long[] data = new long[Math.multiplyExact(each, values.size())];
        for (int i = 0; i < values.size(); i++) System.arraycopy(((Value.Longs) values.get(i)).view(), 0, data, i * each, each);
        return new Value.Longs(type, out, data);
    }

    private static void release(Value v) {
        if (v instanceof Value.Floats f) f.tensor().close();
    }
}
