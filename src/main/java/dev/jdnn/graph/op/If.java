package dev.jdnn.graph.op;

import static dev.jdnn.graph.op.Ops.*;

import dev.jdnn.DataType;
import dev.jdnn.Limits;
import dev.jdnn.Tensor;
import dev.jdnn.graph.Attributes;
import dev.jdnn.graph.Graph;
import dev.jdnn.graph.Node;
import dev.jdnn.graph.Optimizations;
import dev.jdnn.graph.Plan;
import dev.jdnn.graph.Subgraph;
import dev.jdnn.graph.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * If (opsets 1, 11, 13, 16, 19, 21: the versions differ only in the element types a branch may return):
 * {@code outputs = cond ? then_branch() : else_branch()}, the condition a bool tensor of one element, each
 * branch a {@link Subgraph} without inputs that reads tensors of the enclosing scopes by name (the importer
 * lists them as the node's inputs after the condition) and returns as many outputs as the node has, of the
 * same element types; their shapes may differ between the branches.
 *
 * <p>Two ways to run it:
 * <ul>
 *   <li>a condition known when the plan is prepared (a constant, shape arithmetic such as torchvision's
 *       "no boxes?" test on a shape, a value a data-dependent tail computed): the plan replaces the node by
 *       the chosen branch's nodes ({@link #inline}), which are then prepared, folded and compiled like any
 *       others, so a compiled plan stays native;</li>
 *   <li>a condition computed at run time: {@link #prepare} prepares both branches (each a node-by-node
 *       {@link Plan} of the node's backend) and the step runs the chosen one. When the branches' output
 *       shapes differ (or a branch's shapes depend on data), the output shape is only known at run time:
 *       {@link DataDependentException}, so a session specialises on a small graph input that decides it, or
 *       runs the node and what follows in its data-dependent tail, where the condition is known and the
 *       branch is inlined.</li>
 * </ul>
 */
public final class If implements Op {
    static void register(Registry.Table t) {
        t.add("If", 1, new If());
    }

    /** The node's then_branch (condition true) or else_branch, checked against the node. */
    static Subgraph branch(Node node, boolean condition) {
        String attribute = condition ? "then_branch" : "else_branch";
        Attributes at = node.attributes();
        if (!at.has(attribute)) throw error(node, "attribute " + attribute + " (a graph) is missing; attributes: " + at.names());
        Subgraph g;
        try {
            g = at.getGraph(attribute);
        } catch (IllegalArgumentException e) {
            throw error(node, e.getMessage());
        }
        if (!g.inputs().isEmpty()) throw error(node, attribute + " declares inputs " + g.inputs() + "; an If branch takes none (it reads outer-scope tensors by name)");
        if (g.outputs().size() != node.outputs().size()) {
            throw error(node, attribute + " returns " + g.outputs().size() + " outputs " + g.outputs() + ", the node has " + node.outputs().size());
        }
        return g;
    }

    /**
     * Each outer-scope name the node's branches read, mapped to the node input that holds it now (by
     * position: a plan may have renamed the tensors around the node since it was loaded).
     */
    static Map<String, String> outerBindings(Node node) {
        List<String> implicit = Subgraph.implicitInputs(node.attributes().graphs());
        int own = node.inputs().size() - implicit.size();
        if (own != 1) {
            throw error(node, "has " + node.inputs().size() + " inputs for a condition and " + implicit.size()
                    + " outer-scope tensors its branches read " + implicit + "; an If takes exactly one input, the condition");
        }
        Map<String, String> bindings = new LinkedHashMap<>();
        for (int k = 0; k < implicit.size(); k++) bindings.put(implicit.get(k), node.inputs().get(own + k));
        return bindings;
    }

    /** The condition's value, checked: a bool tensor of one element. */
    public static boolean condition(Node node, Value cond) {
        if (cond.type() != DataType.BOOL) throw error(node, "the condition is " + cond.type().onnxName() + ", it must be bool");
        if (!(cond instanceof Value.Longs l) || l.view().length != 1) {
            throw error(node, "the condition has shape " + Tensor.format(cond.shape()) + "; it must hold one element");
        }
        return l.view()[0] != 0;
    }

    private static void checkCondition(Node node, Inputs in) {
        long[] shape = in.require(0, node, "the condition");
        if (in.type(0) != DataType.BOOL) throw error(node, "the condition is " + in.type(0).onnxName() + ", it must be bool");
        long count = 1;
        for (long d : shape) count *= d;
        if (count != 1) throw error(node, "the condition has shape " + Tensor.format(shape) + "; it must hold one element");
    }

    /**
     * The chosen branch as nodes of the enclosing graph, for a condition known at prepare: the branch's
     * nodes reading the node's inputs where the branch names outer-scope tensors, then one Identity per
     * output from the branch's result to the node's output name. A tensor the branch defines keeps its name
     * unless {@code taken} (a name of the enclosing graph), in which case it gets the suffix {@code @<node>}
     * (ONNX lets a branch reuse a name of another scope).
     */
    public static List<Node> inline(Node node, Value cond, Predicate<String> taken) {
        dev.jdnn.graph.op.Arity.check(node);
        boolean which = condition(node, cond);
        Subgraph g = branch(node, which);
        Map<String, String> rename = new HashMap<>();
        Map<String, String> outer = outerBindings(node);
        for (String name : g.outerReferences()) rename.put(name, outer.get(name));
        Set<String> assigned = new HashSet<>();
        for (Node n : g.nodes()) {
            for (String o : n.outputs()) {
                if (o.isEmpty()) continue;
                String fresh = o;
                for (int k = 2; taken.test(fresh) || assigned.contains(fresh); k++) fresh = o + "@" + node.label() + (k > 2 ? "#" + k : "");
                assigned.add(fresh);
                rename.put(o, fresh);
            }
        }
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            List<String> inputs = n.inputs().stream().map(s -> s.isEmpty() ? s : rename.getOrDefault(s, s)).toList();
            List<String> outputs = n.outputs().stream().map(s -> s.isEmpty() ? s : rename.get(s)).toList();
            String label = n.name() == null || n.name().isEmpty() ? n.name() : n.name() + "@" + node.label();
            nodes.add(new Node(label, n.opType(), inputs, outputs, n.attributes()));
        }
        for (int i = 0; i < g.outputs().size(); i++) {
            String target = node.outputs().get(i);
            if (target.isEmpty()) continue;
            String source = rename.getOrDefault(g.outputs().get(i), g.outputs().get(i));
            nodes.add(new Node(node.label() + "/" + (which ? "then" : "else") + "/output" + i, "Identity", List.of(source), List.of(target), new Attributes(Map.of())));
        }
        return nodes;
    }

    @Override
    public Step prepare(Node node, Inputs in, Context ctx) {
        checkCondition(node, in);
        Map<String, String> outer = outerBindings(node);
        BranchPlan then = null, otherwise = null;
        try {
            then = BranchPlan.prepare(node, true, outer, in, ctx);
            otherwise = BranchPlan.prepare(node, false, outer, in, ctx);
            for (int i = 0; i < then.outputShapes.size(); i++) {
                long[] a = then.outputShapes.get(i), b = otherwise.outputShapes.get(i);
                if (then.outputTypes.get(i) != otherwise.outputTypes.get(i)) {
                    throw error(node, "output " + i + " is " + then.outputTypes.get(i).onnxName() + " from then_branch and "
                            + otherwise.outputTypes.get(i).onnxName() + " from else_branch; both branches must return the same element types");
                }
                if (!Arrays.equals(a, b)) {
                    throw new DataDependentException("If node " + node.label() + ": output " + i + " is " + Tensor.format(a) + " from then_branch and "
                            + Tensor.format(b) + " from else_branch, so its shape depends on the condition, which is computed when the model runs");
                }
            }
            BranchPlan t = then, e = otherwise;
            then = otherwise = null;
            return new Step() {
                @Override public List<long[]> outputShapes() { return t.outputShapes; }
                @Override public List<DataType> outputTypes() { return t.outputTypes; }
                @Override public List<Value> run(List<Value> inputs) {
                    return (condition(node, inputs.get(0)) ? t : e).run(inputs);
                }
                @Override public void close() {
                    t.plan.close();
                    e.plan.close();
                }
            };
        } finally {
            if (then != null) then.plan.close();
            if (otherwise != null) otherwise.plan.close();
        }
    }

    /**
     * One branch prepared as a plan of its own: the outer-scope tensors known at prepare are bound as
     * constants (copies the plan owns), the others are its graph inputs, fed from the node's inputs per run.
     */
    private record BranchPlan(Node node, Subgraph graph, Plan plan, List<String> runtimeNames, List<Integer> runtimeInputs,
                              List<long[]> outputShapes, List<DataType> outputTypes) {
        static BranchPlan prepare(Node node, boolean which, Map<String, String> outer, Inputs in, Context ctx) {
            Subgraph g = branch(node, which);
            List<String> implicit = new ArrayList<>(outer.keySet());
            Map<String, long[]> declared = new LinkedHashMap<>();
            Map<String, DataType> types = new LinkedHashMap<>();
            Map<String, Value> bound = new HashMap<>();
            List<String> runtimeNames = new ArrayList<>();
            List<Integer> runtimeInputs = new ArrayList<>();
            for (String name : g.outerReferences()) {
                int index = 1 + implicit.indexOf(name);
                if (in.isConstant(index)) {
                    bound.put(name, copy(in.constant(index)));
                } else {
                    declared.put(name, in.shape(index));
                    types.put(name, in.type(index));
                    runtimeNames.add(name);
                    runtimeInputs.add(index);
                }
            }
            Set<String> requested = new LinkedHashSet<>(g.outputs());
            Graph graph = new Graph(declared, g.outputs(), g.nodes(), Map.of(), types);
            Plan plan;
            try {
                plan = new Plan(graph, declared, bound, requested, ctx, Optimizations.none(), Limits.current());
            } catch (DataDependentException e) {
                throw new DataDependentException("If node " + node.label() + ": " + (which ? "then_branch" : "else_branch") + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw error(node, (which ? "then_branch" : "else_branch") + ": " + e.getMessage());
            }
            Map<String, long[]> shapes = plan.shapes();
            Map<String, DataType> outTypes = plan.types();
            List<long[]> outputShapes = new ArrayList<>();
            List<DataType> outputTypes = new ArrayList<>();
            for (String o : g.outputs()) {
                outputShapes.add(shapes.get(o));
                outputTypes.add(outTypes.get(o));
            }
            return new BranchPlan(node, g, plan, runtimeNames, runtimeInputs, outputShapes, outputTypes);
        }

        /** Runs the branch on the node's inputs; returns one new value per branch output (a repeated output is copied). */
        List<Value> run(List<Value> nodeInputs) {
            Map<String, Tensor> feed = new HashMap<>();
            List<Tensor> temporary = new ArrayList<>();
            try {
                for (int k = 0; k < runtimeNames.size(); k++) {
                    Value v = nodeInputs.get(runtimeInputs.get(k));
                    if (v == null) throw error(node, "outer-scope tensor '" + runtimeNames.get(k) + "' was not computed");
                    Tensor t;
                    if (v instanceof Value.Floats f) {
                        t = f.tensor();
                    } else {
                        t = Tensor.ofLongs(((Value.Longs) v).view(), v.type(), v.shape());
                        temporary.add(t);
                    }
                    feed.put(runtimeNames.get(k), t);
                }
                Map<String, Value> results = plan.run(feed);
                List<Value> outputs = new ArrayList<>();
                Set<String> handed = new HashSet<>();
                for (String o : graph.outputs()) outputs.add(handed.add(o) ? results.get(o) : copy(results.get(o)));
                return outputs;
            } finally {
                temporary.forEach(Tensor::close);
            }
        }
    }
}
